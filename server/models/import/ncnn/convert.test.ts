// The ncnn importer: every supported layer against a reference ncnn build (the layer zoo), the pre/post-
// processing it bakes into the graph, fp16 weights, and the errors for broken models.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import * as ort from "onnxruntime-node";
import { LAYER_ZOO } from "../../../../fixtures/ncnn/layer-zoo/zoo";
import { onnx } from "../../onnx-builder";
import { convertNcnn, convertNcnnToOnnx, NcnnImportError, type NcnnPrePost } from "./convert";

const FIXTURES = path.resolve(import.meta.dirname, "../../../../fixtures/ncnn");
const ZOO = path.join(FIXTURES, "layer-zoo");

async function floats(file: string): Promise<Float32Array> {
  return new Float32Array(new Uint8Array(await readFile(file)).buffer);
}

async function session(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, graphOptimizationLevel: "all", ...options });
}

async function runModel(bytes: Uint8Array, input: Float32Array, dims: number[]): Promise<ort.Tensor> {
  const model = await session(bytes);
  try {
    return (await model.run({ input: new ort.Tensor("float32", input, dims) })).output;
  } finally {
    await model.release();
  }
}

for (const model of LAYER_ZOO) {
  test(`layer zoo "${model.name}" matches the reference ncnn`, async () => {
    const param = await readFile(path.join(ZOO, `${model.name}.param`), "utf8");
    const bin = await readFile(path.join(ZOO, `${model.name}.bin`));
    assert.equal(param, model.param, "the fixture .param is what zoo.ts builds (regenerate with make.ts)");
    assert.deepEqual(new Uint8Array(bin), model.bin, "the fixture .bin is what zoo.ts builds (regenerate with make.ts)");
    const { bytes } = convertNcnnToOnnx(param, bin, { name: model.name });
    const { channels, height, width } = model.input;
    const output = await runModel(bytes, await floats(path.join(ZOO, `${model.name}.input.f32`)), [1, channels, height, width]);
    const expected = await floats(path.join(ZOO, `${model.name}.expected.f32`));
    const [, outChannels, outHeight, outWidth] = new Int32Array(expected.buffer, 0, 4);
    assert.deepEqual(output.dims, [1, outChannels, outHeight, outWidth]);
    const values = output.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - expected[4 + i]));
    assert.ok(worst < 1e-5, `${model.name}: largest difference from ncnn ${worst}`);
  });
}

// A real model from the fixtures (Real-ESRGAN animevideov3 x2, fp16 weights: see fixtures/ncnn/LICENSES.md).
const realParam = await readFile(path.join(FIXTURES, "realesr-animevideov3-x2.param"), "utf8");
const realBin = await readFile(path.join(FIXTURES, "realesr-animevideov3-x2.bin"));

function photoLike(channels: number, height: number, width: number, seed = 1): Float32Array {
  return Float32Array.from({ length: channels * height * width }, (_, i) => 0.5 + 0.35 * Math.sin(i * 0.11 + seed) * Math.cos(i * 0.007 * seed));
}

