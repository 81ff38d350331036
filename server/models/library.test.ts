// Model uploads: real built-in .onnx files uploaded as user models, small hand-built ONNX graphs for what the
// probe must tell apart, and bad files. Each provider gets its own models folder (links to the real files).
import assert from "node:assert/strict";
import { access, copyFile, mkdtemp, readdir, readFile, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, it } from "node:test";
import onnxProto from "onnx-proto";
import sharp from "sharp";
import { wholeImageGraph } from "../../fixtures/graphs";
import { photoPath } from "../../fixtures/photos";
import { getDb } from "../db/client";
import { decodeImage } from "../images/codec";
import { InferenceService } from "../inference/inference-service";
import { BadInputError, NotFoundError } from "../platform/errors";
import { runPipeline } from "../runs/run-pipeline";
import { describeOnEachDatabase } from "../test-support/databases";
import { deleteModel, listModels, uploadModel } from "./library";
import { readModelManifest } from "./manifest";
import { setupModels } from "./setup";

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const REAL_MODELS = path.resolve(import.meta.dirname, "../../models");

type Dim = number | string;

function tensorType(elemType: number, dims: Dim[]): onnxProto.onnx.ITypeProto {
  return { tensorType: { elemType, shape: { dim: dims.map((dim) => (typeof dim === "number" ? { dimValue: dim } : { dimParam: dim })) } } };
}

function floats(name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto {
  const data = Float32Array.from(values);
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer) };
}

/** A small ONNX model: `nodes` from input "x" to output "y". */
function model(
  nodes: onnxProto.onnx.INodeProto[],
  options: { inputType?: number; inputDims?: Dim[]; outputDims?: Dim[]; initializers?: onnxProto.onnx.ITensorProto[]; inputs?: string[] } = {},
): Buffer {
  const inputType = options.inputType ?? FLOAT;
  const inputs = (options.inputs ?? ["x"]).map((name) => ({ name, type: tensorType(inputType, options.inputDims ?? ["N", 3, "H", "W"]) }));
  const bytes = onnx.ModelProto.encode({
    irVersion: 7,
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "test",
      node: nodes,
      initializer: options.initializers ?? [],
      input: inputs,
      output: [{ name: "y", type: tensorType(FLOAT, options.outputDims ?? ["N", 3, "H2", "W2"]) }],
    },
  }).finish();
  return Buffer.from(bytes);
}

/** Bilinear x2 of `source`. */
function resize2(source: string): onnxProto.onnx.INodeProto {
  return {
    opType: "Resize",
    input: [source, "roi", "scales"],
    output: ["y"],
    attribute: [{ name: "mode", type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode("linear") }],
  };
}
const resizeInits = [floats("roi", [0], []), floats("scales", [4], [1, 1, 2, 2])];

/** Clips its input at 1 before a x2 resize: right only when fed 0..1. */
const unitModel = model(
  [{ opType: "Min", input: ["x", "one"], output: ["clipped"] }, resize2("clipped")],
  { initializers: [...resizeInits, floats("one", [], [1])] },
);
/** Lifts its input to at least 2 before a x2 resize: right (nearly) only when fed 0..255. */
const byteModel = model(
  [{ opType: "Max", input: ["x", "two"], output: ["lifted"] }, resize2("lifted")],
  { initializers: [...resizeInits, floats("two", [], [2])] },
);
/** SpaceToDepth/DepthToSpace by 4 then x2: H and W must be multiples of 4. */
const multipleOf4Model = model(
  [
    { opType: "SpaceToDepth", input: ["x"], output: ["packed"], attribute: [{ name: "blocksize", type: onnx.AttributeProto.AttributeType.INT, i: 4 }] },
    { opType: "DepthToSpace", input: ["packed"], output: ["unpacked"], attribute: [{ name: "blocksize", type: onnx.AttributeProto.AttributeType.INT, i: 4 }] },
    resize2("unpacked"),
  ],
  { initializers: resizeInits },
);

