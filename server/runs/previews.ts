// Node output previews for the editor: a thumbnail of each node's output (longest side <= 160 px, a WebP data
// URL), published as a `node-preview` run event. The engine tells each node's outputs (EngineOptions.onOutputs);
// here they are sampled down at once to a few kilobytes of RGB (cost bounded by the thumbnail, not the output:
// at most 3x3 samples per thumbnail pixel), so no full-size value is held after the engine has let it go, and
// the WebP encode runs later in sharp's thread pool, one at a time, while the run goes on. A value handed on
// part by part (tiles as they finish, bands of rows: nodes/graph/stream.ts) is sampled as its parts pass, so
// its preview never needs it whole; it is published once its last part has come.
import sharp from "sharp";
import type { OutputValues } from "../../nodes/graph/define-node";
import { isStreamed, tileRects, watchParts } from "../../nodes/graph/stream";
import type { Band } from "../../nodes/image/tiling";
import type { Tile, TileSet } from "../../nodes/graph/values";
import { isTileSet, type PortValue } from "../../nodes/graph/values";
import type { RgbImage } from "../../nodes/image/types";

export const PREVIEW_MAX_SIDE = 160;
/** Samples per thumbnail pixel along each axis (3x3 = 9): a cheap box filter that keeps thumbnails smooth. */
const SAMPLES = 3;
const WEBP_QUALITY = 80;

export interface NodePreview {
  port: string;
  /** The real size of the output (for tiles: the image they cover, at their scale). */
  width: number;
  height: number;
  dataUrl: string;
}

/** A thumbnail sampled from an output, not yet encoded. */
export interface PreviewPixels {
  port: string;
  width: number;
  height: number;
  previewWidth: number;
  previewHeight: number;
  /** previewWidth * previewHeight RGB bytes, row-major, interleaved. */
  rgb: Buffer;
}

/** The first image or tiles output of a node, sampled to a thumbnail; undefined when it has none (numbers). */
export function samplePreview(outputs: OutputValues, maxSide = PREVIEW_MAX_SIDE): PreviewPixels | undefined {
  for (const [port, value] of Object.entries(outputs)) {
    const pixels = sampleValue(port, value, maxSide);
    if (pixels) return pixels;
  }
  return undefined;
}

export async function encodePreview(pixels: PreviewPixels, quality = WEBP_QUALITY): Promise<NodePreview> {
  const webp = await sharp(pixels.rgb, { raw: { width: pixels.previewWidth, height: pixels.previewHeight, channels: 3 } })
    .webp({ quality })
    .toBuffer();
  return { port: pixels.port, width: pixels.width, height: pixels.height, dataUrl: `data:image/webp;base64,${webp.toString("base64")}` };
}

/** A placed tile: where its pixels start in the (scaled) image the tiles cover. */
interface Placed {
  left: number;
  top: number;
  image: RgbImage;
}

function sampleValue(port: string, value: PortValue | undefined, maxSide: number): PreviewPixels | undefined {
  if (value === undefined || typeof value === "number") return undefined;
  if (isTileSet(value)) return sampleTiles(port, value, maxSide);
  if (value.width < 1 || value.height < 1) return undefined;
  return sampleMosaic(port, value.width, value.height, [[{ left: 0, top: 0, image: value }]], [0], [0], maxSide);
}

/** Tiles at their grid positions; where tiles overlap, the later one (right, below) shows, as it was cut. */
function sampleTiles(port: string, set: TileSet, maxSide: number): PreviewPixels | undefined {
  const width = Math.round(set.grid.sourceWidth * set.grid.scale);
  const height = Math.round(set.grid.sourceHeight * set.grid.scale);
  if (set.tiles.length === 0 || width < 1 || height < 1) return undefined;
  const place = (tile: Tile): Placed => ({
    // Each tile's own scale (its pixels over the source pixels it covers), so any later resize is followed.
    left: Math.round(tile.x * (tile.image.width / tile.width)),
    top: Math.round(tile.y * (tile.image.height / tile.height)),
    image: tile.image,
  });
  const cols = Math.max(...set.tiles.map((tile) => tile.col)) + 1;
  const rows = Math.max(...set.tiles.map((tile) => tile.row)) + 1;
  const grid: (Placed | undefined)[][] = Array.from({ length: rows }, () => new Array<Placed | undefined>(cols));
  const colLefts = new Array<number>(cols).fill(Infinity);
  const rowTops = new Array<number>(rows).fill(Infinity);
  for (const tile of set.tiles) {
    const placed = place(tile);
    grid[tile.row][tile.col] = placed;
    colLefts[tile.col] = Math.min(colLefts[tile.col], placed.left);
    rowTops[tile.row] = Math.min(rowTops[tile.row], placed.top);
  }
  return sampleMosaic(port, width, height, grid, colLefts, rowTops, maxSide);
}

