// What a model costs on this machine, measured once per (model file, precision, provider, threading) and kept in
// the models folder: peak memory as a function of the tile size, time per pixel, and how far from a tile's
// border its output still differs from the whole-image result (the overlap tiles need). The tile planner and
// the run planner predict from these, never from constants.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ModelManifestEntry } from "../models/manifest";
import { writeFileAtomic } from "../platform/files";

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
  /** Inference time per input megapixel, at the first measured tile. */
  msPerInputMegapixel: number;
  /** Making the session (loading and optimising the model); absent in measurements older than it. */
  sessionMs?: number;
  /** The tile sizes measured (input pixels a side): memory at both, time at the first. */
  tiles: [number, number];
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
}

const MEASUREMENTS_FILE = "measurements.json";
/** Bumped when what is measured changes, so older measurements are not read as new ones. */
const MEASUREMENT_VERSION = "m4";
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "footprint-child.ts");

/**
 * The tile sizes a measurement runs: small enough to be quick, large enough that the fixed part of a session's
 * memory does not hide the part that grows with the tile (a line through them holds to 384 px and more).
 */
export function measuredTiles(sizeMultiple: number): [number, number] {
  const round = (size: number) => Math.max(sizeMultiple, size - (size % sizeMultiple));
  return [round(128), round(192)];
}

/** Identifies a measurement: the model file (by hash), precision, provider and threading. */
export function measurementKey(entry: ModelManifestEntry, precision: "fp32" | "int8", provider: string, threads: number, spinning: boolean): string {
  const sha = precision === "int8" && entry.int8 && "sha256" in entry.int8 ? entry.int8.sha256 : entry.sha256;
  return `${MEASUREMENT_VERSION}:${sha}:${precision}:${provider}:${threads}${spinning ? "+spin" : ""}`;
}

async function readMeasurements(dir: string): Promise<Record<string, ModelMeasurement>> {
  try {
    return JSON.parse(await readFile(path.join(dir, MEASUREMENTS_FILE), "utf8")) as Record<string, ModelMeasurement>;
  } catch {
    return {};
  }
}

/** Runs one part of the measurement in a child process of its own, so its peak memory is the model's alone. */
function measureInChild<T>(request: MeasureRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", CHILD, JSON.stringify(request)], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`measuring ${path.basename(request.file)} failed: ${stderr.trim().split("\n").pop() ?? `exit ${code}`}`));
      try {
        resolve(JSON.parse(stdout.trim().split("\n").pop()!) as T);
      } catch (error) {
        reject(new Error(`measuring ${path.basename(request.file)} printed no result (${(error as Error).message})`));
      }
    });
  });
}

/** Time, border and process memory in one child, then each tile size's memory in a child of its own. */
async function measure(request: MeasureRequest): Promise<ModelMeasurement> {
  const facts = await measureInChild<SessionFacts>(request);
  const tiles = measuredTiles(request.sizeMultiple);
  const [small, large] = tiles;
  const bytes: number[] = [];
  for (const size of tiles) bytes.push((await measureInChild<TileBytes>({ ...request, size })).bytes);
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

const pending = new Map<string, Promise<ModelMeasurement>>();

/** The measurement of a model on this machine: from the models folder, else measured now (a few seconds) and kept. */
export function modelMeasurement(
  entry: ModelManifestEntry,
  options: { dir: string; precision: "fp32" | "int8"; provider: string; threads: number; spinning: boolean; /** Called when it had to measure (seconds of work). */ onMeasure?: () => void },
): Promise<ModelMeasurement> {
  const id = measurementKey(entry, options.precision, options.provider, options.threads, options.spinning);
  let measurement = pending.get(id);
  if (!measurement) {
    measurement = (async () => {
      const known = (await readMeasurements(options.dir))[id];
      if (known) return known;
      options.onMeasure?.();
      const int8 = options.precision === "int8" && entry.int8 && "file" in entry.int8 ? entry.int8 : undefined;
      let measured = await measure({
        file: path.join(options.dir, int8?.file ?? entry.file),
        valueRange: entry.valueRange,
        layout: entry.layout,
        sizeMultiple: entry.sizeMultiple,
        threads: options.threads,
        spinning: options.spinning,
      });
      // How far a border reaches is the architecture's: the fp32 parent's (int8 rounding noise is not a seam).
      if (int8) measured = { ...measured, borderPx: (await modelMeasurement(entry, { ...options, precision: "fp32" })).borderPx };
      // Read again just before writing: another process may have added its own meanwhile. Measurements of
      // an older version are never read again: they go.
      const kept = Object.entries(await readMeasurements(options.dir)).filter(([key]) => key.startsWith(`${MEASUREMENT_VERSION}:`));
      await writeFileAtomic(path.join(options.dir, MEASUREMENTS_FILE), `${JSON.stringify({ ...Object.fromEntries(kept), [id]: measured }, null, 2)}\n`);
      return measured;
    })();
    pending.set(id, measurement);
    measurement.catch(() => pending.delete(id));
  }
  return measurement;
}

