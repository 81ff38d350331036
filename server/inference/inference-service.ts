import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { throwIfAborted } from "../../nodes/graph/define-node";
import type { ExecutionProvider, InferenceOptions, ModelInfo, Precision, Tensor } from "../../nodes/graph/models";
import { type ModelCost, msPerMegapixelAt } from "../../nodes/image/tile-plan";
import { int8Offer, MANIFEST_FILE, modelFile, type ModelManifestEntry, modelsDir, readModelManifest } from "../models/manifest";
import { measurementKey, type ModelMeasurement, modelMeasurement } from "./footprint";
import { readTimings, refinedSpeed, tileTimings } from "./run-timings";
import { sessionOptions, type SessionSettings, sessionSettings } from "./session-settings";

export class UnknownModelError extends Error {}
/**
 * Bytes one tile's inference may take, for the tile planner: $TUDSR_MEMORY_BUDGET_MB, else a quarter of this
 * machine's memory up to 2 GiB (room for the images themselves and for other runs).
 */
export function memoryBudgetBytes(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.TUDSR_MEMORY_BUDGET_MB;
  if (text) {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`TUDSR_MEMORY_BUDGET_MB must be a positive number of megabytes, got "${text}"`);
    return value * 2 ** 20;
  }
  return Math.min(2 * 2 ** 30, os.totalmem() / 4);
}


/** The onnxruntime-node package's version (its native library has the same one). */
export function onnxRuntimeVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

// sha256 of model files, per file version: a run's stamp names every model file it ran, and hashing a large
// model on every run would cost more than a small run does.
const fileHashes = new Map<string, Promise<string>>();

async function fileSha256(file: string): Promise<string> {
  const info = await stat(file);
  const key = `${file}\u0000${info.ino}\u0000${info.size}\u0000${info.mtimeMs}`;
  let hash = fileHashes.get(key);
  if (!hash) {
    hash = new Promise<string>((resolve, reject) => {
      const digest = createHash("sha256");
      createReadStream(file)
        .on("data", (chunk) => digest.update(chunk))
        .on("error", reject)
        .on("end", () => resolve(digest.digest("hex")));
    });
    fileHashes.set(key, hash);
    hash.catch(() => fileHashes.delete(key));
  }
  return hash;
}

/** Sum of pure session.run time, read by the benchmark to tell engine overhead from inference. */
export interface InferenceStats {
  runs: number;
  ms: number;
}

/**
 * ONNX Runtime sessions, one per (model, execution provider), created on first use and kept. The provider is
 * a per-call setting: when it is missing here, the call fails or falls back to CPU with a note, as asked.
 */
export class InferenceService {
  readonly stats: InferenceStats = { runs: 0, ms: 0 };
  /** How long making each session took (model id, provider and precision as sessions are keyed): run timings leave it out of per-tile time. */
  readonly sessionStarts: { modelId: string; provider: ExecutionProvider; precision: Precision; ms: number }[] = [];
  /** Measurements of models with nothing known, started in the background by this process (a run never waits for them). */
  readonly backgroundMeasurements: Promise<ModelMeasurement | undefined>[] = [];
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private manifest?: Promise<Map<string, ModelManifestEntry>>;
  private manifestStamp?: string;

  /** ONNX Runtime's threading for every session: measured at set-up (session-settings.ts), or as asked. */
  readonly settings: SessionSettings;
  private readonly threads: number;

  constructor(
    private readonly dir = modelsDir(),
    threads?: number,
  ) {
    const settings = sessionSettings(dir);
    this.settings = threads ? { ...settings, threads, source: "environment" } : settings;
    this.threads = this.settings.threads;
  }

  /** ONNX Runtime threads of every session (a run's stamp records them). */
  get intraOpThreads(): number {
    return this.threads;
  }

  /** The file a model runs at a precision, and that file's sha256 as it is on disk now. */
  async modelFileStamp(modelId: string, precision: Precision): Promise<{ file: string; sha256: string }> {
    const entry = (await this.entries()).get(modelId);
    if (!entry) throw new UnknownModelError(`unknown model "${modelId}"`);
    const file = modelFile(entry, precision);
    return { file, sha256: await fileSha256(path.join(this.dir, file)) };
  }

  /** Whether a session of this model file ran (was made) on this provider in this process. */
  hasSession(modelId: string, provider: ExecutionProvider, precision: Precision): boolean {
    return this.sessionStarts.some((start) => start.modelId === modelId && start.provider === provider && start.precision === precision);
  }

  async models(): Promise<ModelManifestEntry[]> {
    return [...(await this.entries()).values()];
  }

  async describeModel(id: string): Promise<ModelInfo> {
    await this.refresh();
    const entry = (await this.entries()).get(id);
    if (!entry) {
      const known = [...(await this.entries()).keys()].join(", ");
      throw new UnknownModelError(`unknown model "${id}" (available: ${known})`);
    }
    const { title, scale, layout, valueRange, sizeMultiple, speedClass } = entry;
    return { id, title, scale, layout, valueRange, sizeMultiple, speedClass, int8: int8Offer(entry) };
  }

