// The int8 variant of a converted fp32 model: quantized with calibration tiles of real photos, then offered only
// past three gates (int8-gates.ts): close to its parent on photos the calibration never saw, faster than it on
// this kind of CPU, and costing nothing measurable against ground truth (int8-quality.ts).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import { builtInTemplates } from "../../nodes/templates/index";
import { cpuInfo, cpuKind } from "../platform/cpu-features";
import { writeFileAtomic } from "../platform/files";
import { REPO_ROOT } from "../platform/paths";
import { INT8_MAX_LOSS_DB, INT8_MIN_PSNR_DB, INT8_MIN_SPEEDUP, int8Losses } from "./int8-gates";
import { judgeInt8Quality, type JudgedModel } from "./int8-quality";
import type { Int8Refusal, Int8Status, ModelManifestEntry } from "./manifest";
import { QuantizationError, quantizeModel, QUANTIZER_VERSION } from "./quantize";

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

/**
 * Median ms of one tile for each session, timed in turns (one run of each, five times, after a warm-up): a load
 * that comes and goes slows both alike, so their ratio holds on a busy machine where separate timings would not.
 */
async function pairedTileMs(parent: ort.InferenceSession, variant: ort.InferenceSession, input: Input): Promise<{ fp32Ms: number; int8Ms: number }> {
  await run(parent, input);
  await run(variant, input);
  const fp32: number[] = [];
  const int8: number[] = [];
  for (let i = 0; i < 5; i++) {
    for (const [session, times] of [[parent, fp32], [variant, int8]] as const) {
      const started = performance.now();
      await run(session, input);
      times.push(performance.now() - started);
    }
  }
  const median = (times: number[]) => Math.round(times.sort((a, b) => a - b)[2]);
  return { fp32Ms: median(fp32), int8Ms: median(int8) };
}

/** VNNI or AMX int8 multiply-adds (no 16-bit saturation with full-range s8 weights). */
function cpuHasInt8DotProduct(): boolean {
  return cpuInfo().features.some((feature) => ["avx512_vnni", "avx_vnni", "amx_int8"].includes(feature));
}

/** The quantizer and gates as this CPU runs them: a variant judged by older gates or for 7-bit CPUs is made again. */
export function quantizerId(): string {
  return `${QUANTIZER_VERSION} gates/3${cpuHasInt8DotProduct() ? "" : "/7-bit"}`;
}

/** The models an int8 model's output may feed: those after it in a built-in template, and itself (a stage repeated). */
export function chainedModels(id: string): string[] {
  const followers = new Set([id]);
  for (const { graph } of builtInTemplates) {
    const models = new Map(graph.nodes.filter((node) => node.type === "generate").map((node) => [node.id, String(node.params?.model)]));
    for (const [nodeId, model] of models) {
      if (model !== id) continue;
      const seen = new Set([nodeId]);
      const next = [nodeId];
      while (next.length) {
        const source = next.pop()!;
        for (const edge of graph.edges) {
          if (edge.source !== source || seen.has(edge.target)) continue;
          seen.add(edge.target);
          const downstream = models.get(edge.target);
          if (downstream) followers.add(downstream);
          else next.push(edge.target);
        }
      }
    }
  }
  return [...followers];
}

/** The previous int8 status while the parent, the quantizer, its gates and the CPU kind are all unchanged (and the file intact). */
export async function keptInt8Status(entry: ModelManifestEntry, previous: Int8Status | undefined, dir: string): Promise<Int8Status | undefined> {
  if (!previous || previous.quantizer !== quantizerId() || previous.parentSha256 !== entry.sha256 || previous.cpuKind !== cpuKind()) return undefined;
  if ("refused" in previous) return previous;
  if (!previous.quality) return undefined;
  const bytes = await readFile(path.join(dir, previous.file)).catch(() => undefined);
  return bytes && createHash("sha256").update(bytes).digest("hex") === previous.sha256 ? previous : undefined;
}

/** A new int8 variant (or refusal) for an entry, logged; `followers` are the models its output may feed (chainedModels). */
export async function newInt8Status(entry: ModelManifestEntry, dir: string, followers: ModelManifestEntry[], log: (line: string) => void): Promise<Int8Status> {
  const started = performance.now();
  // A graph the quantizer or ONNX Runtime cannot take is a refusal, never a failed set-up.
  const status = await makeInt8Variant(entry, dir, followers, log).catch(
    (error: Error): Int8Refusal => ({ ...statusBase(entry), refused: `quantizing failed: ${error.message.split("\n")[0]}` }),
  );
  if ("refused" in status) log(`${entry.id}: no int8 variant (${status.refused}) [${Math.round(performance.now() - started)} ms]`);
  return status;
}

function statusBase(entry: ModelManifestEntry) {
  return { quantizer: quantizerId(), parentSha256: entry.sha256, cpuKind: cpuKind() };
}

