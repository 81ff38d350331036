// ONNX Runtime's CPU threading, chosen by measurement: set-up times a real tile under each candidate (intra-op
// threads x spinning) and keeps the fastest in the models folder; every session reads it. Spinning threads
// busy-wait between operators: on a machine with few cores they can take the CPU from the very thread they
// wait for, so which is faster is measured here, not assumed. $TUDSR_ORT_THREADS and $TUDSR_ORT_SPINNING
// (on/off) override the measured choice.
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { photoCrop } from "../models/int8-variant";
import type { ModelManifestEntry } from "../models/manifest";
import { writeFileAtomic } from "../platform/files";

export interface SessionSettings {
  threads: number;
  spinning: boolean;
  /** Where the choice came from. */
  source: "measured" | "environment" | "default";
  /** Fastest ms per tile of each candidate, as `<threads> threads, spinning on|off`, when measured. */
  measured?: Record<string, number>;
  tile?: string;
}

const SETTINGS_FILE = "session-settings.json";

/** What a session runs with before anything was measured: every core, no spinning (the safer of the two on a busy machine). */
function defaults(): SessionSettings {
  return { threads: os.availableParallelism(), spinning: false, source: "default" };
}

function fromEnvironment(settings: SessionSettings, env: NodeJS.ProcessEnv): SessionSettings {
  const threads = env.TUDSR_ORT_THREADS;
  const spinning = env.TUDSR_ORT_SPINNING;
  if (!threads && !spinning) return settings;
  const next = { ...settings, source: "environment" as const };
  if (threads) {
    const value = Number(threads);
    if (!Number.isInteger(value) || value < 1) throw new Error(`TUDSR_ORT_THREADS must be a whole number of threads >= 1, got "${threads}"`);
    next.threads = value;
  }
  if (spinning) {
    if (spinning !== "on" && spinning !== "off") throw new Error(`TUDSR_ORT_SPINNING must be on or off, got "${spinning}"`);
    next.spinning = spinning === "on";
  }
  return next;
}

/** The settings sessions use with the models in `dir`. */
export function sessionSettings(dir: string, env: NodeJS.ProcessEnv = process.env): SessionSettings {
  let settings = defaults();
  try {
    const stored = JSON.parse(readFileSync(path.join(dir, SETTINGS_FILE), "utf8")) as SessionSettings;
    // Measured on another machine (a copied models folder): the thread count may not fit this one.
    if (stored.threads <= os.availableParallelism()) settings = stored;
  } catch {
    // Not measured yet: the defaults.
  }
  return fromEnvironment(settings, env);
}

/** The ONNX Runtime session options for these settings. */
export function sessionOptions(settings: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: settings.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    // The memory pattern ORT plans after a first run is a second, separate block of the run's whole size: with it
    // a session held 1.7x the memory of one run (psnr-small-x2, 256 px: 841 MB against 493 MB), at the same speed.
    enableMemPattern: false,
    extra: { session: { intra_op: { allow_spinning: settings.spinning ? "1" : "0" } } },
  };
}

function label(threads: number, spinning: boolean): string {
  return `${threads} thread${threads === 1 ? "" : "s"}, spinning ${spinning ? "on" : "off"}`;
}

/**
 * Times one tile of `file` under each candidate setting and keeps the fastest in `dir`. The candidates run in
 * turns (one tile each, round after round, after a warm-up) and each keeps its fastest tile: a load that comes
 * and goes (the studio's own build, another process) then slows every candidate alike instead of whichever ran
 * during it. `input` is a real photo tile in the model's range.
 */
export async function measureSessionSettings(
  file: string,
  input: { data: Float32Array; dims: number[] },
  dir: string,
  /** Names the file and tile measured: a later set-up measures again when it changed. */
  tile: string,
  log: (line: string) => void = () => {},
): Promise<SessionSettings> {
  const cores = os.availableParallelism();
  const counts = [...new Set([1, Math.max(1, Math.floor(cores / 2)), cores])];
  const candidates = counts.flatMap((threads) => [false, true].map((spinning) => ({ threads, spinning, ms: Infinity })));
  const sessions: ort.InferenceSession[] = [];
  try {
    for (const { threads, spinning } of candidates) {
      sessions.push(await ort.InferenceSession.create(file, { ...sessionOptions({ threads, spinning, source: "measured" }), logSeverityLevel: 3 }));
    }
    const feeds = { [sessions[0].inputNames[0]]: new ort.Tensor("float32", input.data, input.dims) };
    for (const session of sessions) await session.run(feeds);
    for (let round = 0; round < 3; round++) {
      for (const [i, session] of sessions.entries()) {
        const started = performance.now();
        await session.run(feeds);
        candidates[i].ms = Math.min(candidates[i].ms, performance.now() - started);
      }
    }
  } finally {
    for (const session of sessions) await session.release();
  }
  const best = candidates.reduce((a, b) => (b.ms < a.ms ? b : a));
  const measured = Object.fromEntries(candidates.map(({ threads, spinning, ms }) => [label(threads, spinning), Math.round(ms)]));
  const settings: SessionSettings = { threads: best.threads, spinning: best.spinning, source: "measured", measured, tile };
  await writeFileAtomic(path.join(dir, SETTINGS_FILE), `${JSON.stringify(settings, null, 2)}\n`);
  log(`ONNX Runtime: ${label(settings.threads, settings.spinning)} (${Object.entries(measured).map(([name, ms]) => `${name}: ${ms} ms`).join(", ")} per ${settings.tile} tile, fastest of 3 in turns)`);
  return settings;
}

export function describeSettings(settings: SessionSettings): string {
  return `${label(settings.threads, settings.spinning)} (${settings.source})`;
}

/** The model whose tile times choose ONNX Runtime's threading: the default template's, as it runs by default. */
const SETTINGS_MODEL = "esrgan-thick-x4";

/** Measures ONNX Runtime's threading on this machine once (again when the model it was timed on changed). */
export async function chooseSessionSettings(models: ModelManifestEntry[], dir: string, log: (line: string) => void): Promise<void> {
  const entry = models.find((model) => model.id === SETTINGS_MODEL);
  if (!entry) return;
  const file = entry.int8 && "file" in entry.int8 ? entry.int8.file : entry.file;
  const input = await photoCrop(entry, ["astronaut.png", 180, 80], 128);
  const sha256 = entry.int8 && "sha256" in entry.int8 ? entry.int8.sha256 : entry.sha256;
  const tile = `${file} (${sha256.slice(0, 12)}) 128x128`;
  // No environment: what set-up measured before, not what TUDSR_ORT_THREADS would make it (Next's types require NODE_ENV).
  const known = sessionSettings(dir, {} as NodeJS.ProcessEnv);
  if (known.source === "measured" && known.tile === tile) return;
  await measureSessionSettings(path.join(dir, file), input, dir, tile, log);
}
