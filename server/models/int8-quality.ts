// What an int8 variant costs the people who run it: a pipeline's output against ground truth, not its distance
// from fp32. Held-apart photo crops are the ground truth; each is shrunk (bicubic) by the pipeline's scale and
// upscaled again, once with the fp32 model and once with the int8 one, alone and feeding another model (an int8
// stage whose rounding noise the next stage amplifies: x8-twice lost 0.67 dB that way while the per-model gate
// passed at 40 dB). The loss is the drop in mean Y-PSNR.
import path from "node:path";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import { psnrY } from "../../nodes/image/metrics";
import type { RgbImage } from "../../nodes/image/types";
import { REPO_ROOT } from "../platform/paths";
import type { Int8Quality } from "./int8-gates";
import type { ModelManifestEntry } from "./manifest";

const PHOTOS = path.join(REPO_ROOT, "fixtures", "photos");
/**
 * Ground-truth crops (top-left corners; moved inwards where a crop would not fit): photos calibration never saw.
 * Smooth, dark content too (the retina's lower edge): where a model already comes within 45 dB of the truth,
 * int8's rounding noise (about 47 dB from fp32) is what a user sees; busy photos hide it (thick-x4 lost 1.3-2.2 dB
 * on the retina's centre and nothing on the cat).
 */
const GROUND_TRUTH: [photo: string, left: number, top: number][] = [
  ["chelsea.png", 150, 40],
  ["chelsea.png", 0, 0],
  ["hubble_deep_field.jpg", 420, 380],
  ["hubble_deep_field.jpg", 60, 560],
  ["retina.jpg", 1100, 1100],
  ["retina.jpg", 200, 1150],
];
/** Output pixels a side the judgement compares: enough detail to show rounding noise, quick on two cores. */
const OUTPUT_SIZE = 192;
const CHAINED_OUTPUT_SIZE = 256;

/** A model as the judgement runs it: its session and what its tensors mean. */
export interface JudgedModel {
  entry: Pick<ModelManifestEntry, "id" | "scale" | "valueRange" | "sizeMultiple">;
  session: ort.InferenceSession;
}

interface Crop {
  truth: RgbImage;
  low: RgbImage;
}

function toImage(data: Uint8Array | Buffer, width: number, height: number): RgbImage {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = data[i * 3 + c] / 255;
  return { width, height, data: out };
}

/** Ground-truth crops of `size` px and their bicubic reductions by `scale` (sides a multiple of `multiple`). */
async function crops(size: number, scale: number, multiple: number): Promise<Crop[]> {
  const lowSize = Math.max(multiple, Math.floor(size / scale / multiple) * multiple);
  const truthSize = lowSize * scale;
  return Promise.all(
    GROUND_TRUTH.map(async ([photo, left, top]) => {
      const file = path.join(PHOTOS, photo);
      const { width = 0, height = 0 } = await sharp(file).metadata();
      const region = { left: Math.min(left, width - truthSize), top: Math.min(top, height - truthSize), width: truthSize, height: truthSize };
      const truth = await sharp(file).extract(region).removeAlpha().raw().toBuffer();
      const low = await sharp(truth, { raw: { width: truthSize, height: truthSize, channels: 3 } }).resize(lowSize, lowSize, { kernel: "cubic" }).raw().toBuffer();
      return { truth: toImage(truth, truthSize, truthSize), low: toImage(low, lowSize, lowSize) };
    }),
  );
}

/** One model call on a whole image (values 0..1 in and out; the model's own range inside). */
async function upscale(model: JudgedModel, image: RgbImage): Promise<RgbImage> {
  const [low, high] = model.entry.valueRange;
  const input = new Float32Array(image.data.length);
  for (let i = 0; i < input.length; i++) input[i] = Math.min(1, Math.max(0, image.data[i])) * (high - low) + low;
  const outputs = await model.session.run({ [model.session.inputNames[0]]: new ort.Tensor("float32", input, [1, 3, image.height, image.width]) });
  const output = outputs[model.session.outputNames[0]];
  const data = output.data as Float32Array;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i] - low) / (high - low);
  return { width: output.dims[3], height: output.dims[2], data: out };
}

async function meanPsnr(stages: JudgedModel[], all: Crop[], shave: number): Promise<number> {
  let sum = 0;
  for (const crop of all) {
    let image = crop.low;
    for (const stage of stages) image = await upscale(stage, image);
    sum += psnrY(crop.truth, image, shave);
  }
  return Math.round((sum / all.length) * 1000) / 1000;
}

/**
 * Mean Y-PSNR against ground truth of the fp32 model and of its int8 variant, alone and feeding each of
 * `followers` (run in fp32).
 */
export async function judgeInt8Quality(fp32: JudgedModel, int8: JudgedModel, followers: JudgedModel[]): Promise<Int8Quality> {
  const { scale, sizeMultiple } = fp32.entry;
  const alone = await crops(OUTPUT_SIZE, scale, sizeMultiple);
  const quality: Int8Quality = { alone: { fp32Db: await meanPsnr([fp32], alone, scale), int8Db: await meanPsnr([int8], alone, scale) }, chained: [] };
  for (const follower of followers) {
    const total = scale * follower.entry.scale;
    const chained = await crops(CHAINED_OUTPUT_SIZE, total, sizeMultiple);
    quality.chained.push({
      into: follower.entry.id,
      fp32Db: await meanPsnr([fp32, follower], chained, total),
      int8Db: await meanPsnr([int8, follower], chained, total),
    });
  }
  return quality;
}
