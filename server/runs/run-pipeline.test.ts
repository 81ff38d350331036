// Real photos through the real converted models (npm run setup makes them; `npm test` runs it first).
import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { wholeImageGraph } from "../../fixtures/graphs";
import { PHOTO_NAMES, photoPath } from "../../fixtures/photos";
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

/**
 * The ncnn families tiled (chunk -> generate -> stitch, cosine blend) against the whole image in one inference,
 * each with the overlap it needs. Their own programs pad every tile too (reflect or replicate, baked into the
 * graph here), so a tile's border pixels are the program's, and the overlap hides them. How far a border
 * reaches into a tile (RMS error of a tile against the whole image, by distance from the tile's edge, 8-bit):
 * SRVGGNetCompact (animevideov3) < 0.05 after 16 px, UpConv7 0.1 after 8 px, RRDBNet (x4plus) 1 at 32 px, 0.2
 * at 48 px. Real-CUGAN and waifu2x CUNet have squeeze-excite blocks: a global average over the tile gates every
 * channel, so a tile differs from the whole image everywhere (0.6 and 0.15 LSB RMS) and no overlap makes it
 * vanish; their programs' tiles differ from their whole image as much unless they sync those averages across
 * tiles (realcugan-ncnn-vulkan -c 1, "syncgap": 53 dB; -c 0: 40.3 dB; the default -c 3: 41.2 dB, with 64 px tiles
 * on a 112 px crop). With 128 px tiles CUNet x2 still passes 50 dB; CUNet x1 (47 dB) and Real-CUGAN (45 dB) are
 * held to what they give, not to 50 dB, until the generate node syncs those averages across tiles as the
 * programs' -c 1 does.
 */
const SEAM_CASES: { model: string; width: number; height: number; tileSize: number; overlap: number; minDb: number }[] = [
  { model: "realesr-animevideov3-x4", width: 112, height: 112, tileSize: 64, overlap: 16, minDb: 50 },
  { model: "realesr-animevideov3-x2", width: 112, height: 112, tileSize: 64, overlap: 16, minDb: 50 },
  { model: "waifu2x-upconv7-noise1-x2", width: 112, height: 112, tileSize: 64, overlap: 16, minDb: 50 },
  // RRDBNet reaches far: one seam (a strip) keeps the test short; two 128 px tiles on 160 px overlap by 96 px
  // (48 px of context each side of the seam; the chunk node's overlap is a minimum, at most half the tile).
  { model: "realesrgan-x4plus", width: 160, height: 64, tileSize: 128, overlap: 48, minDb: 50 },
  { model: "realesrgan-x4plus-anime", width: 160, height: 64, tileSize: 128, overlap: 48, minDb: 50 },
  { model: "waifu2x-cunet-noise0-x2", width: 224, height: 224, tileSize: 128, overlap: 16, minDb: 50 },
  // Squeeze-excite: no overlap closes the gap (see above).
  { model: "waifu2x-cunet-noise1", width: 224, height: 224, tileSize: 128, overlap: 16, minDb: 45 },
  { model: "realcugan-up2x-conservative", width: 224, height: 224, tileSize: 128, overlap: 16, minDb: 42 },
];

for (const { model, width, height, tileSize, overlap, minDb } of SEAM_CASES) {
  test(`${model}: tiled (${tileSize} px, overlap ${overlap}) matches the whole image, >= ${minDb} dB`, async (t) => {
    const input = await sharp(photoPath("chelsea.png")).extract({ left: 150, top: 40, width, height }).png().toBuffer();
    const overrides = [
      { nodeId: "generate", param: "model", value: model },
      { nodeId: "chunk", param: "tileSize", value: tileSize },
      { nodeId: "chunk", param: "overlap", value: overlap },
    ];
    const tiled = await runPipeline(findTemplate("x4-chunked")!.graph, { inference, inputs: { input }, overrides });
    const whole = await runPipeline(wholeImageGraph(model), { inference, inputs: { input } });
    const [a, b] = await Promise.all([decodeImage(tiled.outputs[0].bytes), decodeImage(whole.outputs[0].bytes)]);
    assert.deepEqual([a.image.width, a.image.height], [b.image.width, b.image.height]);
    const psnr = rgbPsnr(a.image.data, b.image.data);
    t.diagnostic(`${model}: tiled vs whole ${psnr.toFixed(2)} dB`);
    assert.ok(psnr >= minDb, `${model} tiled vs whole: ${psnr.toFixed(2)} dB`);
  });
}

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
