// Real photos through the real converted models (npm run setup makes them; `npm test` runs it first).
import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { wholeImageGraph } from "../../fixtures/graphs";
import { photoPath, PHOTO_NAMES } from "../../fixtures/photos";
import type { Graph } from "../../nodes/graph/schema";
import { GraphValidationError } from "../../nodes/graph/validate";
import { findTemplate } from "../../nodes/templates/index";
import { decodeImage } from "../images/codec";
import { InferenceService } from "../inference/inference-service";
import { runPipeline } from "./run-pipeline";

const inference = new InferenceService();

async function crop(name: string, left: number, top: number, size: number): Promise<Buffer> {
  return sharp(photoPath(name)).extract({ left, top, width: size, height: size }).png().toBuffer();
}

function rgbPsnr(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return 10 * Math.log10(1 / (sum / a.length));
}

test("tiled x4 output matches the whole-image output (no seams) with the default overlap", async () => {
  const input = await crop("chelsea.png", 150, 60, 176);
  const tiled = await runPipeline(findTemplate("x4-chunked")!.graph, { inference, inputs: { input } });
  const whole = await runPipeline(wholeImageGraph("esrgan-thick-x4"), { inference, inputs: { input } });
  const [a, b] = await Promise.all([decodeImage(tiled.outputs[0].bytes), decodeImage(whole.outputs[0].bytes)]);
  assert.deepEqual([a.image.width, a.image.height], [704, 704]);
  const psnr = rgbPsnr(a.image.data, b.image.data);
  assert.ok(psnr >= 50, `tiled vs whole: ${psnr.toFixed(2)} dB`);
});

test("eval-x4: thick x4 beats bicubic on real photos by at least 0.8 dB Y-PSNR on average", async () => {
  const gains: string[] = [];
  let total = 0;
  for (const name of PHOTO_NAMES) {
    const result = await runPipeline(findTemplate("eval-x4")!.graph, { inference, inputs: { input: photoPath(name) } });
    const sr = result.metrics.find((m) => m.label === "esrgan-thick-x4")!;
    const bicubic = result.metrics.find((m) => m.label === "bicubic")!;
    assert.ok(sr.ssim > 0.5 && sr.ssim <= 1, `${name} SSIM ${sr.ssim}`);
    total += sr.psnr - bicubic.psnr;
    gains.push(`${name}: ${bicubic.psnr.toFixed(2)} -> ${sr.psnr.toFixed(2)} dB`);
  }
  const mean = total / PHOTO_NAMES.length;
  console.log(`eval-x4 Y-PSNR (bicubic -> thick x4):\n  ${gains.join("\n  ")}\n  mean gain ${mean.toFixed(2)} dB`);
  assert.ok(mean >= 0.8, `mean gain ${mean.toFixed(2)} dB`);
});

test("x8-twice and x16-loop reach x8 and x16 on a real photo", async () => {
  const input = await crop("coffee.png", 200, 120, 48);
  const twice = await runPipeline(findTemplate("x8-twice")!.graph, { inference, inputs: { input } });
  assert.deepEqual([twice.outputs[0].width, twice.outputs[0].height], [384, 384]);
  const loop = await runPipeline(findTemplate("x16-loop")!.graph, { inference, inputs: { input: await crop("coffee.png", 200, 120, 24) } });
  assert.deepEqual([loop.outputs[0].width, loop.outputs[0].height], [384, 384]);
  assert.deepEqual(loop.nodes.find((n) => n.id === "generate")!.runs, 2);
  const decoded = await decodeImage(loop.outputs[0].bytes);
  const mean = decoded.image.data.reduce((sum, v) => sum + v, 0) / decoded.image.data.length;
  assert.ok(mean > 0.05 && mean < 0.95, `output is an image, not a flat field (mean ${mean})`);
});

