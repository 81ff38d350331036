// What real runs took on this machine, kept beside the calibration (models/timings.json): per model measurement
// (file, precision, provider, threading) and tile size, the ms per megapixel of a whole generate node (packing
// and unpacking included, which the calibration's pure session time leaves out); per node type without a model,
// the ms per megapixel of its work. The run planner predicts from these first, from the calibration second.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { msPerMegapixelAt, type SpeedPoint } from "../../nodes/image/tile-plan";
import { writeFileAtomic } from "../platform/files";

export interface TimingEntry {
  /** ms per megapixel (tile and node keys), or ms (session-start keys). */
  value: number;
  /** How many runs went into it. */
  runs: number;
  at: string;
}

export type Timings = Record<string, TimingEntry>;

export interface TimingSample {
  key: string;
  ms: number;
  /** What the time is per: megapixels of work, absent for a session start. */
  megapixels?: number;
}

const TIMINGS_FILE = "timings.json";
/** Weight of the newest run: recent runs count most (the machine's load and what else runs on it drift). */
const NEWEST_WEIGHT = 0.6;

export function tileTimingKey(measurementKey: string, width: number, height: number): string {
  return `${measurementKey}@${width}x${height}`;
}

/** Making a model's session (loading and optimising its graph): once per process, before its first tile. */
export function sessionTimingKey(measurementKey: string): string {
  return `start:${measurementKey}`;
}

export function nodeTimingKey(nodeType: string): string {
  return `node:${nodeType}`;
}

/** The tile sizes real runs measured for a model measurement, with their ms per megapixel. */
export function tileTimings(timings: Timings, measurementKey: string): SpeedPoint[] {
  const prefix = `${measurementKey}@`;
  return Object.entries(timings)
    .filter(([key]) => key.startsWith(prefix))
    .map(([key, entry]) => {
      const [width, height] = key.slice(prefix.length).split("x").map(Number);
      return { pixels: width * height, msPerMegapixel: entry.value };
    });
}

/**
 * A model's speed per tile size, runs first: the sizes real runs used as they measured them; the other sizes of
 * the measured (or known) curve scaled by how real runs compared with it (a whole node's time includes packing,
 * and the reference machine is not this one), so a size no run used yet is predicted from what runs here show.
 */
export function refinedSpeed(measured: SpeedPoint[], runs: SpeedPoint[]): SpeedPoint[] {
  if (!runs.length) return measured;
  if (!measured.length) return runs;
  const logRatio = runs.reduce((sum, run) => sum + Math.log(run.msPerMegapixel / msPerMegapixelAt(measured, run.pixels)), 0) / runs.length;
  const near = (point: SpeedPoint) => runs.some((run) => Math.abs(Math.log(run.pixels / point.pixels)) < Math.log(1.15));
  const scaled = measured.filter((point) => !near(point)).map((point) => ({ pixels: point.pixels, msPerMegapixel: Math.round(point.msPerMegapixel * Math.exp(logRatio)) }));
  return [...runs, ...scaled].sort((a, b) => a.pixels - b.pixels);
}

const cache = new Map<string, { stamp: string; timings: Timings }>();

export async function readTimings(dir: string): Promise<Timings> {
  const file = path.join(dir, TIMINGS_FILE);
  const stamp = await stat(file).then((info) => `${info.ino}:${info.mtimeMs}`, () => "none");
  const known = cache.get(file);
  if (known?.stamp === stamp) return known.timings;
  let timings: Timings = {};
  try {
    timings = JSON.parse(await readFile(file, "utf8")) as Timings;
  } catch {
    // none recorded yet (or a torn file from another version): start afresh
  }
  cache.set(file, { stamp, timings });
  return timings;
}

let writing: Promise<void> = Promise.resolve();

/** Folds a run's samples into the kept timings (read again just before writing: another process may have added). */
export function recordTimings(dir: string, samples: TimingSample[]): Promise<void> {
  const usable = samples.filter((sample) => sample.ms > 0 && (sample.megapixels ?? 1) > 0);
  if (!usable.length) return Promise.resolve();
  const next = writing.then(async () => {
    const timings = { ...(await readTimings(dir)) };
    const at = new Date().toISOString();
    for (const { key, ms, megapixels } of usable) {
      const measured = ms / (megapixels ?? 1);
      const before = timings[key];
      timings[key] = before
        ? { value: Math.round(before.value * (1 - NEWEST_WEIGHT) + measured * NEWEST_WEIGHT), runs: before.runs + 1, at }
        : { value: Math.round(measured), runs: 1, at };
    }
    await writeFileAtomic(path.join(dir, TIMINGS_FILE), `${JSON.stringify(timings, null, 2)}\n`);
  });
  writing = next.catch(() => undefined); // one failed write does not stop the next
  return next;
}
