import type { MetricRecord, OutputValues, RepeatedTiles, RunHost } from "../../nodes/graph/define-node";
import type { NodeCache } from "../../nodes/graph/cache";
import { type EngineOptions, type EngineResult, executeGraph, type NodeTiming } from "../../nodes/graph/engine";
import type { EngineListener } from "../../nodes/graph/events";
import { applyOverrides, type ParamOverride } from "../../nodes/graph/overrides";
import { GraphValidationError, parseGraph } from "../../nodes/graph/validate";
import { nodeRegistry } from "../../nodes/index";
import type { InferenceService } from "../inference/inference-service";
import { type EncodedOutput, PipelineHost, type RunInputSource } from "./pipeline-host";
import { RunTimingRecorder } from "./record-timings";

export interface RunPipelineOptions {
  inference: InferenceService;
  inputs: Record<string, RunInputSource>;
  overrides?: ParamOverride[];
  signal?: AbortSignal;
  onEvent?: EngineListener;
  cache?: NodeCache;
  /** See EngineOptions.onOutputs (the run queue makes node previews from them). */
  onOutputs?: (nodeId: string, outputs: OutputValues, iteration?: number) => void;
  /** See EngineOptions.onTileImage (the run queue's tile map samples its previews from them). */
  onTileImage?: EngineOptions["onTileImage"];
  maxPixels?: number;
  /** The distributed queue's tile fan-out (see RunHost.fanOutTiles); without it every tile runs here. */
  fanOutTiles?: RunHost["fanOutTiles"];
  /** A re-run exactly: the tiles each chunk node cut in the run it repeats (see RunHost.repeatedTiles). */
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

/** Validates (overrides applied) and runs a graph in this process; outputs come back encoded, in memory. */
export async function runPipeline(graphInput: unknown, options: RunPipelineOptions): Promise<PipelineResult> {
  const parsed = parseGraph(graphInput);
  if (!parsed.graph) throw new GraphValidationError(parsed.problems);
  const graph = applyOverrides(parsed.graph, options.overrides ?? []); // the engine validates the result
  const host = options.fanOutTiles
    ? new FanOutHost(options.inputs, options.inference, options.maxPixels, options.repeatTiles, options.fanOutTiles)
    : new PipelineHost(options.inputs, options.inference, options.maxPixels, options.repeatTiles);
  const timings = new RunTimingRecorder(options.inference);
  const result: EngineResult = await executeGraph(graph, {
    registry: nodeRegistry,
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
    .record(graph, (name) => host.inputSize(name), { distributed: options.fanOutTiles !== undefined })
    .catch((error: unknown) => console.warn(`run timings not recorded: ${error instanceof Error ? error.message : String(error)}`));
  return { outputs: [...host.outputs.values()], metrics: host.metrics, nodes: result.nodes, totalMs: result.totalMs };
}
