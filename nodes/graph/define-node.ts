import type { z } from "zod";
import type { ModelCost } from "../image/tile-plan";
import type { RgbImage } from "../image/types";
import type { TileReport } from "./events";
import type { NodePlanResult, PlanContext, PlanValue } from "./plan";
import type { PortType, PortValue, PortValues } from "./values";

export interface PortSpec {
  type: PortType;
  label: string;
  /** An input that may stay unconnected. */
  optional?: boolean;
  /** A container's handle on the inside, wired to the nodes it contains (a loop's body-in / body-out). */
  internal?: boolean;
}
export type Ports = Record<string, PortSpec>;

export type NodeCategory = "Input/Output" | "Degrade" | "Tiling" | "Generate" | "Transform" | "Control" | "Evaluate";

export type ExecutionProvider = "cpu" | "cuda" | "webgpu";

/** What the engine knows about a model; the server's model registry supplies it. */
export interface ModelInfo {
  id: string;
  title: string;
  scale: number;
  layout: "NCHW" | "NHWC";
  valueRange: [number, number];
  sizeMultiple: number;
  speedClass: "fast" | "balanced" | "quality";
  /** Whether an int8 variant that passed its fidelity gate exists, and if not, why. */
  int8:
    | { offered: true; psnrDb: number; speedup: number; /** Median ms of one `tile` px tile, each precision, measured here. */ tile: number; fp32Ms: number; int8Ms: number }
    | { offered: false; why: string };
}

export type Precision = "fp32" | "int8";

export interface Tensor {
  data: Float32Array;
  dims: number[];
}

export interface InferenceOptions {
  provider: ExecutionProvider;
  /** What to do when the provider is not available here: run on CPU with a logged note, or fail. */
  onMissingProvider: "fallback-cpu" | "error";
  /** Which file of the model runs (default fp32); int8 only where ModelInfo.int8 says it is offered. */
  precision?: Precision;
  signal?: AbortSignal;
  log?: (message: string) => void;
}

export interface MetricRecord {
  nodeId: string;
  label: string;
  psnr: number;
  ssim: number;
  width: number;
  height: number;
  shave: number;
}

export interface SaveOptions {
  format: "png" | "jpeg" | "webp";
  quality: number;
}

/**
 * Server-side powers a node may use. nodes/ never imports sharp or onnxruntime: the host that runs a graph
 * (CLI, server queue, tests) provides these.
 */
/** A generate node's tile batches, for a host that can spread them over other machines (see RunHost.fanOutTiles). */
export interface TileFanOutRequest {
  nodeId: string;
  modelId: string;
  /** Equal-size tiles, in order; batches of `batchSize` are the units of work. */
  images: RgbImage[];
  batchSize: number;
  options: Omit<InferenceOptions, "signal" | "log">;
}

export interface RunHost {
  loadInput(name: string): Promise<{ image: RgbImage; notes: string[] }>;
  saveOutput(name: string, image: RgbImage, options: SaveOptions): Promise<void>;
  /** Identity of a run input's content (e.g. its sha256), so the cache notices a changed input file. */
  inputKey(name: string): Promise<string>;
  jpegRoundTrip(image: RgbImage, quality: number): Promise<RgbImage>;
  describeModel(id: string): Promise<ModelInfo>;
  infer(modelId: string, input: Tensor, options: InferenceOptions): Promise<Tensor>;
  reportMetric(record: MetricRecord): void;
  /**
   * What a tile of a model costs on this machine, measured (the first time a combination is asked for, then
   * kept): for chunk's `auto` tiles. Hosts without measurements (test hosts) leave it out.
   */
  modelCost?(modelId: string, precision: Precision, provider: ExecutionProvider): Promise<ModelCost>;
  /** Bytes one tile's inference may take ($TUDSR_MEMORY_BUDGET_MB). */
  memoryBudgetBytes?(): number;
  /**
   * A re-run exactly (the reproducibility stamp): the tiles this chunk node cut in the run it repeats, which
   * its `auto` sizes take instead of planning again (measurements and the budget may have changed since).
   */
  repeatedTiles?(nodeId: string, iteration: number | undefined): RepeatedTiles | undefined;
  /**
   * Optional (the distributed queue's hosts): runs the batches on workers and returns the upscaled tiles in
   * order, bit for bit what running them here gives; undefined when it will not (then they run here).
   */
  fanOutTiles?(request: TileFanOutRequest, signal: AbortSignal, progress: (done: number, total: number) => void): Promise<RgbImage[] | undefined>;
}