/**
 * A thumbnail sampled from a streamed value's parts as they come: the same sample points as sampleMosaic
 * (each read from the part that holds it: the band covering its row; the tile of the last column / row started
 * at or before it), summed per thumbnail pixel until the last part.
 */
class PartSampler {
  readonly previewWidth: number;
  readonly previewHeight: number;
  private readonly xs: AxisSamples;
  private readonly ys: AxisSamples;
  private readonly sums: Float64Array;
  private readonly counts: Uint16Array;

  constructor(
    private readonly port: string,
    private readonly width: number,
    private readonly height: number,
    maxSide: number,
    colLefts: number[] = [0],
    rowTops: number[] = [0],
  ) {
    const shrink = Math.min(1, maxSide / Math.max(width, height));
    this.previewWidth = Math.max(1, Math.round(width * shrink));
    this.previewHeight = Math.max(1, Math.round(height * shrink));
    this.xs = axisSamples(width, this.previewWidth, colLefts);
    this.ys = axisSamples(height, this.previewHeight, rowTops);
    this.sums = new Float64Array(this.previewWidth * this.previewHeight * 3);
    this.counts = new Uint16Array(this.previewWidth * this.previewHeight);
  }

  /** Full-width rows from `band.top`. */
  readonly band = (band: Band): void => {
    const { ys } = this;
    const bottom = band.top + band.image.height;
    for (let iy = 0; iy < ys.coordinates.length; iy++) {
      const y = ys.coordinates[iy];
      if (y >= band.top && y < bottom) this.sampleRow(iy, { left: 0, top: band.top, image: band.image }, -1);
    }
  };

  /** A tile of the grid, at its own scale (as sampleTiles places it). */
  readonly tile = (tile: Tile): void => {
    const placed = {
      left: Math.round(tile.x * (tile.image.width / tile.width)),
      top: Math.round(tile.y * (tile.image.height / tile.height)),
      image: tile.image,
    };
    for (let iy = 0; iy < this.ys.cells.length; iy++) if (this.ys.cells[iy] === tile.row) this.sampleRow(iy, placed, tile.col);
  };

  /** The sample points of one sample row read from `placed` (those of grid column `col`; -1: all). */
  private sampleRow(iy: number, placed: Placed, col: number): void {
    const { xs, sums, counts } = this;
    const image = placed.image;
    const plane = image.width * image.height;
    const localY = Math.min(image.height - 1, Math.max(0, this.ys.coordinates[iy] - placed.top));
    const rowOut = Math.floor(iy / this.ys.count) * this.previewWidth;
    for (let ix = 0; ix < xs.coordinates.length; ix++) {
      if (col >= 0 && xs.cells[ix] !== col) continue;
      const localX = Math.min(image.width - 1, Math.max(0, xs.coordinates[ix] - placed.left));
      const at = localY * image.width + localX;
      const out = rowOut + Math.floor(ix / xs.count);
      sums[out * 3] += image.data[at];
      sums[out * 3 + 1] += image.data[plane + at];
      sums[out * 3 + 2] += image.data[2 * plane + at];
      counts[out]++;
    }
  }

  pixels(): PreviewPixels {
    const rgb = Buffer.alloc(this.previewWidth * this.previewHeight * 3);
    for (let i = 0; i < this.counts.length; i++) {
      const count = this.counts[i];
      if (count === 0) continue;
      for (let c = 0; c < 3; c++) rgb[i * 3 + c] = toByte(this.sums[i * 3 + c] / count);
    }
    const { port, width, height, previewWidth, previewHeight } = this;
    return { port, width, height, previewWidth, previewHeight, rgb };
  }
}

