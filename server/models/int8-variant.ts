// The int8 variant of a converted fp32 model: quantized with calibration tiles of real photos, measured against
// its parent on photos the calibration never saw, and offered only when it passes the fidelity gate.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import { writeFileAtomic } from "../platform/files";
import { REPO_ROOT } from "../platform/paths";
import type { Int8Status, ModelManifestEntry } from "./manifest";
import { QuantizationError, quantizeModel, QUANTIZER_VERSION } from "./quantize";

/** An int8 variant is offered when its output is at least this close to its parent's on every held-apart crop. */
export const INT8_MIN_PSNR_DB = 40;

const PHOTOS = path.join(REPO_ROOT, "fixtures", "photos");
/** 64 px crops the activation ranges are calibrated on (faces, fabric, sky, metal, food, text-like detail). */
const CALIBRATION_CROPS: [photo: string, left: number, top: number][] = [
  ["astronaut.png", 180, 80],
  ["astronaut.png", 300, 330],
  ["coffee.png", 200, 120],
  ["coffee.png", 420, 260],
  ["rocket.jpg", 300, 60],
  ["rocket.jpg", 80, 300],
  ["grace_hopper.jpg", 200, 140],
  ["grace_hopper.jpg", 120, 420],
];
const CALIBRATION_SIZE = 64;
/** Photos the calibration never saw: the gate is measured here. */
const HELD_APART_CROPS: [photo: string, left: number, top: number][] = [
  ["chelsea.png", 150, 60],
  ["hubble_deep_field.jpg", 420, 380],
];
const HELD_APART_SIZE = 96;
/** The tile the speed of both precisions is measured on. */
const SPEED_TILE = 128;

type Input = { data: Float32Array; dims: number[] };

/** A square crop of a fixtures photo as the model's input tensor (its value range). */
export async function photoCrop(entry: ModelManifestEntry, [photo, left, top]: [string, number, number], size: number): Promise<Input> {
  const { data } = await sharp(path.join(PHOTOS, photo)).extract({ left, top, width: size, height: size }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const [low, high] = entry.valueRange;
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = (data[i * 3 + c] / 255) * (high - low) + low;
  return { data: out, dims: [1, 3, size, size] };
}

function psnr(reference: Float32Array, test: Float32Array, [low, high]: [number, number]): number {
  let squared = 0;
  const clamp = (value: number) => (value < low ? low : value > high ? high : value);
  for (let i = 0; i < reference.length; i++) {
    const difference = clamp(reference[i]) - clamp(test[i]);
    squared += difference * difference;
  }
  const mse = squared / reference.length;
  return mse === 0 ? Infinity : 10 * Math.log10(((high - low) * (high - low)) / mse);
}

async function session(model: string | Uint8Array): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: "all", logSeverityLevel: 3 };
  return typeof model === "string" ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

async function run(session: ort.InferenceSession, input: Input): Promise<Float32Array> {
  const outputs = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", input.data, input.dims) });
  return outputs[session.outputNames[0]].data as Float32Array;
}

/** Median wall time of a few runs after a warm-up (the first runs of a session are slower). */
async function tileMs(session: ort.InferenceSession, input: Input): Promise<number> {
  await run(session, input);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await run(session, input);
    times.push(performance.now() - started);
  }
  return Math.round(times.sort((a, b) => a - b)[1]);
}

