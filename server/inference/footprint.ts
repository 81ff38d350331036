// What a model costs on this machine, known before its first run so that run starts at once: peak memory as a
// function of the tile size, how far from a tile's border its output still differs from the whole-image result
// (the overlap tiles need), and its speed per tile size. Memory and border are properties of the model file
// (and ONNX Runtime's version), not of the machine: for the built-in models they were measured once and are
// committed in known-footprints.json, keyed by the file's sha256, with a reference speed curve that this
// machine's own figure (the tile set-up timed for threading, session-settings.json) scales. A model with nothing
// known (an upload) runs at once on conservative figures while a low-priority child process measures it; the
// measurement is kept in models/measurements.json and replaces the estimate. Runs then refine the speed
// (run-timings.ts). The tile planner and the run planner predict from these, never from constants.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { msPerMegapixelAt, type SpeedPoint } from "../../nodes/image/tile-plan";
import type { ModelManifestEntry } from "../models/manifest";
import { writeFileAtomic } from "../platform/files";
import { refinedSpeed } from "./run-timings";
import type { SessionSettings } from "./session-settings";

export interface ModelMeasurement {
  /** Peak memory the model's session holds for one run of a tile: baseBytes + bytesPerInputPixel x its pixels. */
  baseBytes: number;
  bytesPerInputPixel: number;
  /**
   * What the first session of a process adds once beyond that (ONNX Runtime's code and state): a second model in
   * the same process does not pay it again.
   */
  processBytes: number;
  /** Input pixels from a tile's border within which its output differs from the whole image's (below 50 dB). */
  borderPx: number;
  /** Inference time per input megapixel at the first measured tile size. */
  msPerInputMegapixel: number;
  /** Inference time per input megapixel by tile size (at least one point), on this machine. */
  speed: SpeedPoint[];
  /** Making the session (loading and optimising the model). */
  sessionMs?: number;
  /** The tile sizes measured (input pixels a side): memory at both. */
  tiles: [number, number];
  /**
   * Where it came from: measured on this machine, known for this model file (committed; speed scaled to this
   * machine), or estimated (nothing known yet: conservative, a measurement under way).
   */
  basis: "measured" | "known" | "estimate";
  measuredAt: string;
}

/** What footprint-child.ts prints for one tile size (its own process). */
export interface TileBytes {
  bytes: number;
}

/** What footprint-child.ts prints without a size. */
export type SessionFacts = Pick<ModelMeasurement, "processBytes" | "borderPx" | "msPerInputMegapixel" | "sessionMs">;

export interface MeasureRequest {
  file: string;
  valueRange: [number, number];
  layout: ModelManifestEntry["layout"];
  sizeMultiple: number;
  threads: number;
  spinning: boolean;
  /** Measure the memory of this tile size only (one size per process). */
  size?: number;
  /** Time a tile of each of these sizes (a speed curve) instead. */
  speedSizes?: number[];
}

/** A model file's footprint as committed in known-footprints.json. */
export interface KnownFootprint {
  model: string;
  precision: "fp32" | "int8";
  baseBytes: number;
  bytesPerInputPixel: number;
  processBytes: number;
  borderPx: number;
  sessionMs: number;
  tiles: [number, number];
  /** ms per input megapixel by tile size on the reference machine. */
  speed: SpeedPoint[];
}

export interface KnownFootprints {
  version: string;
  /** ONNX Runtime's version the memory was measured with (another version may allocate otherwise). */
  onnxRuntime: string;
  /** Where the speed curves were measured. */
  reference: { cpu: string; threads: number; spinning: boolean; measuredAt: string };
  /** By the model file's sha256 (CPU provider). */
  models: Record<string, KnownFootprint>;
}