test("fp16 weights stay fp16 in the file (half its size) and give exactly the output of fp32 weights", async () => {
  const kept = convertNcnn(realParam, realBin, { name: "x2", fp16: "keep" });
  const widened = convertNcnn(realParam, realBin, { name: "x2", fp16: "widen" });
  const graph = onnx.ModelProto.decode(kept.bytes).graph!;
  const halves = graph.initializer!.filter((tensor) => tensor.dataType === onnx.TensorProto.DataType.FLOAT16);
  assert.equal(halves.length, 18, "every convolution's weights");
  assert.equal(kept.parameterCount, widened.parameterCount);
  assert.ok(kept.bytes.length < widened.bytes.length * 0.52, `${kept.bytes.length} vs ${widened.bytes.length} bytes`);
  const input = photoLike(3, 37, 29);
  const [a, b] = [await runModel(kept.bytes, input, [1, 3, 37, 29]), await runModel(widened.bytes, input, [1, 3, 37, 29])];
  assert.deepEqual(a.data, b.data);

  // ONNX Runtime folds the weights' Casts when it loads the model: the graph it runs is the fp32 one.
  const dir = await mkdtemp(path.join(os.tmpdir(), "tudsr-fp16-"));
  try {
    const optimizedGraph = async (bytes: Uint8Array, name: string) => {
      const file = path.join(dir, name);
      await (await session(bytes, { optimizedModelFilePath: file, logSeverityLevel: 3 })).release();
      return onnx.ModelProto.decode(await readFile(file)).graph!;
    };
    const [fromHalves, fromFloats] = [await optimizedGraph(kept.bytes, "kept.onnx"), await optimizedGraph(widened.bytes, "widened.onnx")];
    assert.deepEqual(fromHalves.node!.map((node) => node.opType), fromFloats.node!.map((node) => node.opType));
    assert.ok(fromHalves.initializer!.every((tensor) => tensor.dataType !== onnx.TensorProto.DataType.FLOAT16));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Pads CHW planes: reflect (without repeating the edge) or replicate, `before` and `after` pixels per axis. */
function padPlanes(data: Float32Array, [c, h, w]: number[], [top, left, bottom, right]: number[], mode: "reflect" | "replicate") {
  const H = h + top + bottom;
  const W = w + left + right;
  const out = new Float32Array(c * H * W);
  const source = (i: number, n: number) => {
    if (mode === "replicate") return Math.min(n - 1, Math.max(0, i));
    let j = Math.abs(i);
    j = n - 1 - Math.abs(j - (n - 1));
    return j;
  };
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) out[(ch * H + y) * W + x] = data[(ch * h + source(y - top, h)) * w + source(x - left, w)];
    }
  }
  return { data: out, dims: [c, H, W] };
}

function cropPlanes(data: Float32Array, [c, h, w]: number[], top: number, left: number, height: number, width: number): Float32Array {
  const out = new Float32Array(c * height * width);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < height; y++) out.set(data.subarray((ch * h + top + y) * w + left, (ch * h + top + y) * w + left + width), (ch * height + y) * width);
  }
  return out;
}

for (const [mode, pixels, multiple, residual] of [
  ["reflect", 10, 1, false],
  ["replicate", 7, 4, false],
  ["reflect", 5, 3, true],
] as const) {
  test(`pre/post in the graph: ${mode} ${pixels} px, size multiple ${multiple}${residual ? ", residual" : ""} equals padding, the bare network and a crop`, async () => {
    const pre: NcnnPrePost = { padding: { mode, pixels }, sizeMultiple: multiple, residual };
    const baked = convertNcnnToOnnx(realParam, realBin, { name: "x2", pre });
    const bare = convertNcnnToOnnx(realParam, realBin, { name: "x2" });
    assert.equal(baked.scale, 2);
    const [h, w] = [37, 29];
    const input = photoLike(3, h, w, 3);
    const extra = (size: number) => (multiple - ((size + 0) % multiple)) % multiple;
    const padded = padPlanes(input, [3, h, w], [pixels, pixels, pixels + extra(h), pixels + extra(w)], mode);
    const network = await runModel(bare.bytes, padded.data, [1, ...padded.dims]);
    const [, , outH, outW] = network.dims;
    let expected = cropPlanes(network.data as Float32Array, [3, outH, outW], pixels * 2, pixels * 2, h * 2, w * 2);
    if (residual) {
      expected = expected.map((value, i) => {
        const x = i % (w * 2);
        const y = Math.floor(i / (w * 2)) % (h * 2);
        const c = Math.floor(i / (w * 2 * h * 2));
        return value + input[(c * h + Math.floor(y / 2)) * w + Math.floor(x / 2)];
      });
    }
    const output = await runModel(baked.bytes, input, [1, 3, h, w]);
    assert.deepEqual(output.dims, [1, 3, h * 2, w * 2]);
    const values = output.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - expected[i]));
    assert.ok(worst < 1e-5, `largest difference ${worst}`);
  });
}

