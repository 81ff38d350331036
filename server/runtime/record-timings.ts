// Every real run refines the predictions: once a run succeeded, each node it really executed (not served from
// the cache) is matched with the same run's plan, and its time per megapixel is folded into models/timings.json,
// per model measurement and tile size for generate nodes, per node type for the others.
import type { EngineEvent } from "../../nodes/graph/events";
import type { ImageShape } from "../../nodes/graph/plan";
import type { Graph } from "../../nodes/graph/schema";
import type { InferenceService } from "../inference/inference-service";
import { nodeTimingKey, recordTimings, sessionTimingKey, type TimingSample, tileTimingKey } from "../models/run-timings";
import { planRun } from "./plan-run";

export class RunTimingRecorder {
  private readonly finished: { nodeId: string; iteration?: number; ms: number }[] = [];
  private readonly startsBefore: number;
  private readonly calibrationsBefore: number;

  constructor(private readonly inference: InferenceService) {
    this.startsBefore = inference.sessionStarts.length;
    this.calibrationsBefore = inference.calibrations;
  }

  handle(event: EngineEvent): void {
    if (event.type === "node-finished" && !event.cached) this.finished.push({ nodeId: event.nodeId, iteration: event.iteration, ms: event.ms });
  }

  /**
   * `graph` as it ran (overrides applied). `distributed`: the run could spread tiles over workers, so a generate
   * node with `distribute: auto` timed the workers, not this machine (it is left out).
   */
  async record(graph: Graph, sizes: (name: string) => Promise<ImageShape>, options: { distributed: boolean }): Promise<void> {
    const inference = this.inference;
    const plan = await planRun(graph, { inference, sizes });
    const samples: TimingSample[] = [];
    // Sessions made during this run: the first generate node of each model paid for it, before its first tile.
    const starts = inference.sessionStarts.slice(this.startsBefore);
    // A calibration ran inside some node (chunk's auto tiles ask first): its seconds are not that node's per-pixel time.
    const calibrated = inference.calibrations > this.calibrationsBefore;
    for (const { nodeId, iteration, ms } of this.finished) {
      const report = plan.nodes.find((candidate) => candidate.nodeId === nodeId && candidate.iteration === iteration);
      const spread = options.distributed && graph.nodes.find((node) => node.id === nodeId)?.params.distribute === "auto";
      if (report?.detail?.kind === "generate" && !spread) {
        const { model, precision, providerUsed, tiles, tileWidth, tileHeight } = report.detail;
        const { sizeMultiple } = await inference.describeModel(model);
        // Keyed by what the model sees: the tile padded to the model's size multiple (as the plan predicts it).
        const width = Math.ceil(tileWidth / sizeMultiple) * sizeMultiple;
        const height = Math.ceil(tileHeight / sizeMultiple) * sizeMultiple;
        const key = await inference.measurementKey(model, precision, providerUsed);
        const start = starts.findIndex((made) => made.modelId === model && made.precision === precision && made.provider === providerUsed);
        const startMs = start === -1 ? 0 : starts.splice(start, 1)[0].ms;
        if (startMs) samples.push({ key: sessionTimingKey(key), ms: startMs });
        samples.push({ key: tileTimingKey(key, width, height), ms: ms - startMs, megapixels: (tiles * width * height) / 1e6 });
      } else if (report?.workMegapixels !== undefined && !calibrated) {
        samples.push({ key: nodeTimingKey(report.type), ms, megapixels: report.workMegapixels });
      }
    }
    await recordTimings(inference.modelsFolder, samples);
  }
}
