// The progressive tile map of a run: for each node computing tiles (generate), which tiles are running and a
// tiny preview of each finished one at its place in the node's output. Each finished tile is sampled at once
// on the engine's thread (previews.ts's bounded sampling: at most 3x3 reads per preview pixel, a preview at most
// 48 px a side), so no tile is held; the WebP encodes (100 to 1000 bytes each) run in sharp's thread pool and
// what changed is published as one `tile-map` event per node at most every FLUSH_MS, so a run of hundreds of
// fast tiles never floods the event stream or the browser.
import type { TileEvent, TileRect, TileReport } from "../../nodes/graph/events";
import type { RgbImage } from "../../nodes/image/types";
import type { TileMapEvent, TilePreview } from "./events";
import { encodePreview, type PreviewPixels, samplePreview } from "./previews";

/** Previews are sized for a map this many pixels on its longest side (the run page's): a tile gets its share. */
const MAP_SIDE = 320;
/** A few tiles covering a whole map would each want hundreds of pixels: past this, a preview stays low-res. */
const MAX_PREVIEW_SIDE = 48;
const FLUSH_MS = 250;
const WEBP_QUALITY = 60;

interface FinishedTile {
  index: number;
  rect: TileRect;
  pixels: PreviewPixels;
}

interface NodeMap {
  iteration?: number;
  canvas: TileReport["canvas"];
  total: number;
  running: Map<number, TileRect>;
  /** Sampled as each tile finished (onTileImage), waiting for its tile-done event. */
  sampled: Map<number, PreviewPixels>;
  /** Finished since the last update. */
  unpublished: FinishedTile[];
  dirty: boolean;
}

export type TileMapUpdate = Omit<TileMapEvent, "runId">;

export class RunTileMap {
  private readonly nodes = new Map<string, NodeMap>();
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(
    private readonly publish: (update: TileMapUpdate) => void,
    private readonly flushMs = FLUSH_MS,
  ) {}

  /** For EngineOptions.onTileImage: never throws (a preview must not fail a run). */
  readonly onTileImage = (nodeId: string, report: TileReport, image: RgbImage, iteration?: number): void => {
    try {
      const side = Math.max(1, Math.min(MAX_PREVIEW_SIDE, Math.round((Math.max(report.rect.width, report.rect.height) * MAP_SIDE) / Math.max(report.canvas.width, report.canvas.height))));
      const pixels = samplePreview({ tile: image }, side);
      if (pixels) this.mapOf(nodeId, report, iteration).sampled.set(report.index, pixels);
    } catch (error) {
      this.report(error);
    }
  };

  /** The engine's tile-started / tile-done events. */
  add(event: TileEvent): void {
    const map = this.mapOf(event.nodeId, event, event.iteration);
    if (event.type === "tile-started") map.running.set(event.index, event.rect);
    else {
      map.running.delete(event.index);
      const pixels = map.sampled.get(event.index);
      map.sampled.delete(event.index);
      if (pixels) map.unpublished.push({ index: event.index, rect: event.rect, pixels });
    }
    map.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.enqueue();
    }, this.flushMs);
  }

  /** Publishes what has changed and waits until every update so far is out (before the run's final event). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.enqueue();
    await this.queue;
  }

  private mapOf(nodeId: string, report: TileReport, iteration: number | undefined): NodeMap {
    let map = this.nodes.get(nodeId);
    // A loop's next pass makes a new output: its map starts again.
    if (!map || map.iteration !== iteration) {
      map = { iteration, canvas: report.canvas, total: report.total, running: new Map(), sampled: new Map(), unpublished: [], dirty: false };
      this.nodes.set(nodeId, map);
    }
    return map;
  }

  private enqueue(): void {
    this.queue = this.queue.then(() => this.publishChanges()).catch((error) => this.report(error));
  }

  private async publishChanges(): Promise<void> {
    for (const [nodeId, map] of this.nodes) {
      if (!map.dirty) continue;
      map.dirty = false;
      const finished = map.unpublished.splice(0);
      const previews: TilePreview[] = await Promise.all(
        finished.map(async ({ index, rect, pixels }) => ({ index, ...rect, dataUrl: (await encodePreview(pixels, WEBP_QUALITY)).dataUrl })),
      );
      // Read after the encodes: the tiles running now, not when this update began.
      const running = [...map.running].map(([index, rect]) => ({ index, ...rect }));
      this.publish({ type: "tile-map", nodeId, iteration: map.iteration, canvas: map.canvas, total: map.total, finished: previews, running });
    }
  }

  private report(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    console.error(`tile map failed (this run's map may miss tiles): ${error instanceof Error ? error.message : String(error)}`);
  }
}