test("an image smaller than a reflection is first grown by repeating its last row and column (the programs cannot take it)", async () => {
  const baked = convertNcnnToOnnx(realParam, realBin, { name: "x2", pre: { padding: { mode: "reflect", pixels: 10 }, sizeMultiple: 2 } });
  const bare = convertNcnnToOnnx(realParam, realBin, { name: "x2" });
  const [h, w] = [5, 14];
  const input = photoLike(3, h, w, 5);
  const grown = padPlanes(input, [3, h, w], [0, 0, 12 - h, 0], "replicate"); // to pad + multiple = 12 rows
  const padded = padPlanes(grown.data, grown.dims, [10, 10, 10, 10], "reflect");
  const network = await runModel(bare.bytes, padded.data, [1, ...padded.dims]);
  const [, , outH, outW] = network.dims;
  const expected = cropPlanes(network.data as Float32Array, [3, outH, outW], 20, 20, h * 2, w * 2);
  const output = await runModel(baked.bytes, input, [1, 3, h, w]);
  assert.deepEqual(output.dims, [1, 3, h * 2, w * 2]);
  const values = output.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - expected[i]));
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
  assert.deepEqual((await runModel(baked.bytes, photoLike(3, 1, 1), [1, 3, 1, 1])).dims, [1, 3, 2, 2]);
});

test("a model whose network shrinks the image: the padding is consumed, the crop starts at 0 (waifu2x UpConv7)", async () => {
  const param = await readFile(path.join(FIXTURES, "upconv_7-scale2.0x_model.param"), "utf8");
  const bin = await readFile(path.join(FIXTURES, "upconv_7-scale2.0x_model.bin"));
  const bare = convertNcnnToOnnx(param, bin, { name: "upconv7" });
  assert.equal(bare.scale, 2, "x2, 28 px short of the input's area");
  const baked = convertNcnnToOnnx(param, bin, { name: "upconv7", pre: { padding: { mode: "replicate", pixels: 7 }, sizeMultiple: 2 } });
  const input = photoLike(3, 21, 26);
  const padded = padPlanes(input, [3, 21, 26], [7, 7, 8, 7], "replicate");
  const network = await runModel(bare.bytes, padded.data, [1, ...padded.dims]);
  assert.deepEqual(network.dims, [1, 3, 44, 52]);
  const expected = cropPlanes(network.data as Float32Array, [3, 44, 52], 0, 0, 42, 52);
  const output = await runModel(baked.bytes, input, [1, 3, 21, 26]);
  assert.deepEqual(output.dims, [1, 3, 42, 52]);
  assert.deepEqual(output.data, expected);
});

// ---------------------------------------------------------------------------------------------------
// errors

