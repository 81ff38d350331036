// What a run's reproducibility stamp records (server/runs/stamp.ts makes it; the run row stores it as JSON).
import type { RepeatedTiles } from "../../nodes/graph/host";
import type { ExecutionProvider, Precision } from "../../nodes/graph/models";

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
  /** The CPU features that select ONNX Runtime's kernels (server/platform/cpu-features.ts). */
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