const MEASUREMENTS_FILE = "measurements.json";
/** Bumped when what is measured changes, so older measurements are not read as new ones. */
const MEASUREMENT_VERSION = "m4";
const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(HERE, "footprint-child.ts");
export const KNOWN_FOOTPRINTS_FILE = path.join(HERE, "known-footprints.json");
/** Tile sides of the committed speed curves. */
export const SPEED_SIZES = [64, 96, 128, 192, 256, 384, 512];
/** What a model with nothing known is assumed to cost: more memory than any built-in model (realesrgan-x4plus: 15 kB a pixel), a 16 px border (64 px overlap; its own reaches 29). */
const ESTIMATE = { baseBytes: 128 * 2 ** 20, bytesPerInputPixel: 32 * 1024, processBytes: 64 * 2 ** 20, borderPx: 16, msPerInputMegapixel: 250_000 };
/** Memory known for another ONNX Runtime version is taken with this margin until measured here. */
const OTHER_RUNTIME_MARGIN = 1.25;

/**
 * The tile sizes a measurement runs: small enough to be quick, large enough that the fixed part of a session's
 * memory does not hide the part that grows with the tile (a line through them holds to 384 px and more).
 */
export function measuredTiles(sizeMultiple: number): [number, number] {
  const round = (size: number) => Math.max(sizeMultiple, size - (size % sizeMultiple));
  return [round(128), round(192)];
}

/** The sha256 of the file a model runs at a precision. */
function fileSha(entry: ModelManifestEntry, precision: "fp32" | "int8"): string {
  return precision === "int8" && entry.int8 && "sha256" in entry.int8 ? entry.int8.sha256 : entry.sha256;
}

/** Identifies a measurement: the model file (by hash), precision, provider and threading. */
export function measurementKey(entry: ModelManifestEntry, precision: "fp32" | "int8", provider: string, threads: number, spinning: boolean): string {
  return `${MEASUREMENT_VERSION}:${fileSha(entry, precision)}:${precision}:${provider}:${threads}${spinning ? "+spin" : ""}`;
}

async function readMeasurements(dir: string): Promise<Record<string, ModelMeasurement>> {
  try {
    return JSON.parse(await readFile(path.join(dir, MEASUREMENTS_FILE), "utf8")) as Record<string, ModelMeasurement>;
  } catch {
    return {};
  }
}

let knownCache: KnownFootprints | undefined;
function knownFootprints(): KnownFootprints | undefined {
  try {
    knownCache ??= JSON.parse(readFileSync(KNOWN_FOOTPRINTS_FILE, "utf8")) as KnownFootprints;
  } catch {
    return undefined;
  }
  return knownCache;
}

const settingsLabel = (threads: number, spinning: boolean) => `${threads} thread${threads === 1 ? "" : "s"}, spinning ${spinning ? "on" : "off"}`;

/**
 * How much slower than the reference machine this one runs models: the tile set-up timed for threading
 * (session-settings.json names its file, by sha256, and size), against the known curve of that file at that size
 * (1 where either is missing).
 */
export function machineFactor(settings: SessionSettings, known = knownFootprints()): number {
  const here = settings.measured?.[settingsLabel(settings.threads, settings.spinning)];
  const [, sha, width, height] = /\(([0-9a-f]+)\) (\d+)x(\d+)/.exec(settings.tile ?? "") ?? [];
  const file = sha && known ? Object.entries(known.models).find(([fileSha]) => fileSha.startsWith(sha))?.[1] : undefined;
  if (!here || !file) return 1;
  const pixels = Number(width) * Number(height);
  return here / ((msPerMegapixelAt(file.speed, pixels) * pixels) / 1e6);
}

/** Spawns one part of the measurement in a child process of its own, so its peak memory is the model's alone. */
function measureInChild<T>(request: MeasureRequest, options: { background?: boolean } = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", CHILD, JSON.stringify(request)], { stdio: ["ignore", "pipe", "pipe"] });
    if (options.background) background(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk) => (stdout += chunk));
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => {
      children.delete(child);
      if (code !== 0) return reject(new Error(`measuring ${path.basename(request.file)} failed: ${stderr.trim().split("\n").pop() ?? `exit ${code}`}`));
      try {
        resolve(JSON.parse(stdout.trim().split("\n").pop()!) as T);
      } catch (error) {
        reject(new Error(`measuring ${path.basename(request.file)} printed no result (${(error as Error).message})`));
      }
    });
  });
}

const children = new Set<ChildProcess>();
/**
 * A background measurement yields the CPU to runs (lowest priority) and does not keep this process alive: a
 * process that ends first (a `tudsr run`) ends it too; a long-lived one (the studio, a worker) keeps the result.
 */