/** Quantization recipes, fastest first: the first whose output passes the gate is kept. */
const RECIPES = [
  { name: "int8 trunk", int8Adds: true },
  { name: "int8 convs, fp32 residual adds", int8Adds: false },
  // Mixed precision, the slowest (a Transpose pair at each fp32/int8 border): the convs that carry rounding into
  // the residual stream or the image stay fp32 (psnr-small-x2: 53.9 dB from fp32 where the others reach 42).
  { name: "mixed: fp32 residual, wide-concat and upsampler convs", int8Adds: false, fp32Upsampler: true, fp32ResidualConvs: true, fp32WideConcats: 4, mixed: true },
] as const;

/** How far below the gate a recipe may fall for the next, closer one to be tried. */
const RECIPE_REACH_DB = 6;

/**
 * Makes (or refuses, with the reason) the int8 variant of an fp32 model in `dir`: `<id>.int8.onnx` next to it.
 * `followers` are the models its output may feed, judged chained. A refusal is recorded too, so nothing tries
 * again until the parent, the quantizer, its gates or the CPU kind change.
 */
export async function makeInt8Variant(entry: ModelManifestEntry, dir: string, followers: ModelManifestEntry[] = [], log: (line: string) => void = () => {}): Promise<Int8Status> {
  const parentFile = path.join(dir, entry.file);
  const reduceRange = !cpuHasInt8DotProduct();
  const base = statusBase(entry);
  if (entry.layout !== "NCHW") return { ...base, refused: `the quantizer takes NCHW models; this one is ${entry.layout}` };
  const fp32 = await readFile(parentFile);
  const calibration = await Promise.all(CALIBRATION_CROPS.map((spec) => photoCrop(entry, spec, CALIBRATION_SIZE)));
  const heldApart = await Promise.all(HELD_APART_CROPS.map((spec) => photoCrop(entry, spec, HELD_APART_SIZE)));
  const parent = await session(parentFile);
  const followerModels: JudgedModel[] = [];
  const refusals: string[] = [];
  try {
    const references = [];
    for (const input of heldApart) references.push(await run(parent, input));
    let onlyMixed = false;
    for (const recipe of RECIPES) {
      if (onlyMixed && !("mixed" in recipe)) continue;
      const { name: _name, ...options } = recipe;
      let quantized;
      try {
        quantized = await quantizeModel(fp32, { calibration, reduceRange, ...options });
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
          // The next recipe gains a few dB (fp32 adds): when this one is far off, only mixed precision may reach it.
          if (worst < INT8_MIN_PSNR_DB - RECIPE_REACH_DB) onlyMixed = true;
          continue;
        }
        const { fp32Ms, int8Ms } = await pairedTileMs(parent, variant, await photoCrop(entry, HELD_APART_CROPS[0], SPEED_TILE));
        if (fp32Ms < int8Ms * INT8_MIN_SPEEDUP) {
          refusals.push(`${recipe.name}: ${int8Ms} ms per ${SPEED_TILE} px tile against ${fp32Ms} ms in fp32, not ${INT8_MIN_SPEEDUP}x faster`);
          continue;
        }
        if (!followerModels.length) {
          for (const follower of followers) followerModels.push({ entry: follower, session: follower.id === entry.id ? parent : await session(path.join(dir, follower.file)) });
        }
        const quality = await judgeInt8Quality({ entry, session: parent }, { entry, session: variant }, followerModels);
        const losses = int8Losses(quality);
        if (losses.alone > INT8_MAX_LOSS_DB) {
          refusals.push(`${recipe.name}: costs ${losses.alone} dB Y-PSNR against ground truth on held-apart photos (the limit is ${INT8_MAX_LOSS_DB} dB)`);
          continue;
        }
        const file = entry.file.replace(/\.onnx$/, ".int8.onnx");
        await writeFileAtomic(path.join(dir, file), quantized.bytes);
        log(
          `${entry.id}: int8 (${recipe.name}) ${psnrDb} dB from fp32, ${fp32Ms} -> ${int8Ms} ms per ${SPEED_TILE} px tile, ` +
            `${losses.alone} dB lost against ground truth (${losses.chained} dB feeding ${losses.worstInto})`,
        );
        return {
          ...base,
          recipe: recipe.name,
          file,
          sha256: createHash("sha256").update(quantized.bytes).digest("hex"),
          psnrDb,
          int8Convs: quantized.int8Convs,
          fp32Convs: quantized.fp32Convs.length,
          speed: { tile: SPEED_TILE, fp32Ms, int8Ms },
          quality,
        };
      } finally {
        await variant.release();
      }
    }
  } finally {
    for (const follower of followerModels) if (follower.session !== parent) await follower.session.release();
    await parent.release();
  }
  return { ...base, refused: refusals.join("; ") };
}