  /**
   * What a model's tiles cost on this machine, at once (footprint.ts: measured here, known for its file, or a
   * conservative estimate while it is measured in the background), its speed per tile size refined by real runs.
   */
  async cost(modelId: string, precision: Precision, provider: ExecutionProvider): Promise<ModelCost> {
    const { baseBytes, bytesPerInputPixel, processBytes, borderPx, speed: measured, tiles } = await this.measurement(modelId, precision, provider);
    const speed = refinedSpeed(measured, tileTimings(await readTimings(this.dir), await this.measurementKey(modelId, precision, provider)));
    // A tile's budget is the process's: the model may be the first in it.
    return { baseBytes: baseBytes + processBytes, bytesPerInputPixel, borderPx, msPerInputMegapixel: msPerMegapixelAt(speed, tiles[0] * tiles[0]), speed };
  }

  /** The figures behind cost(): memory, border and speed per tile size, and where they came from. */
  async measurement(modelId: string, precision: Precision, provider: ExecutionProvider): Promise<ModelMeasurement> {
    const entry = (await this.entries()).get(modelId);
    if (!entry) throw new UnknownModelError(`unknown model "${modelId}"`);
    modelFile(entry, precision);
    return modelMeasurement(entry, {
      dir: this.dir,
      precision,
      provider,
      settings: this.settings,
      onnxRuntime: onnxRuntimeVersion(),
      onBackground: (done) => this.backgroundMeasurements.push(done),
    });
  }

  /** The models folder, where measurements of this machine are kept. */
  get modelsFolder(): string {
    return this.dir;
  }

  /** Names what a measurement of this model was taken with (file, precision, provider, threading). */
  async measurementKey(modelId: string, precision: Precision, provider: ExecutionProvider): Promise<string> {
    const entry = (await this.entries()).get(modelId);
    if (!entry) throw new UnknownModelError(`unknown model "${modelId}"`);
    return measurementKey(entry, precision, provider, this.threads, this.settings.spinning);
  }

  async infer(modelId: string, input: Tensor, options: InferenceOptions): Promise<Tensor> {
    const entry = (await this.entries()).get(modelId);
    if (!entry) throw new UnknownModelError(`unknown model "${modelId}"`);
    const session = await this.session(entry, options);
    const feeds = { [entry.inputName]: new ort.Tensor("float32", input.data, input.dims) };
    // session.run holds the event loop for the whole call: let pending I/O in first (a cancel from another
    // process, database replies, requests), so a cancel that arrived during the previous tile stops this one.
    await new Promise((resolve) => setImmediate(resolve));
    if (options.signal) throwIfAborted(options.signal);
    const started = performance.now();
    const result = await session.run(feeds);
    this.stats.ms += performance.now() - started;
    this.stats.runs += 1;
    const output = result[entry.outputName];
    return { data: output.data as Float32Array, dims: [...output.dims] };
  }

  private entries(): Promise<Map<string, ModelManifestEntry>> {
    this.manifest ??= readModelManifest(this.dir).then((manifest) => new Map(manifest.models.map((entry) => [entry.id, entry])));
    return this.manifest;
  }

  /**
   * Re-reads manifest.json when it changed (a model uploaded or deleted while this service lives): called once
   * per generate node run (describeModel), not per tile. Sessions of models whose file changed or went away
   * are dropped.
   */
  private async refresh(): Promise<void> {
    const stamp = await stat(path.join(this.dir, MANIFEST_FILE)).then(
      // The inode too: manifest writes replace the file (write + rename), so each write has a new one.
      (info) => `${info.ino}:${info.mtimeMs}`,
      () => undefined,
    );
    if (stamp === this.manifestStamp) return;
    const before = this.manifest ? await this.manifest.catch(() => undefined) : undefined;
    this.manifestStamp = stamp;
    this.manifest = undefined;
    const after = await this.entries().catch(() => undefined);
    for (const [id, entry] of before ?? []) {
      if (after?.get(id)?.sha256 === entry.sha256) continue;
      // Dropped, not released: a run may still be using it.
      for (const key of [...this.sessions.keys()]) {
        if (key.startsWith(`${id}\u0000`)) this.sessions.delete(key);
      }
    }
  }

  /** The session of a model file on the provider the run's preparation chose (providers.ts decides any fallback). */
  private session(entry: ModelManifestEntry, options: InferenceOptions): Promise<ort.InferenceSession> {
    const precision = options.precision ?? "fp32";
    const key = sessionKey(entry.id, options.provider, precision);
    let session = this.sessions.get(key);
    if (!session) {
      const started = performance.now();
      const file = path.join(this.dir, modelFile(entry, precision));
      session = ort.InferenceSession.create(file, { ...sessionOptions(this.settings), executionProviders: [options.provider] }).then((made) => {
        this.sessionStarts.push({ modelId: entry.id, provider: options.provider, precision, ms: performance.now() - started });
        return made;
      });
      this.sessions.set(key, session);
      session.catch(() => this.sessions.delete(key));
    }
    return session;
  }
}

function sessionKey(modelId: string, provider: ExecutionProvider, precision: Precision): string {
  return `${modelId}\u0000${provider}\u0000${precision}`;
}
