import assert from "node:assert/strict";
import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import { photoPath } from "../../fixtures/photos";
import { decodeImage } from "../images/codec";
import { installedPackage, TFJS_BUILTIN_MODELS } from "./builtin";
import { modelFilePath, type ModelManifestEntry, readModelManifest, writeModelManifest } from "./manifest";
import { plannedBuiltinModels, setupModels } from "./setup";

// Converts into the real models folder once (a no-op after `npm run setup`), as the app would use it.
const manifest = await setupModels();

function entryFor(id: string): ModelManifestEntry {
  const entry = manifest.models.find((candidate) => candidate.id === id);
  assert.ok(entry, `${id} is in the manifest`);
  return entry;
}

function session(entry: ModelManifestEntry): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelFilePath(entry), { intraOpNumThreads: 2, graphOptimizationLevel: "all" });
}

/** Runs a model on interleaved 8-bit RGB and returns interleaved 8-bit RGB, rounded and clamped. */
async function upscale8(
  model: ort.InferenceSession,
  rgb: Uint8Array,
  width: number,
  height: number,
  [low, high]: [number, number],
): Promise<{ rgb: Uint8Array; dims: readonly number[] }> {
  const plane = width * height;
  const input = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) input[c * plane + i] = low + (rgb[i * 3 + c] / 255) * (high - low);
  }
  const result = await model.run({ input: new ort.Tensor("float32", input, [1, 3, height, width]) });
  const output = result.output.data as Float32Array;
  const outPlane = output.length / 3;
  const out = new Uint8Array(output.length);
  for (let i = 0; i < outPlane; i++) {
    for (let c = 0; c < 3; c++) {
      const value = Math.round(((output[c * outPlane + i] - low) / (high - low)) * 255);
      out[i * 3 + c] = Math.min(255, Math.max(0, value));
    }
  }
  return { rgb: out, dims: result.output.dims };
}

/** Interleaved 8-bit RGB of an image file, alpha dropped. */
async function readRgb8(file: string): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const { image } = await decodeImage(file);
  const plane = image.width * image.height;
  const rgb = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(image.data[c * plane + i] * 255);
  }
  return { rgb, width: image.width, height: image.height };
}

function psnr8(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let squared = 0;
  for (let i = 0; i < a.length; i++) squared += (a[i] - b[i]) ** 2;
  return squared === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / squared);
}

for (const model of TFJS_BUILTIN_MODELS) {
  test(`${model.id} reproduces ${model.package}'s own sample`, async (t) => {
    const entry = entryFor(model.id);
    const pkg = installedPackage(model.package);
    const fixture = await readRgb8(path.join(pkg.dir, model.sample.input));
    const expected = await readRgb8(path.join(pkg.dir, model.sample.result));
    const { rgb, dims } = await upscale8(await session(entry), fixture.rgb, fixture.width, fixture.height, model.sample.valueRange);
    assert.deepEqual(dims, [1, 3, fixture.height * model.scale, fixture.width * model.scale]);
    assert.deepEqual([expected.width, expected.height], [fixture.width * model.scale, fixture.height * model.scale]);
    const db = psnr8(rgb, expected.rgb);
    t.diagnostic(`PSNR vs sample: ${db.toFixed(2)} dB`);
    assert.ok(db >= 80, `${model.id}: ${db.toFixed(2)} dB vs the package sample`);
  });
}

