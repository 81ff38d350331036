// A run's reproducibility stamp: everything that makes its output bytes, recorded by the executor that ran it
// (a `tudsr worker` machine may have other CPU features or model files than the web app). Made before the
// engine starts (graph, inputs, model files and precisions, runtime) and completed after it (the tiles each
// chunk node chose, the provider each session really ran on), so a failed or canceled run has one too.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import sharp from "sharp";
import type { ExecutionProvider, OutputValues, Precision, RepeatedTiles } from "../../nodes/graph/define-node";
import type { Graph } from "../../nodes/graph/schema";
import type { TileSet } from "../../nodes/graph/values";
import { resolveParams } from "../../nodes/graph/validate";
import { precisionFor } from "../../nodes/generate";
import { nodeRegistry } from "../../nodes/index";
import { type InferenceService, onnxRuntimeVersion } from "../inference/inference-service";
import { cpuInfo } from "../runtime/cpu-features";

export const STAMP_VERSION = 1;

/** One generate node's model: which file ran, at which precision, on which provider. */
export interface ModelStamp {
  nodeId: string;
  model: string;
  /** What the node asked for (auto, fp32, int8) and what that resolved to here; null where it could not. */
  precisionAsked: "auto" | Precision;
  precision: Precision | null;
  /** The file in the models folder and its sha256 as it was when the run started; null where none resolved. */
  file: string | null;
  sha256: string | null;
  provider: ExecutionProvider;
  /** The provider its session really ran on (after a CPU fallback); null when no session was made. */
  providerUsed: ExecutionProvider | null;
  /** Why precision or file are null (the node itself fails with the same reason). */
  problem?: string;
}

/** The tiles a chunk node cut (its `auto` sizes depend on this machine's measurements and memory budget). */
export interface TilesStamp extends RepeatedTiles {
  cols: number;
  rows: number;
}

export interface RuntimeStamp {
  onnxruntime: string;
  /** sharp and its libvips decode inputs and encode outputs (PNG/JPEG/WebP encoders come with them). */
  sharp: string;
  vips: string;
  node: string;
  /** ONNX Runtime intra-op threads per session. */
  threads: number;
  arch: string;
  cpu: string;
  /** The CPU features that select ONNX Runtime's kernels (server/runtime/cpu-features.ts). */
  cpuFeatures: string[];
}

export interface RunStamp {
  version: number;
  /** The graph that ran (overrides applied) as canonical JSON (keys sorted, no spaces), and its sha256. */
  graph: { sha256: string; canonical: string };
  /** Input name -> sha256 of its bytes. */
  inputs: Record<string, string>;
  models: ModelStamp[];
  /** Node id -> seed, for every node with a seed (degrade). */
  seeds: Record<string, number>;
  tiles: TilesStamp[];
  runtime: RuntimeStamp;
  /** A re-run exactly (runs.rerun): the run it repeats, whether it was forced, and what differed from its stamp. */
  rerun?: { of: string; forced: boolean; differences: string[] };
}

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
    graph: Graph,
    private readonly inference: InferenceService,
  ) {
    this.chunkNodes = new Set(graph.nodes.filter((node) => node.type === "chunk").map((node) => node.id));
  }

  /** Inputs are file paths or bytes, as the engine gets them. */
  static async start(graph: Graph, inputs: Record<string, string | Buffer>, inference: InferenceService): Promise<RunStamper> {
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
      const definition = nodeRegistry.get(node.type);
      if (!definition) continue;
      const params = resolveParams(definition, node.params);
      if (typeof params.seed === "number") seeds[node.id] = params.seed;
      if (node.type === "generate") models.push(await modelStamp(node.id, params, inference));
    }
    const stamp: RunStamp = { version: STAMP_VERSION, graph: { sha256: sha256(canonical), canonical }, inputs: hashes, models, seeds, tiles: [], runtime: runtimeStamp(inference) };
    return new RunStamper(stamp, graph, inference);
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

  /** The whole stamp, once the engine has stopped; `rerun` is what a re-run found. */
  finish(rerun?: RunStamp["rerun"]): RunStamp {
    const models = this.stamp.models.map((entry) => ({
      ...entry,
      providerUsed: entry.precision ? (this.inference.providerUsed(entry.model, entry.provider, entry.precision) ?? null) : null,
    }));
    return { ...this.current, models, ...(rerun ? { rerun } : {}) };
  }
}

async function modelStamp(nodeId: string, params: Record<string, unknown>, inference: InferenceService): Promise<ModelStamp> {
  const model = String(params.model);
  const precisionAsked = params.precision as "auto" | Precision;
  const base = { nodeId, model, precisionAsked, provider: params.provider as ExecutionProvider, providerUsed: null };
  try {
    // The very rule the node applies when it runs, on the same manifest.
    const precision = precisionFor(precisionAsked, await inference.describeModel(model));
    return { ...base, precision, ...(await inference.modelFileStamp(model, precision)) };
  } catch (error) {
    return { ...base, precision: null, file: null, sha256: null, problem: (error as Error).message };
  }
}