function background(child: ChildProcess): void {
  if (child.pid) os.setPriority(child.pid, 19);
  child.unref();
  (child.stdout as unknown as { unref?(): void } | null)?.unref?.();
  (child.stderr as unknown as { unref?(): void } | null)?.unref?.();
  if (!children.size) process.once("exit", () => children.forEach((running) => running.kill()));
  children.add(child);
}

/** Time, border and process memory in one child, then each tile size's memory in a child of its own. */
async function measure(request: MeasureRequest, options: { background?: boolean }): Promise<Omit<ModelMeasurement, "basis" | "speed">> {
  const facts = await measureInChild<SessionFacts>(request, options);
  const tiles = measuredTiles(request.sizeMultiple);
  const [small, large] = tiles;
  const bytes: number[] = [];
  for (const size of tiles) bytes.push((await measureInChild<TileBytes>({ ...request, size }, options)).bytes);
  const bytesPerInputPixel = Math.max(0, (bytes[1] - bytes[0]) / (large * large - small * small));
  // The line through both sizes is what one model's process holds; ONNX Runtime's part is the start of it (no
  // more than the line has there: both are measurements, in different processes).
  const intercept = Math.max(0, bytes[1] - bytesPerInputPixel * large * large);
  const processBytes = Math.min(facts.processBytes, intercept);
  return {
    ...facts,
    processBytes: Math.round(processBytes),
    baseBytes: Math.round(intercept - processBytes),
    bytesPerInputPixel: Math.round(bytesPerInputPixel),
    tiles,
    measuredAt: new Date().toISOString(),
  };
}

export interface FootprintOptions {
  /** The models folder (model files, measurements.json). */
  dir: string;
  precision: "fp32" | "int8";
  provider: string;
  /** The session settings every session uses (threads, spinning; their timed tile scales known speeds). */
  settings: SessionSettings;
  /** ONNX Runtime's version here. */
  onnxRuntime: string;
}

function requestFor(entry: ModelManifestEntry, options: FootprintOptions): MeasureRequest {
  const int8 = options.precision === "int8" && entry.int8 && "file" in entry.int8 ? entry.int8 : undefined;
  const { threads, spinning } = options.settings;
  return { file: path.join(options.dir, int8?.file ?? entry.file), valueRange: entry.valueRange, layout: entry.layout, sizeMultiple: entry.sizeMultiple, threads, spinning };
}

/**
 * Measures a model file on this machine now (three child processes: seconds for small models, about a minute for
 * realesrgan-x4plus) and keeps the result in the models folder.
 */
export async function measureFootprint(entry: ModelManifestEntry, options: FootprintOptions & { background?: boolean }): Promise<ModelMeasurement> {
  const id = measurementKey(entry, options.precision, options.provider, options.settings.threads, options.settings.spinning);
  const facts = await measure(requestFor(entry, options), options);
  let measured: ModelMeasurement = { ...facts, speed: [{ pixels: facts.tiles[0] ** 2, msPerMegapixel: facts.msPerInputMegapixel }], basis: "measured" };
  // How far a border reaches is the architecture's: the fp32 parent's (int8 rounding noise is not a seam).
  if (options.precision === "int8") {
    const parent = await modelMeasurement(entry, { ...options, precision: "fp32" });
    if (parent.basis !== "estimate") measured = { ...measured, borderPx: parent.borderPx };
  }
  // Read again just before writing: another process may have added its own meanwhile. Measurements of an older
  // version are never read again: they go.
  const kept = Object.entries(await readMeasurements(options.dir)).filter(([key]) => key.startsWith(`${MEASUREMENT_VERSION}:`));
  await writeFileAtomic(path.join(options.dir, MEASUREMENTS_FILE), `${JSON.stringify({ ...Object.fromEntries(kept), [id]: measured }, null, 2)}\n`);
  return measured;
}

/** The reference speed curve of a model file (known-footprints.json), measured in a fresh child process. */
export function measureSpeedCurve(entry: ModelManifestEntry, options: FootprintOptions): Promise<{ speed: SpeedPoint[] }> {
  return measureInChild<{ speed: SpeedPoint[] }>({ ...requestFor(entry, options), speedSizes: SPEED_SIZES.filter((size) => size % entry.sizeMultiple === 0) });
}

