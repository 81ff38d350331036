// Probing an uploaded .onnx super-resolution model: what it is fed with and what it returns, found by loading it
// in ONNX Runtime and running it on a small crop of a real photo.
import path from "node:path";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import { resize } from "../../../../nodes/image/resample";
import type { RgbImage } from "../../../../nodes/image/types";
import { decodeImage } from "../../../images/codec";
import { BadInputError } from "../../../platform/errors";
import { installedPackage } from "../../builtin";
import type { ModelManifestEntry } from "../../manifest";

const { onnx } = onnxProto;

export interface ProbedModel {
  inputName: string;
  outputName: string;
  layout: ModelManifestEntry["layout"];
  scale: number;
  valueRange: [number, number];
  /** Input H and W must be multiples of this. */
  sizeMultiple: number;
  parameterCount: number;
  /** RGB PSNR (dB) of the output against a bicubic upscale of the probe crop, at each tried range. */
  psnrAt: { "0..1": number; "0..255": number };
  /** As the model declares them (symbolic dimensions as names). */
  inputShape: (number | string)[];
  outputShape: (number | string)[];
}

/** The probe photo: the real photo UpscalerJS ships as its example input (a runtime dependency, 128x128). */
function probePhotoPath(): string {
  return path.join(installedPackage("@upscalerjs/esrgan-slim").dir, "assets", "fixture.png");
}

/** Sizes tried to find the size multiple: m times an odd number, so only multiples of m divide it. */
const MULTIPLE_PROBES: [multiple: number, size: number][] = [
  [1, 33],
  [2, 34],
  [4, 36],
  [8, 40],
  [16, 48],
];
/** The crop the value range is judged on (a multiple of every probed size multiple). */
const RANGE_CROP = 48;

async function photoCrop(size: number): Promise<RgbImage> {
  const bytes = await sharp(probePhotoPath()).extract({ left: 40, top: 40, width: size, height: size }).png().toBuffer();
  return (await decodeImage(bytes)).image;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0].trim();
}

function countParameters(bytes: Uint8Array): number {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new BadInputError(`not an ONNX model (${firstLine(error)})`);
  }
  if (!model.graph) throw new BadInputError("not an ONNX model (it has no graph)");
  let total = 0;
  for (const tensor of model.graph.initializer ?? []) {
    total += (tensor.dims ?? []).reduce<number>((product, dim) => product * Number(dim), 1);
  }
  return total;
}

function toTensor(image: RgbImage, layout: ProbedModel["layout"], high: number): ort.Tensor {
  const { width, height } = image;
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) data[layout === "NCHW" ? c * plane + i : i * 3 + c] = image.data[c * plane + i] * high;
  }
  return new ort.Tensor("float32", data, layout === "NCHW" ? [1, 3, height, width] : [1, height, width, 3]);
}

/** Output dims as [channels, height, width]. */
function outputSize(dims: readonly number[], layout: ProbedModel["layout"]): [number, number, number] {
  if (dims.length !== 4) throw new BadInputError(`the output has ${dims.length} dimensions; a 4-D image tensor is needed`);
  return layout === "NCHW" ? [dims[1], dims[2], dims[3]] : [dims[3], dims[1], dims[2]];
}

function psnrAgainst(reference: RgbImage, output: ort.Tensor, layout: ProbedModel["layout"], high: number): number {
  const plane = reference.width * reference.height;
  const data = output.data as Float32Array;
  let sum = 0;
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const value = data[layout === "NCHW" ? c * plane + i : i * 3 + c] / high;
      const clamped = Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
      sum += (clamped - reference.data[c * plane + i]) ** 2;
    }
  }
  const mse = sum / (3 * plane);
  return mse === 0 ? 100 : 10 * Math.log10(1 / mse);
}

/**
 * Loads `bytes` with ONNX Runtime and finds its layout, scale, size multiple and value range (0..1 or 0..255:
 * the one whose output is closer to a bicubic upscale of the input). Throws BadInputError naming what is wrong:
 * not ONNX, not loadable, no single 4-D float input with 3 channels, a fixed input size, no upscaling.
 */