/** A sampler for a streamed image or tile set (its size and tile places are known before its parts). */
function partSampler(port: string, value: PortValue, maxSide: number): PartSampler | undefined {
  if (typeof value === "number") return undefined;
  if (!isTileSet(value)) return value.width > 0 && value.height > 0 ? new PartSampler(port, value.width, value.height, maxSide) : undefined;
  const { grid } = value;
  const width = Math.round(grid.sourceWidth * grid.scale);
  const height = Math.round(grid.sourceHeight * grid.scale);
  const rects = tileRects(value);
  if (!rects.length || width < 1 || height < 1) return undefined;
  const cols = Math.max(...rects.map((rect) => rect.col)) + 1;
  const rows = Math.max(...rects.map((rect) => rect.row)) + 1;
  const colLefts = new Array<number>(cols).fill(Infinity);
  const rowTops = new Array<number>(rows).fill(Infinity);
  for (const rect of rects) {
    colLefts[rect.col] = Math.min(colLefts[rect.col], Math.round(rect.x * grid.scale));
    rowTops[rect.row] = Math.min(rowTops[rect.row], Math.round(rect.y * grid.scale));
  }
  return new PartSampler(port, width, height, maxSide, colLefts, rowTops);
}

/**
 * Samples a grid of placed images into a thumbnail: each thumbnail pixel averages up to SAMPLES x SAMPLES
 * points of the area it covers, each point read from the last column / row whose start is at or before it.
 * Plain indexed loops over typed arrays: this runs on the engine's thread, often before the JIT has warmed up.
 */
function sampleMosaic(
  port: string,
  width: number,
  height: number,
  grid: (Placed | undefined)[][],
  colLefts: number[],
  rowTops: number[],
  maxSide: number,
): PreviewPixels {
  const shrink = Math.min(1, maxSide / Math.max(width, height));
  const previewWidth = Math.max(1, Math.round(width * shrink));
  const previewHeight = Math.max(1, Math.round(height * shrink));
  const xs = axisSamples(width, previewWidth, colLefts);
  const ys = axisSamples(height, previewHeight, rowTops);
  const rgb = Buffer.alloc(previewWidth * previewHeight * 3);
  for (let py = 0; py < previewHeight; py++) {
    for (let px = 0; px < previewWidth; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let count = 0;
      for (let iy = py * ys.count; iy < (py + 1) * ys.count; iy++) {
        const line = grid[ys.cells[iy]];
        const y = ys.coordinates[iy];
        for (let ix = px * xs.count; ix < (px + 1) * xs.count; ix++) {
          const placed = line[xs.cells[ix]];
          if (placed === undefined) continue;
          const image = placed.image;
          const localX = Math.min(image.width - 1, Math.max(0, xs.coordinates[ix] - placed.left));
          const localY = Math.min(image.height - 1, Math.max(0, y - placed.top));
          const plane = image.width * image.height;
          const at = localY * image.width + localX;
          r += image.data[at];
          g += image.data[plane + at];
          b += image.data[2 * plane + at];
          count++;
        }
      }
      const out = (py * previewWidth + px) * 3;
      if (count > 0) {
        rgb[out] = toByte(r / count);
        rgb[out + 1] = toByte(g / count);
        rgb[out + 2] = toByte(b / count);
      }
    }
  }
  return { port, width, height, previewWidth, previewHeight, rgb };
}

/** Sample points along one axis: `count` per thumbnail pixel, each a grid index and a full-image coordinate. */
interface AxisSamples {
  count: number;
  cells: Int32Array;
  coordinates: Int32Array;
}

function axisSamples(length: number, previewLength: number, starts: number[]): AxisSamples {
  const order = starts
    .map((start, index) => [start, index] as const)
    .filter(([start]) => Number.isFinite(start))
    .sort((a, b) => a[0] - b[0]);
  const step = length / previewLength;
  const count = Math.max(1, Math.min(SAMPLES, Math.floor(step)));
  const cells = new Int32Array(previewLength * count);
  const coordinates = new Int32Array(previewLength * count);
  for (let p = 0; p < previewLength; p++) {
    for (let i = 0; i < count; i++) {
      const coordinate = Math.min(length - 1, Math.floor(p * step + ((i + 0.5) * step) / count));
      let cell = order[0]?.[1] ?? 0;
      for (const [start, index] of order) {
        if (start > coordinate) break;
        cell = index;
      }
      cells[p * count + i] = cell;
      coordinates[p * count + i] = coordinate;
    }
  }
  return { count, cells, coordinates };
}

