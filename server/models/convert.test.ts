import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFile, copyFile, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import { photoPath } from "../../fixtures/photos";
import { decodeImage } from "../images/codec";
import { TFJS_BUILTIN_MODELS, installedPackage } from "./builtin";
import { type ModelManifestEntry, modelFilePath, readModelManifest, writeModelManifest } from "./manifest";
import { plannedBuiltinModels, setupModels } from "./setup";
import { ModelConversionError, convertTfjsLayersModel } from "./tfjs-to-onnx";

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

/** A copy of esrgan-slim x2 (small) in a temp folder; `edit` changes its model.json or returns replacement text. */
async function editedSlimModel(edit: (json: any) => void | string): Promise<{ modelJson: string; dir: string }> {
  const source = path.join(installedPackage("@upscalerjs/esrgan-slim").dir, "models/x2");
  const dir = await mkdtemp(path.join(os.tmpdir(), "tudsr-model-"));
  const json = JSON.parse(await readFile(path.join(source, "model.json"), "utf8"));
  for (const group of json.weightsManifest) {
    for (const shard of group.paths) await copyFile(path.join(source, shard), path.join(dir, shard));
  }
  const edited = edit(json);
  const modelJson = path.join(dir, "model.json");
  await writeFile(modelJson, edited ?? JSON.stringify(json));
  return { modelJson, dir };
}

async function assertConversionFails(edit: (json: any) => void | string, message: RegExp): Promise<void> {
  const { modelJson, dir } = await editedSlimModel(edit);
  try {
    await assert.rejects(convertTfjsLayersModel(modelJson), (error: Error) => {
      assert.ok(error instanceof ModelConversionError, `${error.name}: ${error.message}`);
      assert.match(error.message, message);
      assert.ok(error.message.includes(modelJson), `"${error.message}" names the file`);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const layerNamed = (json: any, name: string) => json.modelTopology.model_config.config.layers.find((layer: any) => layer.name === name);

test("the converter names what it cannot convert", async () => {
  await assertConversionFails(
    (json) => {
      layerNamed(json, "F_1_1_Relu").class_name = "SwishGate";
    },
    /layer "F_1_1_Relu" has unsupported class SwishGate/,
  );
  await assertConversionFails(
    (json) => {
      layerNamed(json, "F_0").config.strides = [2, 2];
    },
    /layer "F_0" \(Conv2D\) has an unsupported config: strides\.0/,
  );
  await assertConversionFails(
    (json) => {
      layerNamed(json, "F_1_1_Relu").config.activation = "tanh";
    },
    /layer "F_1_1_Relu" \(Activation\) has an unsupported config: activation/,
  );
  await assertConversionFails((json) => JSON.stringify(json).slice(0, 5000), /not a readable JSON file/);
  await assertConversionFails(
    (json) => {
      json.weightsManifest = undefined;
    },
    /not a TF\.js layers model: weightsManifest/,
  );
  await assertConversionFails(
    (json) => {
      layerNamed(json, "F_0").inbound_nodes = [[["F_missing", 0, 0, {}]]];
    },
    /layer "F_0" takes input from unknown layer "F_missing"/,
  );
  await assertConversionFails(
    (json) => {
      layerNamed(json, "F_0").config.filters = 32;
    },
    /layer "F_0": kernel shape \[3,3,64,64\] does not match \[3,3,64,32\]/,
  );
  await assertConversionFails(
    (json) => {
      json.weightsManifest[0].weights[0].shape = [1];
    },
    /hold \d+ bytes, the manifest describes \d+/,
  );
});

test("a truncated weight shard is reported, not read past", async () => {
  const { modelJson, dir } = await editedSlimModel(() => {});
  try {
    await truncate(path.join(dir, "group1-shard1of1.bin"), 1000);
    await assert.rejects(convertTfjsLayersModel(modelJson), /group1-shard1of1\.bin hold \d+ bytes, the manifest describes \d+/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** IEEE half-precision bits of a float (round to nearest), for writing float16-quantized test weights. */
function toHalfBits(value: number): number {
  const sign = value < 0 ? 0x8000 : 0;
  const abs = Math.abs(value);
  if (abs < 2 ** -14) return sign | Math.round(abs / 2 ** -24); // zero and subnormals
  let exponent = Math.floor(Math.log2(abs));
  if (abs / 2 ** exponent < 1) exponent -= 1; // log2 rounded up just below a power of two
  // A fraction that rounds up to 1024 carries into the exponent, as it should.
  return sign | (((exponent + 15) << 10) + Math.round((abs / 2 ** exponent - 1) * 1024));
}

/** The initializers of an ONNX model, by name. */
function initializers(bytes: Uint8Array): Map<string, Float32Array> {
  const graph = onnxProto.onnx.ModelProto.decode(bytes).graph!;
  return new Map(graph.initializer!.map((tensor) => [tensor.name!, new Float32Array(new Uint8Array(tensor.rawData!).buffer)]));
}

/** 16-bit codes for `values` as TF.js's converter would store them, with the largest error decoding may make. */
function quantize16(values: Float32Array, dtype: "uint16" | "float16") {
  const [min, max] = values.reduce(([low, high], value) => [Math.min(low, value), Math.max(high, value)], [Infinity, -Infinity]);
  if (dtype === "float16") {
    const largest = Math.max(-min, max);
    return { codes: Uint16Array.from(values, toHalfBits), quantization: { dtype }, tolerance: largest * 2 ** -11 + 2 ** -24 };
  }
  const scale = (max - min) / 65535 || 1;
  const codes = Uint16Array.from(values, (value) => Math.round((value - min) / scale));
  return { codes, quantization: { dtype, min, scale }, tolerance: scale / 2 + 1e-6 };
}

test("uint16 and float16 quantized weights are dequantized like TF.js", async () => {
  const source = path.join(installedPackage("@upscalerjs/esrgan-slim").dir, "models/x2");
  const reference = initializers((await convertTfjsLayersModel(path.join(source, "model.json"))).bytes);
  for (const dtype of ["uint16", "float16"] as const) {
    const { modelJson, dir } = await editedSlimModel(() => {});
    try {
      const json = JSON.parse(await readFile(modelJson, "utf8"));
      const [group] = json.weightsManifest;
      const shard = path.join(dir, group.paths[0]);
      const floats = new Float32Array(new Uint8Array(await readFile(shard)).buffer);
      const codes = new Uint16Array(floats.length);
      const tolerance = new Map<string, number>();
      let offset = 0;
      for (const weight of group.weights) {
        const size = weight.shape.reduce((n: number, d: number) => n * d, 1);
        const quantized = quantize16(floats.subarray(offset, offset + size), dtype);
        codes.set(quantized.codes, offset);
        weight.quantization = quantized.quantization;
        tolerance.set(weight.name, quantized.tolerance);
        offset += size;
      }
      await writeFile(shard, codes);
      await writeFile(modelJson, JSON.stringify(json));

      const decoded = initializers((await convertTfjsLayersModel(modelJson)).bytes);
      assert.deepEqual([...decoded.keys()], [...reference.keys()]);
      for (const [name, values] of decoded) {
        const expected = reference.get(name)!;
        const worst = values.reduce((most, value, i) => Math.max(most, Math.abs(value - expected[i])), 0);
        assert.ok(worst <= tolerance.get(name)!, `${dtype} ${name}: off by ${worst}, allowed ${tolerance.get(name)}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