export async function probeOnnxModel(bytes: Uint8Array): Promise<ProbedModel> {
  const parameterCount = countParameters(bytes);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: "all",
      intraOpNumThreads: 1,
      // Failing probe sizes are expected (that is how the size multiple is found); they are not worth a log line.
      logSeverityLevel: 4,
    });
  } catch (error) {
    throw new BadInputError(`ONNX Runtime cannot load this model: ${firstLine(error)}`);
  }
  try {
    return await probeSession(session, parameterCount);
  } finally {
    await session.release();
  }
}

async function probeSession(session: ort.InferenceSession, parameterCount: number): Promise<ProbedModel> {
  if (session.inputNames.length !== 1) {
    throw new BadInputError(`the model has ${session.inputNames.length} inputs (${session.inputNames.join(", ")}); one image input is needed`);
  }
  const input = session.inputMetadata[0];
  const output = session.outputMetadata[0];
  if (!input.isTensor || input.type !== "float32") {
    throw new BadInputError(`input "${input.name}" is ${input.isTensor ? `a ${input.type} tensor` : "not a tensor"}; a float32 image tensor is needed`);
  }
  const shape = [...input.shape];
  if (shape.length !== 4) {
    throw new BadInputError(`input "${input.name}" has shape [${shape.join(", ")}]; a 4-D NCHW or NHWC image tensor is needed`);
  }
  const layout: ProbedModel["layout"] | undefined = shape[1] === 3 ? "NCHW" : shape[3] === 3 ? "NHWC" : undefined;
  if (!layout) {
    throw new BadInputError(`input "${input.name}" has shape [${shape.join(", ")}]: no 3-channel axis in NCHW or NHWC position`);
  }
  const [h, w] = layout === "NCHW" ? shape.slice(2) : shape.slice(1, 3);
  if (typeof h === "number" && typeof w === "number" && h > 0 && w > 0) {
    throw new BadInputError(`input "${input.name}" has a fixed size of ${w}x${h}; export the model with dynamic height and width`);
  }

  const run = async (image: RgbImage, high: number) => {
    const result = await session.run({ [input.name]: toTensor(image, layout, high) });
    return result[output.name];
  };

  let found: { multiple: number; scale: number } | undefined;
  let lastError = "";
  for (const [multiple, size] of MULTIPLE_PROBES) {
    const image = await photoCrop(size);
    let result: ort.Tensor;
    try {
      result = await run(image, 1);
    } catch (error) {
      lastError = firstLine(error);
      continue;
    }
    const [channels, outH, outW] = outputSize(result.dims, layout);
    if (channels !== 3) throw new BadInputError(`output "${output.name}" has ${channels} channels; 3 (RGB) are needed`);
    const scale = outH / size;
    if (outW !== outH || !Number.isInteger(scale) || scale < 2) {
      throw new BadInputError(`the model does not upscale: a ${size}x${size} input gave a ${outW}x${outH} output`);
    }
    found = { multiple, scale };
    break;
  }
  if (!found) throw new BadInputError(`the model fails on a ${RANGE_CROP}x${RANGE_CROP} RGB image: ${lastError}`);

  const crop = await photoCrop(RANGE_CROP);
  const bicubic = resize(crop, { width: RANGE_CROP * found.scale, height: RANGE_CROP * found.scale, kernel: "bicubic" });
  const psnrAt = {
    "0..1": psnrAgainst(bicubic, await run(crop, 1), layout, 1),
    "0..255": psnrAgainst(bicubic, await run(crop, 255), layout, 255),
  };
  const valueRange: [number, number] = psnrAt["0..255"] > psnrAt["0..1"] ? [0, 255] : [0, 1];
  return {
    inputName: input.name,
    outputName: output.name,
    layout,
    scale: found.scale,
    valueRange,
    sizeMultiple: found.multiple,
    parameterCount,
    psnrAt,
    inputShape: shape,
    outputShape: output.isTensor ? [...output.shape] : [],
  };
}
