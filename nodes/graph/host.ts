// The powers a host lends the nodes, split by what they are: nodes/ never imports sharp or onnxruntime, the host
// that runs (or plans) a graph provides them. A host implements the powers it has: the run's host all of them,
// the planner's the model ones and its predictions, a tile job's inference alone.
import type { ModelCost } from "../image/tile-plan";
import type { RgbImage } from "../image/types";
import type { ExecutionProvider, InferenceOptions, ModelInfo, Precision, ProviderChoice, Tensor } from "./models";
import type { ImageShape, TilePrediction } from "./plan";

/** The models of this machine and what they cost here: used to prepare, plan and run a graph. */
export interface ModelHost {
  describeModel(id: string): Promise<ModelInfo>;
  /** Where a session asked for on `provider` would run here: decided once per run, so its plan and its run agree. */
  chooseProvider(provider: ExecutionProvider, onMissing: "fallback-cpu" | "error"): Promise<ProviderChoice>;
  /**
   * What a tile of a model costs on this machine, at once (never waiting for a measurement): memory, border and
   * speed per tile size, known for the model file or measured here, else conservative, refined by real runs.
   * For chunk's `auto` tiles. Hosts without measurements (test hosts) leave it out.
   */
  modelCost?(modelId: string, precision: Precision, provider: ExecutionProvider): Promise<ModelCost>;
  /** Bytes one tile's inference may take ($TUDSR_MEMORY_BUDGET_MB). */
  memoryBudgetBytes?(): number;
}

export interface InferenceHost {
  infer(modelId: string, input: Tensor, options: InferenceOptions): Promise<Tensor>;
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

/** A run's inputs and outputs: images in, images and metrics out. */
export interface ImageIoHost {
  loadInput(name: string): Promise<{ image: RgbImage; notes: string[] }>;
  saveOutput(name: string, image: RgbImage, options: SaveOptions): Promise<void>;
  /** Identity of a run input's content (e.g. its sha256), so the cache notices a changed input file. */
  inputKey(name: string): Promise<string>;
  jpegRoundTrip(image: RgbImage, quality: number): Promise<RgbImage>;
  reportMetric(record: MetricRecord): void;
}

/** A generate node's tile batches, for a host that can spread them over other machines. */
export interface TileFanOutRequest {
  nodeId: string;
  modelId: string;
  /** Equal-size tiles, in order; batches of `batchSize` are the units of work. */
  images: RgbImage[];
  batchSize: number;
  options: Omit<InferenceOptions, "signal">;
}

/** The distributed queue's hosts: tile batches run on workers. */
export interface TileFanOutHost {
  /** The upscaled tiles in order, bit for bit what running them here gives; undefined when it will not (then they run here). */
  fanOutTiles(request: TileFanOutRequest, signal: AbortSignal, progress: (done: number, total: number) => void): Promise<RgbImage[] | undefined>;
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

/** A re-run exactly (the reproducibility stamp): the tiles each chunk node cut in the run it repeats. */
export interface RepeatHost {
  /** Taken by `auto` sizes instead of planning again (measurements and the budget may have changed since). */
  repeatedTiles(nodeId: string, iteration: number | undefined): RepeatedTiles | undefined;
}

/** What running a graph may use. */
export interface RunHost extends ModelHost, InferenceHost, ImageIoHost, Partial<TileFanOutHost>, Partial<RepeatHost> {}

/** What planning a graph may use: the models and this machine's measurements, the inputs' sizes only. */
export interface PlanHost extends ModelHost {
  inputSize(name: string): Promise<ImageShape>;
  /** One call of `batch` tiles of this size: ms per tile, and the session's peak bytes for the call. */
  predictTile(model: { id: string; precision: Precision; provider: ExecutionProvider }, tile: ImageShape, batch: number): Promise<TilePrediction>;
  /** Predicted ms of a node without a model working on `megapixels`, from real runs (0 before any). */
  predictNodeMs(nodeType: string, megapixels: number): Promise<number>;
}