/** Background measurements under way, by measurement key (one at a time per key in this process). */
const measuring = new Map<string, Promise<ModelMeasurement | undefined>>();

/**
 * A model's costs on this machine, at once: measured here (models folder), else known for its file
 * (known-footprints.json, speed scaled to this machine), else a conservative estimate while a low-priority child
 * process measures it. `onBackground` is given that measurement when one starts.
 */
export async function modelMeasurement(entry: ModelManifestEntry, options: FootprintOptions & { onBackground?: (done: Promise<ModelMeasurement | undefined>) => void }): Promise<ModelMeasurement> {
  const id = measurementKey(entry, options.precision, options.provider, options.settings.threads, options.settings.spinning);
  const known = options.provider === "cpu" ? knownFootprints() : undefined;
  const factor = machineFactor(options.settings, known);
  let file = known?.models[fileSha(entry, options.precision)];
  const parent = known?.models[entry.sha256];
  const int8 = options.precision === "int8" && entry.int8 && "speed" in entry.int8 ? entry.int8 : undefined;
  if (!file && parent && int8?.speed.fp32Ms && int8.speed.int8Ms) {
    // An int8 variant nothing knows of a parent something does: the parent's border (the architecture's) and
    // memory (int8 holds less a pixel: an upper bound), its speed by the variant's measured speed-up.
    const ratio = int8.speed.int8Ms / int8.speed.fp32Ms;
    file = { ...parent, precision: "int8", speed: parent.speed.map((point) => ({ pixels: point.pixels, msPerMegapixel: point.msPerMegapixel * ratio })) };
  }
  const knownSpeed = file?.speed.map((point) => ({ pixels: point.pixels, msPerMegapixel: Math.round(point.msPerMegapixel * factor) }));
  const measured = (await readMeasurements(options.dir))[id];
  if (measured) {
    // Its timed tile here (measurements older than speed curves have that one), the known curve's shape through it.
    const timed = measured.speed ?? [{ pixels: measured.tiles[0] ** 2, msPerMegapixel: measured.msPerInputMegapixel }];
    return { ...measured, speed: knownSpeed ? refinedSpeed(knownSpeed, timed) : timed, basis: "measured" };
  }
  if (known && file && knownSpeed) {
    // Memory of another ONNX Runtime version: with a margin, and measured here meanwhile.
    const margin = known.onnxRuntime === options.onnxRuntime ? 1 : OTHER_RUNTIME_MARGIN;
    if (margin !== 1) startMeasuring(id, entry, options);
    const speed = knownSpeed;
    return {
      baseBytes: Math.round(file.baseBytes * margin),
      bytesPerInputPixel: Math.round(file.bytesPerInputPixel * margin),
      processBytes: Math.round(file.processBytes * margin),
      borderPx: file.borderPx,
      msPerInputMegapixel: speed.find((point) => point.pixels === file.tiles[0] ** 2)?.msPerMegapixel ?? speed[0].msPerMegapixel,
      speed,
      sessionMs: file.sessionMs,
      tiles: file.tiles,
      basis: "known",
      measuredAt: known.reference.measuredAt,
    };
  }
  startMeasuring(id, entry, options);
  const msPerInputMegapixel = Math.round(ESTIMATE.msPerInputMegapixel * factor);
  const tiles = measuredTiles(entry.sizeMultiple);
  return { ...ESTIMATE, msPerInputMegapixel, speed: [{ pixels: tiles[0] ** 2, msPerMegapixel: msPerInputMegapixel }], tiles, basis: "estimate", measuredAt: new Date().toISOString() };
}

function startMeasuring(id: string, entry: ModelManifestEntry, options: FootprintOptions & { onBackground?: (done: Promise<ModelMeasurement | undefined>) => void }): void {
  if (measuring.has(id)) return;
  // A failed measurement leaves the estimate (the run goes on); the next process tries again.
  const done = measureFootprint(entry, { ...options, background: true }).catch(() => undefined);
  measuring.set(id, done);
  options.onBackground?.(done);
}
