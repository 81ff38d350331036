// What a graph will do, worked out before it runs: the size of every image, the tiles every chunk node will cut
// and what every generate node will cost on this machine. Each node type says it in its own file (its `plan`,
// beside its `run`); nodes/graph/plan-graph.ts walks the graph with them. Pure: sizes only, no pixels.
import type { ExecutionProvider, Precision } from "./models";
import type { TileGrid } from "./values";

/** A tile's place in the image it was cut from, in that image's pixels. */
export interface PlanRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ImageShape {
  width: number;
  height: number;
}

/** What travels on a port in a plan: an image's size, the grid and rects of tiles, or a number. */
export type PlanValue =
  | { kind: "image"; width: number; height: number }
  | { kind: "tiles"; grid: TileGrid; /** Each tile's rect in the pixels of the image it was cut from, row-major. */ rects: PlanRect[] }
  | { kind: "number" };

/** A prediction of one model call, from what this machine measured. */
export interface TilePrediction {
  /** Per tile. */
  ms: number;
  /** Making the model's session, once per process before its first tile (a fresh process pays it). */
  startMs: number;
  /** Peak memory the model's session holds for a tile of this size. */
  bytes: number;
  /** What the first session of a process adds once (ONNX Runtime itself), whatever the number of models. */
  processBytes: number;
  /** Where the time came from: real runs of this tile size, or the calibration (or real runs of other sizes). */
  basis: "runs" | "calibration" | "estimate";
}

/** What a chunk node will cut. */
export interface ChunkPlan {
  kind: "chunk";
  source: ImageShape;
  tileWidth: number;
  tileHeight: number;
  overlap: number;
  cols: number;
  rows: number;
  rects: PlanRect[];
}

/** What a generate node will run. */
export interface GeneratePlan {
  kind: "generate";
  model: string;
  scale: number;
  precision: Precision;
  provider: ExecutionProvider;
  /** The provider its session will really run on here. */
  providerUsed: ExecutionProvider;
  tiles: number;
  tileWidth: number;
  tileHeight: number;
  /** Pixels through the model per pixel of its output image (1 = nothing computed twice; overlaps make it more). */
  modelPixelsPerOutputPixel: number;
  basis: TilePrediction["basis"];
  /** Of the node's predicted time, what making the model's session takes (a run in a fresh process pays it). */
  startMs: number;
}

export interface NodePlanResult {
  outputs: Record<string, PlanValue>;
  /** Predicted ms of a node with a model (set by generate; the others are predicted per megapixel of their largest image). */
  ms?: number;
  /** Bytes the node holds while it runs beyond its inputs and outputs (buffers, encoders). */
  workBytes?: number;
  /**
   * Memory that stays in the process once this node made it, by what it is (a model session; the runtime that
   * runs sessions): counted once per key however many nodes use it.
   */
  held?: { key: string; bytes: number }[];
  detail?: ChunkPlan | GeneratePlan;
}

/** Bytes of a value of this plan's shape (RGB float32). */
export function planValueBytes(value: PlanValue): number {
  if (value.kind === "image") return value.width * value.height * 12;
  if (value.kind === "tiles") return value.rects.length * Math.round(value.grid.tileWidth * value.grid.scale) * Math.round(value.grid.tileHeight * value.grid.scale) * 12;
  return 8;
}

/** The plan value on a port the planner has checked is connected. */
export function planInput<K extends PlanValue["kind"]>(inputs: Partial<Record<string, PlanValue>>, name: string, kind: K): Extract<PlanValue, { kind: K }> {
  const value = inputs[name];
  if (value === undefined) throw new Error(`input "${name}" is not connected`);
  if (value.kind !== kind) throw new Error(`input "${name}" is ${value.kind}, expected ${kind}`);
  return value as Extract<PlanValue, { kind: K }>;
}

/** The work of a node without a model, which its time is predicted per megapixel of: its largest image, in or out. */
export function planWorkMegapixels(values: (PlanValue | undefined)[]): number | undefined {
  const pixels = values.flatMap((value) => (value?.kind === "image" ? [value.width * value.height] : []));
  return pixels.length ? Math.max(...pixels) / 1e6 : undefined;
}
