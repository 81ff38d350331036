// Runs a prepared graph in this process (the executor, the CLI, tests, the bench): the run's host reads its
// inputs and encodes its outputs in memory; afterwards its times refine this machine's predictions.
import type { NodeCache } from "../../nodes/graph/cache";
import type { OutputValues } from "../../nodes/graph/define-node";
import { type EngineOptions, executeGraph, type NodeTiming } from "../../nodes/graph/engine";
import type { EngineListener } from "../../nodes/graph/events";
import type { MetricRecord, RepeatedTiles, RunHost } from "../../nodes/graph/host";
import type { ParamOverride } from "../../nodes/graph/overrides";
import type { PreparedGraph } from "../../nodes/graph/prepared-graph";
import type { InferenceService } from "../inference/inference-service";
import { type EncodedOutput, PipelineHost, type RunInputSource } from "./pipeline-host";
import { prepareRun } from "./prepare";
import { RunTimingRecorder } from "./timings";

export interface RunPipelineOptions {
  inference: InferenceService;
  inputs: Record<string, RunInputSource>;
  signal?: AbortSignal;
  onEvent?: EngineListener;
  cache?: NodeCache;
  /** See EngineOptions.onOutputs (the run queue makes node previews from them). */
  onOutputs?: (nodeId: string, outputs: OutputValues, iteration?: number) => void;
  /** See EngineOptions.onTileImage (the run queue's tile map samples its previews from them). */
  onTileImage?: EngineOptions["onTileImage"];
  maxPixels?: number;
  /** The distributed queue's tile fan-out (see TileFanOutHost); without it every tile runs here. */
  fanOutTiles?: RunHost["fanOutTiles"];
  /** A re-run exactly: the tiles each chunk node cut in the run it repeats (see RepeatHost). */
  repeatTiles?: readonly RepeatedTiles[];
}

/** A run's host that can also spread generate nodes' tiles over workers. */
class FanOutHost extends PipelineHost {
  constructor(
    inputs: Record<string, RunInputSource>,
    inference: InferenceService,
    maxPixels: number | undefined,
    repeatTiles: readonly RepeatedTiles[] | undefined,
    readonly fanOutTiles: RunHost["fanOutTiles"],
  ) {
    super(inputs, inference, maxPixels, repeatTiles);
  }
}

export interface PipelineResult {
  outputs: EncodedOutput[];
  metrics: MetricRecord[];
  nodes: NodeTiming[];
  totalMs: number;
}

/** Prepares a graph (overrides applied; see prepareRun for its errors) and runs it here. */
export async function runPipeline(graph: unknown, options: RunPipelineOptions & { overrides?: ParamOverride[] }): Promise<PipelineResult> {
  return runPrepared(await prepareRun(graph, { inference: options.inference, overrides: options.overrides }), options);
}

/** Runs a prepared graph here; outputs come back encoded, in memory. */
export async function runPrepared(prepared: PreparedGraph, options: RunPipelineOptions): Promise<PipelineResult> {
  const host = options.fanOutTiles
    ? new FanOutHost(options.inputs, options.inference, options.maxPixels, options.repeatTiles, options.fanOutTiles)
    : new PipelineHost(options.inputs, options.inference, options.maxPixels, options.repeatTiles);
  const timings = new RunTimingRecorder(options.inference, prepared);
  const result = await executeGraph(prepared, {
    host,
    signal: options.signal,
    onEvent: (event) => {
      timings.handle(event);
      options.onEvent?.(event);
    },
    cache: options.cache,
    onOutputs: options.onOutputs,
    onTileImage: options.onTileImage,
  });
  // A run whose times cannot be recorded still succeeded: the plan predicts from what was recorded before.
  await timings
    .record({ distributed: options.fanOutTiles !== undefined })
    .catch((error: unknown) => console.warn(`run timings not recorded: ${error instanceof Error ? error.message : String(error)}`));
  return { outputs: [...host.outputs.values()], metrics: host.metrics, nodes: result.nodes, totalMs: result.totalMs };
}
