// A run's reproducibility stamp: everything that makes its output bytes, recorded by the executor that ran it
// (a `tudsr worker` machine may have other CPU features or model files than the web app). Made before the
// engine starts (graph, inputs, model files and precisions, runtime) and completed after it (the tiles each
// chunk node chose, the provider each session really ran on), so a failed or canceled run has one too.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import sharp from "sharp";
import type { ModelChoice } from "../../nodes/generate";
import type { OutputValues } from "../../nodes/graph/define-node";
import type { ExecutionProvider, Precision } from "../../nodes/graph/models";
import type { PreparedGraph } from "../../nodes/graph/prepared-graph";
import type { TileSet } from "../../nodes/graph/values";
import type { ModelStamp, RunStamp, RuntimeStamp, TilesStamp } from "../db/run-stamp";
import { type InferenceService, onnxRuntimeVersion } from "../inference/inference-service";
import { cpuInfo } from "../platform/cpu-features";

export const STAMP_VERSION = 1;

/** JSON with every object's keys sorted and no whitespace: one text, so one hash, per value. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The runtime of this process, as the stamp records it. */
export function runtimeStamp(inference: InferenceService): RuntimeStamp {
  const cpu = cpuInfo();
  const versions = sharp.versions as { vips: string; sharp?: string };
  return {
    onnxruntime: onnxRuntimeVersion(),
    sharp: versions.sharp ?? "unknown",
    vips: versions.vips,
    node: process.versions.node,
    threads: inference.intraOpThreads,
    arch: cpu.arch,
    cpu: cpu.model,
    cpuFeatures: cpu.features,
  };
}

/** The stamp of one execution, taken here: `start` before the engine runs, `onOutputs` during, `finish` after. */
export class RunStamper {
  private readonly tiles: TilesStamp[] = [];
  private readonly chunkNodes: Set<string>;

  private constructor(
    private readonly stamp: RunStamp,
    private readonly prepared: PreparedGraph,
    private readonly inference: InferenceService,
  ) {
    this.chunkNodes = new Set(prepared.graph.nodes.filter((node) => node.type === "chunk").map((node) => node.id));
  }

  /** Inputs are file paths or bytes, as the engine gets them; models as the run's preparation decided them. */
  static async start(prepared: PreparedGraph, inputs: Record<string, string | Buffer>, inference: InferenceService): Promise<RunStamper> {
    const { graph, compiled } = prepared;
    const canonical = canonicalJson(graph);
    const hashes: Record<string, string> = {};
    for (const [name, source] of Object.entries(inputs).sort(([a], [b]) => (a < b ? -1 : 1))) {
      // An unreadable input is the load-image node's failure to report (it names itself); the stamp says so.
      const bytes = typeof source === "string" ? await readFile(source).catch(() => undefined) : source;
      hashes[name] = bytes ? sha256(bytes) : "unreadable";
    }
    const seeds: Record<string, number> = {};
    const models: ModelStamp[] = [];
    for (const node of graph.nodes) {
      const params = compiled.params.get(node.id)!;
      if (typeof params.seed === "number") seeds[node.id] = params.seed;
      if (node.type === "generate") models.push(await modelStamp(node.id, params, prepared, inference));
    }
    const stamp: RunStamp = { version: STAMP_VERSION, graph: { sha256: sha256(canonical), canonical }, inputs: hashes, models, seeds, tiles: [], runtime: runtimeStamp(inference) };
    return new RunStamper(stamp, prepared, inference);
  }

  /** What the stamp says before the engine runs (the figures a re-run is compared on first). */
  get current(): RunStamp {
    return { ...this.stamp, tiles: [...this.tiles] };
  }

  /** For the engine's onOutputs: keeps the grid of each chunk node's tiles. */
  readonly onOutputs = (nodeId: string, outputs: OutputValues, iteration?: number): void => {
    if (!this.chunkNodes.has(nodeId)) return;
    const { tileWidth, tileHeight, overlap, cols, rows } = (outputs.tiles as TileSet).grid;
    this.tiles.push({ nodeId, ...(iteration === undefined ? {} : { iteration }), tileWidth, tileHeight, overlap, cols, rows });
  };

  /** The provider the node's session ran on (the one its preparation chose); null when none was made. */
  private sessionProvider(entry: ModelStamp): ExecutionProvider | null {
    const decided = this.prepared.decisions.get(entry.nodeId);
    if (!decided?.ok || !entry.precision) return null;
    const provider = (decided.value as ModelChoice).provider.used;
    return this.inference.hasSession(entry.model, provider, entry.precision) ? provider : null;
  }

  /** The whole stamp, once the engine has stopped; `rerun` is what a re-run found. */
  finish(rerun?: RunStamp["rerun"]): RunStamp {
    const models = this.stamp.models.map((entry) => ({
      ...entry,
      providerUsed: this.sessionProvider(entry),
    }));
    return { ...this.current, models, ...(rerun ? { rerun } : {}) };
  }
}

/** A generate node's model as its run's preparation decided it (the very decision the node runs with). */
async function modelStamp(nodeId: string, params: Record<string, unknown>, prepared: PreparedGraph, inference: InferenceService): Promise<ModelStamp> {
  const model = String(params.model);
  const base = { nodeId, model, precisionAsked: params.precision as "auto" | Precision, provider: params.provider as ModelStamp["provider"], providerUsed: null };
  const decided = prepared.decisions.get(nodeId)!;
  try {
    if (!decided.ok) throw decided.error;
    const { precision } = decided.value as ModelChoice;
    return { ...base, precision, ...(await inference.modelFileStamp(model, precision)) };
  } catch (error) {
    return { ...base, precision: null, file: null, sha256: null, problem: (error as Error).message };
  }
}