/** A chunk node's tiles as a run's stamp recorded them (the grid's tile width and height and overlap). */
export interface RepeatedTiles {
  nodeId: string;
  /** The pass of the loop whose body the chunk is in (absent at the top level). */
  iteration?: number;
  tileWidth: number;
  tileHeight: number;
  overlap: number;
}

/** Runs a container's body once: the value given to its body-in handle in, what reaches body-out back. */
export type BodyRunner = (input: PortValue, iteration: number, signal: AbortSignal) => Promise<PortValue>;

export interface NodeReader {
  id: string;
  type: string;
  params: Record<string, unknown>;
}

export interface RunContext {
  nodeId: string;
  /** The pass of the loop whose body this node runs in (absent at the top level). */
  iteration?: number;
  host: RunHost;
  signal: AbortSignal;
  progress(done: number, total: number): void;
  /** A tile this node starts computing, and the same tile finished with its pixels (the live tile map). */
  tileStarted(report: TileReport): void;
  tileDone(report: TileReport, image: RgbImage): void;
  log(message: string): void;
  /** The nodes reading this node's outputs, with their resolved params (e.g. chunk sizing tiles for its model). */
  readers: NodeReader[];
  /** Present for container nodes only. */
  body?: BodyRunner;
}

export type InputValues = Partial<Record<string, PortValue>>;
export type OutputValues = Record<string, PortValue>;

export interface NodeDefinition<Schema extends z.ZodObject = z.ZodObject> {
  type: string;
  title: string;
  category: NodeCategory;
  description: string;
  params: Schema;
  inputs: Ports | ((params: z.output<Schema>) => Ports);
  outputs: Ports | ((params: z.output<Schema>) => Ports);
  /** Containers (loop) hold child nodes, run through ctx.body. */
  container?: boolean;
  /** Writes outside the graph (files, metrics): always runs, never served from the cache. */
  sideEffect?: boolean;
  /** Extra identity for the cache signature beyond type, params and inputs (e.g. the content of a run input). */
  identify?: (args: { params: z.output<Schema>; host: RunHost }) => Promise<string>;
  /** Problems that depend on which inputs are wired, e.g. "connect exactly one of image or tiles". */
  check?: (args: { params: z.output<Schema>; connected: ReadonlySet<string>; consumed: ReadonlySet<string> }) => string[];
  /** The node's output sizes and costs without running it (the plan preview: nodes/graph/plan-graph.ts). */
  plan?: (args: { inputs: Partial<Record<string, PlanValue>>; params: z.output<Schema>; ctx: PlanContext }) => Promise<NodePlanResult>;
  /** Must not mutate its inputs: they may be shared with the cache and other consumers. */
  run(args: { inputs: InputValues; params: z.output<Schema>; ctx: RunContext }): Promise<OutputValues>;
}

export type AnyNodeDefinition = NodeDefinition<z.ZodObject>;

export function defineNode<Schema extends z.ZodObject>(definition: NodeDefinition<Schema>): NodeDefinition<Schema> {
  return definition;
}

export function inputPorts(definition: AnyNodeDefinition, params: Record<string, unknown>): Ports {
  return typeof definition.inputs === "function" ? definition.inputs(params) : definition.inputs;
}

export function outputPorts(definition: AnyNodeDefinition, params: Record<string, unknown>): Ports {
  return typeof definition.outputs === "function" ? definition.outputs(params) : definition.outputs;
}

/** Typed access to an input the engine has checked is present. */
export function requireInput<T extends PortType>(inputs: InputValues, name: string, _type: T): PortValues[T] {
  const value = inputs[name];
  if (value === undefined) throw new Error(`input "${name}" is not connected`);
  return value as PortValues[T];
}

export class CanceledError extends Error {
  constructor() {
    super("run canceled");
    this.name = "CanceledError";
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CanceledError();
}