/** Channels last: transposes to NCHW, resizes x2, transposes back. */
const nhwcModel = model(
  [
    { opType: "Transpose", input: ["x"], output: ["nchw"], attribute: [{ name: "perm", type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 3, 1, 2] }] },
    { ...resize2("nchw"), output: ["big"] },
    { opType: "Transpose", input: ["big"], output: ["y"], attribute: [{ name: "perm", type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 3, 1] }] },
  ],
  { initializers: resizeInits, inputDims: ["N", "H", "W", 3], outputDims: ["N", "H2", "W2", 3] },
);

async function rejects(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof BadInputError, `expected BadInputError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

function psnr(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return 10 * Math.log10(a.length / sum);
}

describeOnEachDatabase("models", () => {
  let modelsDir: string;
  let inference: InferenceService;

  before(async () => {
    modelsDir = await mkdtemp(path.join(tmpdir(), "tudsr models test "));
    for (const name of await readdir(REAL_MODELS)) {
      if (name.endsWith(".onnx")) await symlink(path.join(REAL_MODELS, name), path.join(modelsDir, name));
    }
    await copyFile(path.join(REAL_MODELS, "manifest.json"), path.join(modelsDir, "manifest.json"));
    process.env.TUDSR_MODELS_DIR = modelsDir;
    // Made before any upload: it must find models uploaded while it lives.
    inference = new InferenceService(modelsDir);
  });

  after(async () => {
    delete process.env.TUDSR_MODELS_DIR;
    await rm(modelsDir, { recursive: true, force: true });
  });

  it("lists the built-in models and mirrors them in the Model table", async () => {
    const models = await listModels();
    assert.ok(models.length >= 7);
    assert.ok(models.every((entry) => entry.builtIn));
    const slim = models.find((entry) => entry.id === "esrgan-slim-x4")!;
    assert.deepEqual([slim.scale, slim.valueRange, slim.speedClass], [4, [0, 255], "fast"]);
    assert.equal(slim.fileBytes, (await stat(path.join(REAL_MODELS, "esrgan-slim-x4.onnx"))).size);
    const db = await getDb();
    assert.equal(await db.model.count(), models.length);
  });

  it("uploads a real .onnx model: probes it, stores it in the models folder and runs it in a pipeline", async () => {
    const bytes = await readFile(path.join(REAL_MODELS, "esrgan-slim-x4.onnx"));
    const uploaded = await uploadModel({ bytes, fileName: "My Slim x4.onnx" });
    assert.equal(uploaded.id, "my-slim-x4");
    assert.deepEqual(
      [uploaded.builtIn, uploaded.scale, uploaded.layout, uploaded.sizeMultiple, uploaded.speedClass, uploaded.title],
      [false, 4, "NCHW", 1, "fast", "My Slim x4"],
    );
    assert.deepEqual(uploaded.source, { upload: "My Slim x4.onnx" });
    assert.equal(uploaded.fileBytes, bytes.length);
    assert.equal(uploaded.parameterCount, (await listModels()).find((entry) => entry.id === "esrgan-slim-x4")!.parameterCount);
    // These ESRGANs have no normalisation: they give nearly the same picture at either range. The probe
    // picks the closer one and reports both.
    const { psnrAt } = uploaded.probe;
    assert.ok(psnrAt["0..1"] > 25 && psnrAt["0..255"] > 25, JSON.stringify(psnrAt));
    assert.deepEqual(uploaded.valueRange, psnrAt["0..255"] > psnrAt["0..1"] ? [0, 255] : [0, 1]);

    assert.deepEqual(await readFile(path.join(modelsDir, "upload-my-slim-x4.onnx")), bytes);
    const entry = (await readModelManifest(modelsDir)).models.find((model) => model.id === "my-slim-x4")!;
    assert.equal(entry.builtIn, false);
    assert.equal((await getDb().then((db) => db.model.findUniqueOrThrow({ where: { id: "my-slim-x4" } }))).builtIn, false);

    const input = await sharp(photoPath("coffee.png")).extract({ left: 200, top: 120, width: 40, height: 40 }).png().toBuffer();
    const mine = await runPipeline(wholeImageGraph("my-slim-x4"), { inference, inputs: { input } });
    const builtIn = await runPipeline(wholeImageGraph("esrgan-slim-x4"), { inference, inputs: { input } });
    assert.deepEqual([mine.outputs[0].width, mine.outputs[0].height], [160, 160]);
    const [a, b] = await Promise.all([decodeImage(mine.outputs[0].bytes), decodeImage(builtIn.outputs[0].bytes)]);
    const db = psnr(a.image.data, b.image.data);
    console.log(`uploaded slim x4 (run at ${uploaded.valueRange.join("..")}) vs built-in (0..255): ${db.toFixed(2)} dB; probe ${JSON.stringify(psnrAt)}`);
    assert.ok(db > 30, `${db.toFixed(2)} dB`);

    // `npm run setup` keeps uploaded entries.
    await setupModels({ dir: modelsDir, env: { ...process.env, TUDSR_INT8: "off" } });
    assert.ok((await readModelManifest(modelsDir)).models.some((model) => model.id === "my-slim-x4"));
  });

  it("uploads another real model (thick x2) with its own scale", async () => {
    const bytes = await readFile(path.join(REAL_MODELS, "esrgan-thick-x2.onnx"));
    const uploaded = await uploadModel({ bytes, fileName: "thick.onnx", id: "thick-two", title: "Thick two" });
    assert.deepEqual([uploaded.id, uploaded.title, uploaded.scale, uploaded.speedClass], ["thick-two", "Thick two", 2, "quality"]);
  });

  it("tells the value range, the size multiple and the scale apart on models built for it", async () => {
    const unit = await uploadModel({ bytes: unitModel, fileName: "unit.onnx" });
    assert.deepEqual([unit.scale, unit.valueRange, unit.sizeMultiple], [2, [0, 1], 1]);
    const byte = await uploadModel({ bytes: byteModel, fileName: "byte.onnx" });
    assert.deepEqual([byte.scale, byte.valueRange], [2, [0, 255]]);
    assert.ok(byte.probe.psnrAt["0..255"] > byte.probe.psnrAt["0..1"] + 10, JSON.stringify(byte.probe.psnrAt));
    const nhwc = await uploadModel({ bytes: nhwcModel, fileName: "channels-last.onnx" });
    assert.deepEqual([nhwc.layout, nhwc.scale, nhwc.valueRange], ["NHWC", 2, [0, 1]]);
    const multiple = await uploadModel({ bytes: multipleOf4Model, fileName: "blocks.onnx" });
    assert.deepEqual([multiple.scale, multiple.sizeMultiple], [2, 4]);
    // The generate node pads to the multiple: a 30x30 input runs and comes back 60x60.
    const input = await sharp(photoPath("astronaut.png")).extract({ left: 100, top: 100, width: 30, height: 30 }).png().toBuffer();
    const result = await runPipeline(wholeImageGraph("blocks"), { inference, inputs: { input } });
    assert.deepEqual([result.outputs[0].width, result.outputs[0].height], [60, 60]);
    // A bilinear x2 in either layout gives the same picture.
    const channelsLast = await runPipeline(wholeImageGraph("channels-last"), { inference, inputs: { input } });
    const [a, b] = await Promise.all([decodeImage(result.outputs[0].bytes), decodeImage(channelsLast.outputs[0].bytes)]);
    assert.ok(psnr(a.image.data, b.image.data) > 40);
    // Its measurement (for auto tiles and the plan) feeds it channels-last tiles too.
    assert.ok((await inference.measurement("channels-last", "fp32", "cpu")).msPerInputMegapixel > 0);
  });

  it("refuses bad model uploads, each with its reason, and stores nothing", async () => {
    const real = await readFile(path.join(REAL_MODELS, "esrgan-slim-x4.onnx"));
    const before = (await listModels()).length;
    const filesBefore = await readdir(modelsDir);
    await rejects(uploadModel({ bytes: Buffer.from("this is not a model"), fileName: "text.onnx" }), /"text\.onnx": not an ONNX model/);
    await rejects(uploadModel({ bytes: real.subarray(0, 20_000), fileName: "truncated.onnx" }), /"truncated\.onnx": not an ONNX model/);
    await rejects(uploadModel({ bytes: Buffer.from(onnx.ModelProto.encode({ irVersion: 7 }).finish()), fileName: "empty.onnx" }), /no graph/);
    await rejects(
      uploadModel({ bytes: model([{ opType: "NoSuchOperator", input: ["x"], output: ["y"] }]), fileName: "odd.onnx" }),
      /ONNX Runtime cannot load this model/,
    );
    await rejects(
      uploadModel({ bytes: model([{ opType: "Identity", input: ["x"], output: ["y"] }]), fileName: "same.onnx" }),
      /does not upscale: a 33x33 input gave a 33x33 output/,
    );
    await rejects(
      uploadModel({ bytes: model([{ opType: "Cast", input: ["x"], output: ["y"], attribute: [{ name: "to", type: 2, i: FLOAT }] }], { inputType: INT64 }), fileName: "ints.onnx" }),
      /input "x" is a int64 tensor; a float32 image tensor is needed/,
    );
    await rejects(
      uploadModel({ bytes: model([resize2("x")], { initializers: resizeInits, inputDims: [1, 3, 64, 64] }), fileName: "fixed.onnx" }),
      /fixed size of 64x64/,
    );
    await rejects(
      uploadModel({ bytes: model([{ opType: "Identity", input: ["x"], output: ["y"] }], { inputDims: ["N", "H", "W"] }), fileName: "flat.onnx" }),
      /a 4-D NCHW or NHWC image tensor is needed/,
    );
    await rejects(
      uploadModel({ bytes: model([{ opType: "Add", input: ["x", "z"], output: ["y"] }], { inputs: ["x", "z"] }), fileName: "two.onnx" }),
      /2 inputs \(x, z\); one image input is needed/,
    );
    await rejects(uploadModel({ bytes: real, fileName: "../../evil.onnx" }), /contains '\.\.'/);
    await rejects(uploadModel({ bytes: real, fileName: "model.bin" }), /not a \.onnx file/);
    await rejects(uploadModel({ bytes: real, fileName: "x.onnx", id: "esrgan-slim-x4" }), /built-in model/);
    await rejects(uploadModel({ bytes: real, fileName: "x.onnx", id: "Bad Id" }), /must be 1 to 60 lowercase/);
    await rejects(uploadModel({ bytes: real, fileName: "my slim x4.onnx" }), /a model "my-slim-x4" already exists/);
    process.env.TUDSR_MAX_MODEL_BYTES = "1000";
    try {
      await rejects(uploadModel({ bytes: real, fileName: "big.onnx" }), /over the model upload limit/);
    } finally {
      delete process.env.TUDSR_MAX_MODEL_BYTES;
    }
    assert.equal((await listModels()).length, before);
    assert.deepEqual(await readdir(modelsDir), filesBefore);
  });

  it("deletes a user model (entry, file and row) but never a built-in one", async () => {
    await deleteModel("my-slim-x4");
    assert.ok(!(await listModels()).some((entry) => entry.id === "my-slim-x4"));
    await assert.rejects(access(path.join(modelsDir, "upload-my-slim-x4.onnx")), /ENOENT/);
    assert.equal(await getDb().then((db) => db.model.findUnique({ where: { id: "my-slim-x4" } })), null);
    await rejects(deleteModel("esrgan-slim-x4"), /built-in model; only uploaded models can be deleted/);
    await assert.rejects(deleteModel("my-slim-x4"), NotFoundError);
    // A model deleted while a service lives is gone for it too.
    await assert.rejects(
      runPipeline(wholeImageGraph("my-slim-x4"), { inference, inputs: { input: photoPath("coffee.png") } }),
      /unknown model "my-slim-x4"/,
    );
  });
});