test("psnr-small is sharper on real photos with 0..1 input than with the 0..255 UpscalerJS declares", async (t) => {
  const model = await session(entryFor("psnr-small-x2"));
  const gains: number[] = [];
  for (const name of ["astronaut.png", "chelsea.png", "coffee.png", "grace_hopper.jpg", "rocket.jpg"]) {
    const crop = sharp(photoPath(name)).removeAlpha().extract({ left: 0, top: 0, width: 256, height: 256 });
    const original = new Uint8Array(await crop.clone().raw().toBuffer());
    const small = new Uint8Array(await crop.clone().resize(128, 128, { kernel: "cubic" }).raw().toBuffer());
    const unit = psnr8((await upscale8(model, small, 128, 128, [0, 1])).rgb, original);
    const bytes = psnr8((await upscale8(model, small, 128, 128, [0, 255])).rgb, original);
    t.diagnostic(`${name}: 0..1 ${unit.toFixed(2)} dB, 0..255 ${bytes.toFixed(2)} dB`);
    gains.push(unit - bytes);
  }
  const meanGain = gains.reduce((sum, gain) => sum + gain, 0) / gains.length;
  assert.ok(meanGain > 0.2, `mean gain of 0..1 over 0..255: ${meanGain.toFixed(2)} dB`);
  assert.deepEqual(entryFor("psnr-small-x2").valueRange, [0, 1]);
});

test("every graph is NCHW with symbolic sizes and holds exactly the package's weights", async () => {
  const { onnx } = onnxProto;
  for (const model of TFJS_BUILTIN_MODELS) {
    const entry = entryFor(model.id);
    const graph = onnx.ModelProto.decode(await readFile(modelFilePath(entry))).graph;
    assert.ok(graph?.node && graph.initializer && graph.input && graph.output);
    const initializerSize = graph.initializer.reduce((sum, tensor) => sum + tensor.dims!.reduce<number>((n, d) => n * Number(d), 1), 0);
    const modelJson = JSON.parse(await readFile(path.join(installedPackage(model.package).dir, model.modelPath), "utf8"));
    const weightSize = (modelJson.weightsManifest as { weights: { shape: number[] }[] }[])
      .flatMap((group) => group.weights)
      .reduce((sum, weight) => sum + weight.shape.reduce((n, d) => n * d, 1), 0);
    assert.equal(initializerSize, weightSize, `${model.id}: initializers vs model.json weights`);
    assert.equal(entry.parameterCount, weightSize, `${model.id}: manifest parameterCount`);

    assert.ok(!graph.node.some((node) => node.opType === "Transpose"), `${model.id} has no transposes`);
    const dims = (value: onnxProto.onnx.IValueInfoProto) =>
      value.type!.tensorType!.shape!.dim!.map((dim) => dim.dimParam || Number(dim.dimValue));
    assert.deepEqual(graph.input.map((value) => value.name), ["input"]);
    assert.deepEqual(graph.output.map((value) => value.name), ["output"]);
    assert.deepEqual(dims(graph.input[0]), ["N", 3, "H", "W"]);
    assert.deepEqual(dims(graph.output[0]), ["N", 3, `H*${model.scale}`, `W*${model.scale}`]);
  }
});

test("setup is idempotent, keeps uploaded models and repairs a changed file", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tudsr-models-"));
  try {
    await assert.rejects(readModelManifest(dir), /run `npm run setup`/);
    const upload: ModelManifestEntry = {
      ...entryFor("esrgan-slim-x2"),
      id: "my-upload",
      title: "My upload",
      file: "my-upload.onnx",
      source: { upload: "my-upload.onnx" },
      builtIn: false,
    };
    await writeModelManifest({ version: 1, converter: "older", models: [upload] }, dir);

    const lines: string[] = [];
    // int8 variants are their own test's (int8.test.ts): a scratch folder would quantize every model again.
    const env = { ...process.env, TUDSR_INT8: "off" };
    const first = await setupModels({ dir, env, log: (line) => lines.push(line) });
    const planned = plannedBuiltinModels().models;
    assert.deepEqual(first.models.map((entry) => entry.id), [...planned.map((model) => model.id), "my-upload"]);
    assert.equal(lines.filter((line) => line.includes("converted")).length, planned.length);
    assert.deepEqual(await readModelManifest(dir), first);

    lines.length = 0;
    await appendFile(modelFilePath(entryFor("esrgan-slim-x4"), dir), "x");
    const second = await setupModels({ dir, env, log: (line) => lines.push(line) });
    assert.deepEqual(
      lines.filter((line) => line.includes("converted")).map((line) => line.split(" ")[0]),
      ["esrgan-slim-x4"],
      lines.join("\n"),
    );
    assert.deepEqual(second, first);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