function toByte(value: number): number {
  // NaN (a model's overflow) shows black rather than failing the preview.
  return value > 0 ? (value < 1 ? Math.round(value * 255) : 255) : 0;
}

/**
 * The previews of one run: one per node at most. A top-level node's preview is made as soon as it has its
 * outputs; a node inside a container (run once per iteration) keeps only its latest thumbnail, published when
 * its top-level container finishes (or at the end), so it shows the last iteration.
 */
export class RunPreviews {
  private readonly parents: Map<string, string | undefined>;
  private readonly pending = new Map<string, PreviewPixels>();
  private readonly published = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(
    graph: { nodes: { id: string; parentId?: string }[] },
    private readonly publish: (nodeId: string, preview: NodePreview) => void,
    private readonly maxSide = PREVIEW_MAX_SIDE,
  ) {
    this.parents = new Map(graph.nodes.map((node) => [node.id, node.parentId]));
  }

  /** For EngineOptions.onOutputs: never throws (a preview must not fail a run). */
  readonly onOutputs = (nodeId: string, outputs: OutputValues, iteration?: number): void => {
    try {
      const topLevel = this.parents.get(nodeId) === undefined;
      if (!this.published.has(nodeId) && !this.watch(nodeId, outputs, iteration)) this.settle(nodeId, samplePreview(outputs, this.maxSide), iteration);
      if (topLevel) {
        for (const [inner, latest] of this.pending) if (this.topLevelOf(inner) === nodeId) this.enqueue(inner, latest);
      }
    } catch (error) {
      this.report(error);
    }
  };

  private settle(nodeId: string, pixels: PreviewPixels | undefined, iteration: number | undefined): void {
    if (pixels && this.parents.get(nodeId) === undefined && iteration === undefined) this.enqueue(nodeId, pixels);
    else if (pixels) this.pending.set(nodeId, pixels);
  }

  /**
   * Where the node's first image or tiles output comes streamed: samples its parts as they pass, its preview
   * settled once the last has come (true); false where it is a plain value.
   */
  private watch(nodeId: string, outputs: OutputValues, iteration: number | undefined): boolean {
    const port = Object.keys(outputs).find((name) => typeof outputs[name] === "object");
    if (port === undefined || !isStreamed(outputs[port])) return false;
    const sampler = partSampler(port, outputs[port], this.maxSide);
    if (!sampler) return true;
    let broken = false;
    const guard =
      <P>(sample: (part: P) => void) =>
      (part: P) => {
        if (broken) return;
        try {
          sample(part);
        } catch (error) {
          broken = true; // a preview must not fail a run: this one is left out
          this.report(error);
        }
      };
    watchParts(outputs[port], { tile: guard(sampler.tile), band: guard(sampler.band) }, () => {
      if (!broken && !this.published.has(nodeId)) this.settle(nodeId, sampler.pixels(), iteration);
    });
    return true;
  }

  /** Publishes what is still pending and waits for every preview of the run to be published. */
  async flush(): Promise<void> {
    for (const [nodeId, pixels] of this.pending) this.enqueue(nodeId, pixels);
    await this.queue;
  }

  private enqueue(nodeId: string, pixels: PreviewPixels): void {
    this.pending.delete(nodeId);
    if (this.published.has(nodeId)) return;
    this.published.add(nodeId);
    this.queue = this.queue.then(() => encodePreview(pixels).then((preview) => this.publish(nodeId, preview))).catch((error) => this.report(error));
  }

  private topLevelOf(nodeId: string): string {
    let current = nodeId;
    const seen = new Set<string>();
    for (let parent = this.parents.get(current); parent !== undefined && !seen.has(parent); parent = this.parents.get(current)) {
      seen.add(parent);
      current = parent;
    }
    return current;
  }

  private report(error: unknown): void {
    // Once per run: a broken preview is worth one line in the log, not one per node.
    if (this.failed) return;
    this.failed = true;
    console.error(`node preview failed (previews of this run may be missing): ${error instanceof Error ? error.message : String(error)}`);
  }
}