const SMALL = `7767517
3 3
Input            data      0 1 data 0=8 1=8 2=3
Convolution      conv0     1 1 data c0 0=4 1=3 4=1 5=1 6=108 9=1
Convolution      conv1     1 1 c0 out 0=3 1=1 5=1 6=12
`;
/** The .bin of SMALL: conv0 fp32 (tag, 108 weights, 4 biases), conv1 fp16 (tag, 12 halves, 3 biases). */
function smallBin(): Uint8Array {
  const parts = [new Uint32Array([0]), new Float32Array(108).fill(0.01), new Float32Array(4), new Uint32Array([0x01306b47]), new Uint16Array(12).fill(0x3c00), new Float32Array(3)];
  const bytes = parts.map((part) => new Uint8Array(part.buffer));
  const out = new Uint8Array(bytes.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of bytes) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function assertImportError(run: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof NcnnImportError, `an NcnnImportError, not ${String(error)}`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

test("the small model converts (the error cases below each break one thing of it)", async () => {
  const converted = convertNcnnToOnnx(SMALL, smallBin(), { name: "small" });
  assert.equal(converted.scale, 1);
  assert.equal(converted.parameterCount, 108 + 4 + 12 + 3);
  const output = await runModel(converted.bytes, photoLike(3, 8, 8), [1, 3, 8, 8]);
  assert.deepEqual(output.dims, [1, 3, 8, 8]);
});

test("an unknown layer type names the type, the layer and its line", () => {
  const param = SMALL.replace("Convolution      conv1", "Convolutionz     conv1");
  assertImportError(() => convertNcnnToOnnx(param, smallBin(), { name: "x" }), /unknown layer type "Convolutionz"/, /"conv1"/, /line 5\b/);
});

test("a blob count that does not match the header names the last layer and its line", () => {
  assertImportError(
    () => convertNcnnToOnnx(SMALL.replace("3 3\n", "3 4\n"), smallBin(), { name: "x" }),
    /header says 4 blobs, but the layers produce 3/,
    /Convolution "conv1" \(line 5 of the \.param\)/,
  );
  assertImportError(() => convertNcnnToOnnx(SMALL.replace("3 3\n", "2 3\n"), smallBin(), { name: "x" }), /header says 2 layers, but the \.param has 3/, /Convolution "conv1"/, /line 5/);
});

test("a bottom blob that no layer produces names the layer and its line", () => {
  assertImportError(() => convertNcnnToOnnx(SMALL.replace("1 1 c0 out", "1 1 c9 out"), smallBin(), { name: "x" }), /Convolution "conv1"/, /line 5/, /bottom blob "c9" does not exist/);
});

test("a .bin too short names the layer that ran out, too long says how many bytes are left over", () => {
  const bin = smallBin();
  assertImportError(() => convertNcnnToOnnx(SMALL, bin.subarray(0, bin.length - 8), { name: "x" }), /\.bin is too short/, /Convolution "conv1"/, /line 5/, /bias/);
  assertImportError(() => convertNcnnToOnnx(SMALL, bin.subarray(0, 200), { name: "x" }), /\.bin is too short/, /Convolution "conv0"/, /line 4/);
  const longer = new Uint8Array(bin.length + 12);
  longer.set(bin);
  assertImportError(() => convertNcnnToOnnx(SMALL, longer, { name: "x" }), /\.bin is too long: 12 bytes are left over/, /Convolution "conv1" \(line 5/);
});

test("a malformed header or magic number is refused", () => {
  assertImportError(() => convertNcnnToOnnx(SMALL.replace("7767517", "7767518"), smallBin(), { name: "x" }), /magic number 7767517/, /line 1 is "7767518"/);
  assertImportError(() => convertNcnnToOnnx("", smallBin(), { name: "x" }), /magic number 7767517/, /empty/);
  assertImportError(() => convertNcnnToOnnx(SMALL.replace("3 3\n", "three 3\n"), smallBin(), { name: "x" }), /malformed ncnn \.param header/, /line 2/);
  // A binary .param (ncnn's .param.bin) is not text.
  assertImportError(() => convertNcnnToOnnx(String.fromCharCode(0x47, 0x6b, 0x30, 0x01, 0, 0, 0), smallBin(), { name: "x" }), /magic number 7767517/);
});

test("other broken models: a weight count that does not fit the input, int8 weights, a malformed parameter, several outputs", () => {
  assertImportError(() => convertNcnnToOnnx(SMALL.replace("6=108", "6=120"), smallBin(), { name: "x" }), /Convolution "conv0"/, /line 4/, /weight_data_size 120/);
  const int8 = smallBin();
  new DataView(int8.buffer).setUint32(0, 0x000d4b38, true);
  assertImportError(() => convertNcnnToOnnx(SMALL, int8, { name: "x" }), /Convolution "conv0"/, /int8/);
  assertImportError(() => convertNcnnToOnnx(SMALL.replace("9=1", "9=x"), smallBin(), { name: "x" }), /Convolution "conv0"/, /line 4/, /malformed parameter "9=x"/);
  assertImportError(() => convertNcnnToOnnx(SMALL.replace("9=1", "9=7"), smallBin(), { name: "x" }), /Convolution "conv0"/, /unsupported activation type 7/);
  const twoOutputs = SMALL.replace("3 3\n", "4 4\n") + "Sigmoid          side      1 1 data side\n";
  assertImportError(() => convertNcnnToOnnx(twoOutputs.replace("1 1 data side", "1 1 data side"), smallBin(), { name: "x" }), /2 outputs/, /"side"/, /"out"/);
});