/** VNNI or AMX int8 multiply-adds (no 16-bit saturation with full-range s8 weights). */
export function cpuHasInt8DotProduct(): boolean {
  try {
    return /\b(avx512_vnni|avx_vnni|amx_int8)\b/.test(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return false;
  }
}

/** The quantizer as this CPU runs it: a variant made for another kind of CPU is made again. */
export function quantizerId(): string {
  return `${QUANTIZER_VERSION}${cpuHasInt8DotProduct() ? "" : "/7-bit"}`;
}

/**
 * Which models set-up makes int8 variants of: $TUDSR_INT8 = `templates` (default: the models the built-in
 * templates run, a few minutes on two cores), `all` (every built-in model, about ten), or `off`. Any other model
 * gets one on request (`tudsr models int8 <id>`).
 */
export function int8SetupScope(env: NodeJS.ProcessEnv = process.env): "templates" | "all" | "off" {
  const value = env.TUDSR_INT8 || "templates";
  if (value !== "templates" && value !== "all" && value !== "off") throw new Error(`TUDSR_INT8 must be templates, all or off, got "${value}"`);
  return value;
}

/** The previous int8 status while the parent, the quantizer and the variant file are all unchanged. */
export async function keptInt8Status(entry: ModelManifestEntry, previous: Int8Status | undefined, dir: string): Promise<Int8Status | undefined> {
  if (!previous || previous.quantizer !== quantizerId() || previous.parentSha256 !== entry.sha256) return undefined;
  if ("refused" in previous) return previous;
  const bytes = await readFile(path.join(dir, previous.file)).catch(() => undefined);
  return bytes && createHash("sha256").update(bytes).digest("hex") === previous.sha256 ? previous : undefined;
}

/** A new int8 variant (or refusal) for an entry, logged. */
export async function newInt8Status(entry: ModelManifestEntry, dir: string, log: (line: string) => void): Promise<Int8Status> {
  const started = performance.now();
  // A graph the quantizer or ONNX Runtime cannot take is a refusal, never a failed set-up.
  const status = await makeInt8Variant(entry, dir, log).catch((error: Error) => ({
    quantizer: quantizerId(),
    parentSha256: entry.sha256,
    refused: `quantizing failed: ${error.message.split("\n")[0]}`,
  }));
  if ("refused" in status) log(`${entry.id}: no int8 variant (${status.refused}) [${Math.round(performance.now() - started)} ms]`);
  return status;
}

/** Quantization recipes, fastest first: the first whose output passes the gate is kept. */
const RECIPES = [
  { name: "int8 trunk", int8Adds: true },
  { name: "int8 convs, fp32 residual adds", int8Adds: false },
] as const;

/** How far below the gate a recipe may fall for the next, closer one to be tried. */
const RECIPE_REACH_DB = 6;

/** An int8 variant must be at least this much faster than its parent to be worth offering. */
const MIN_SPEEDUP = 1.15;

/**
 * Makes (or refuses, with the reason) the int8 variant of an fp32 model in `dir`: `<id>.int8.onnx` next to it.
 * A refusal is recorded too, so set-up does not try again until the parent or the quantizer changes.
 */
export async function makeInt8Variant(entry: ModelManifestEntry, dir: string, log: (line: string) => void = () => {}): Promise<Int8Status> {
  const parentFile = path.join(dir, entry.file);
  const reduceRange = !cpuHasInt8DotProduct();
  const base = { quantizer: quantizerId(), parentSha256: entry.sha256 };
  if (entry.layout !== "NCHW") return { ...base, refused: `the quantizer takes NCHW models; this one is ${entry.layout}` };
  const fp32 = await readFile(parentFile);
  const calibration = await Promise.all(CALIBRATION_CROPS.map((spec) => photoCrop(entry, spec, CALIBRATION_SIZE)));
  const heldApart = await Promise.all(HELD_APART_CROPS.map((spec) => photoCrop(entry, spec, HELD_APART_SIZE)));
  const parent = await session(parentFile);
  const refusals: string[] = [];
  try {
    const references = [];
    for (const input of heldApart) references.push(await run(parent, input));
    for (const recipe of RECIPES) {
      let quantized;
      try {
        quantized = await quantizeModel(fp32, { calibration, int8Adds: recipe.int8Adds, reduceRange });
      } catch (error) {
        if (error instanceof QuantizationError) return { ...base, refused: error.message };
        throw error;
      }
      const variant = await session(quantized.bytes);
      try {
        let worst = Infinity;
        for (const [i, input] of heldApart.entries()) worst = Math.min(worst, psnr(references[i], await run(variant, input), entry.valueRange));
        const psnrDb = Math.round(worst * 100) / 100;
        if (worst < INT8_MIN_PSNR_DB) {
          refusals.push(`${recipe.name}: ${psnrDb} dB from the fp32 output on held-apart photos (the gate is ${INT8_MIN_PSNR_DB} dB)`);
          // The next recipe gains a few dB (fp32 adds): not worth a second calibration when this one is far off.
          if (worst < INT8_MIN_PSNR_DB - RECIPE_REACH_DB) break;
          continue;
        }
        const speedInput = await photoCrop(entry, HELD_APART_CROPS[0], SPEED_TILE);
        const fp32Ms = await tileMs(parent, speedInput);
        const int8Ms = await tileMs(variant, speedInput);
        if (fp32Ms < int8Ms * MIN_SPEEDUP) {
          refusals.push(`${recipe.name}: ${int8Ms} ms per ${SPEED_TILE} px tile against ${fp32Ms} ms in fp32, not faster`);
          continue;
        }
        const file = entry.file.replace(/\.onnx$/, ".int8.onnx");
        await writeFileAtomic(path.join(dir, file), quantized.bytes);
        log(`${entry.id}: int8 (${recipe.name}) ${psnrDb} dB from fp32, ${fp32Ms} -> ${int8Ms} ms per ${SPEED_TILE} px tile`);
        return {
          ...base,
          recipe: recipe.name,
          file,
          sha256: createHash("sha256").update(quantized.bytes).digest("hex"),
          psnrDb,
          int8Convs: quantized.int8Convs,
          fp32Convs: quantized.fp32Convs.length,
          speed: { tile: SPEED_TILE, fp32Ms, int8Ms },
        };
      } finally {
        await variant.release();
      }
    }
  } finally {
    await parent.release();
  }
  return { ...base, refused: refusals.join("; ") };
}