test("bad input is a clear error and produces no output", async () => {
  await assert.rejects(
    runPipeline(findTemplate("x4-chunked")!.graph, { inference, inputs: { input: Buffer.from("not an image at all") } }),
    /node "load" \(load-image\): input "input": not a readable image/,
  );
  await assert.rejects(
    runPipeline(findTemplate("x4-chunked")!.graph, { inference, inputs: { input: photoPath("chelsea.png") }, overrides: [{ nodeId: "chunk", param: "tileSize", value: 5 }] }),
    (error: unknown) => error instanceof GraphValidationError && /node "chunk": param tileSize/.test(error.message),
  );
  const truncated = (await sharp(photoPath("astronaut.png")).png().toBuffer()).subarray(0, 5000);
  await assert.rejects(
    runPipeline(findTemplate("x4-chunked")!.graph, { inference, inputs: { input: truncated } }),
    /corrupt or truncated|not a readable image/,
  );
  await assert.rejects(
    runPipeline(findTemplate("x4-chunked")!.graph, { inference, inputs: { input: photoPath("astronaut.png") }, maxPixels: 100_000 }),
    /512x512 is 0\.3 MP, over the limit of 0\.1 MP/,
  );
});

test("a missing execution provider falls back to CPU with a note, or fails clearly when asked to", async () => {
  const input = await crop("rocket.jpg", 300, 100, 32);
  const overrides = (onMissingProvider: string) => [
    { nodeId: "generate", param: "model", value: "esrgan-slim-x4" },
    { nodeId: "generate", param: "provider", value: "cuda" },
    { nodeId: "generate", param: "onMissingProvider", value: onMissingProvider },
  ];
  const logs: string[] = [];
  const result = await runPipeline(findTemplate("x4-chunked")!.graph, {
    inference: new InferenceService(),
    inputs: { input },
    overrides: overrides("fallback-cpu"),
    onEvent: (event) => event.type === "node-log" && logs.push(event.message),
  });
  assert.deepEqual([result.outputs[0].width, result.outputs[0].height], [128, 128]);
  assert.ok(logs.some((m) => /execution provider "cuda" is not available on this machine .*running esrgan-slim-x4 on CPU/.test(m)), logs.join("\n"));
  await assert.rejects(
    runPipeline(findTemplate("x4-chunked")!.graph, { inference: new InferenceService(), inputs: { input }, overrides: overrides("error") }),
    /node "generate" \(generate\): execution provider "cuda" is not available on this machine/,
  );
});

test("degrade (Real-ESRGAN) through the engine: the same seed gives the same bytes, another seed others", async () => {
  const graph = (seed: number): Graph => ({
    version: 1,
    nodes: [
      { id: "load", type: "load-image", params: {}, position: { x: 0, y: 0 } },
      { id: "degrade", type: "degrade", params: { mode: "realesrgan", scale: 4, seed }, position: { x: 240, y: 0 } },
      { id: "save", type: "save-image", params: {}, position: { x: 480, y: 0 } },
    ],
    edges: [
      { id: "a", source: "load", sourceHandle: "image", target: "degrade", targetHandle: "image" },
      { id: "b", source: "degrade", sourceHandle: "image", target: "save", targetHandle: "image" },
    ],
  });
  const input = await crop("astronaut.png", 100, 100, 256);
  const run = async (seed: number) => {
    const logs: string[] = [];
    const result = await runPipeline(graph(seed), { inference, inputs: { input }, onEvent: (e) => e.type === "node-log" && logs.push(e.message) });
    return { output: result.outputs[0], logs };
  };
  const [first, again, other] = [await run(7), await run(7), await run(8)];
  assert.deepEqual([first.output.width, first.output.height], [64, 64]);
  assert.ok(first.output.bytes.equals(again.output.bytes), "same seed, same bytes");
  assert.ok(!first.output.bytes.equals(other.output.bytes), "another seed, other bytes");
  assert.match(first.logs.join("\n"), /jpeg q\d+/, "the trace of what was drawn is logged");
});
