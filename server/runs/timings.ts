// Every real run refines the predictions: once a run succeeded, each node it really executed (not served from
// the cache) has its time folded into models/timings.json: a generate node's per model measurement and tile
// size, from the tiles it really ran (its tile events) and the model its run's preparation chose; the others
// per megapixel of their largest image, per node type.
import type { ModelChoice } from "../../nodes/generate";
import type { EngineEvent } from "../../nodes/graph/events";
import { paddedSize } from "../../nodes/graph/models";
import type { PreparedGraph } from "../../nodes/graph/prepared-graph";
import type { InferenceService } from "../inference/inference-service";
import { nodeTimingKey, recordTimings, sessionTimingKey, tileTimingKey, type TimingSample } from "../inference/run-timings";

/** One execution of a node (a loop's body nodes once per pass). */
interface Execution {
  nodeId: string;
  iteration?: number;
  ms: number;
  workMegapixels?: number;
  /** Input tiles of a node with a model: how many, and the largest (tiles are cut equal, at most clamped to the image). */
  tiles: number;
  tileWidth: number;
  tileHeight: number;
}

export class RunTimingRecorder {
  private readonly finished: Execution[] = [];
  /** Tiles of executions still running, by node and pass. */
  private readonly running = new Map<string, Omit<Execution, "nodeId" | "iteration" | "ms">>();
  private readonly startsBefore: number;

  constructor(
    private readonly inference: InferenceService,
    private readonly prepared: PreparedGraph,
  ) {
    this.startsBefore = inference.sessionStarts.length;
  }

  handle(event: EngineEvent): void {
    const key = `${event.nodeId}\u0000${"iteration" in event ? (event.iteration ?? "") : ""}`;
    if (event.type === "tile-done") {
      const tiles = this.running.get(key) ?? { tiles: 0, tileWidth: 0, tileHeight: 0 };
      const scale = this.modelScale(event.nodeId);
      tiles.tiles += 1;
      tiles.tileWidth = Math.max(tiles.tileWidth, Math.round(event.rect.width / scale));
      tiles.tileHeight = Math.max(tiles.tileHeight, Math.round(event.rect.height / scale));
      this.running.set(key, tiles);
    } else if (event.type === "node-finished" && !event.cached) {
      const tiles = this.running.get(key) ?? { tiles: 0, tileWidth: 0, tileHeight: 0 };
      this.running.delete(key);
      this.finished.push({ nodeId: event.nodeId, iteration: event.iteration, ms: event.ms, workMegapixels: event.workMegapixels, ...tiles });
    }
  }

  /** The scale of the model a node runs (tile events are in output pixels); 1 for other nodes. */
  private modelScale(nodeId: string): number {
    const decided = this.prepared.decisions.get(nodeId);
    return decided?.ok ? (decided.value as ModelChoice).model.scale : 1;
  }

  /**
   * `distributed`: the run could spread tiles over workers, so a generate node with `distribute: auto` timed
   * the workers, not this machine (it is left out).
   */
  async record(options: { distributed: boolean }): Promise<void> {
    const { inference, prepared } = this;
    const samples: TimingSample[] = [];
    // Sessions made during this run: the first generate node of each model paid for it, before its first tile.
    const starts = inference.sessionStarts.slice(this.startsBefore);
    for (const { nodeId, ms, workMegapixels, tiles, tileWidth, tileHeight } of this.finished) {
      const node = prepared.compiled.nodes.get(nodeId)!;
      const decided = prepared.decisions.get(nodeId);
      if (decided?.ok) {
        if (options.distributed && prepared.compiled.params.get(nodeId)!.distribute === "auto") continue;
        if (!tiles) continue;
        const { model, precision, provider } = decided.value as ModelChoice;
        // Keyed by what the model sees: the tile padded to the model's size multiple.
        const { width, height } = paddedSize({ width: tileWidth, height: tileHeight }, model);
        const key = await inference.measurementKey(model.id, precision, provider.used);
        const start = starts.findIndex((made) => made.modelId === model.id && made.precision === precision && made.provider === provider.used);
        const startMs = start === -1 ? 0 : starts.splice(start, 1)[0].ms;
        if (startMs) samples.push({ key: sessionTimingKey(key), ms: startMs });
        samples.push({ key: tileTimingKey(key, width, height), ms: ms - startMs, megapixels: (tiles * width * height) / 1e6 });
      } else if (!decided && workMegapixels !== undefined) {
        samples.push({ key: nodeTimingKey(node.type), ms, megapixels: workMegapixels });
      }
    }
    await recordTimings(inference.modelsFolder, samples);
  }
}
