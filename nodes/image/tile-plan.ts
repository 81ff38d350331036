// The tile planner: the largest equal tiles (up to the whole image) whose predicted peak memory fits a budget,
// with the overlap the model's border needs, and no tile larger than its count requires. Pure: the editor's
// plan preview and the chunk node compute the same plan from the same measured costs.
import { axisStarts } from "./tiling";

/** What running a model costs on this machine, as measured (server/inference/footprint.ts). */
export interface ModelCost {
  /** Peak memory of one run of a tile: baseBytes + bytesPerInputPixel x its input pixels. */
  baseBytes: number;
  bytesPerInputPixel: number;
  /** Input pixels from a tile's border within which the model's output differs from the whole image's. */
  borderPx: number;
  msPerInputMegapixel: number;
}

export interface TilePlan {
  /** Square tile side in input pixels (a tile is clamped to the image where the image is smaller). */
  tileSize: number;
  overlap: number;
  cols: number;
  rows: number;
  /** Pixels the model works on per image pixel (1 = nothing computed twice). */
  pixelsPerImagePixel: number;
  /** Predicted peak memory of one tile's inference. */
  predictedTileBytes: number;
  /** Predicted inference time of all tiles. */
  predictedMs: number;
}

/** Blending must reach past the model's border zone: this many border widths of overlap (the seam test checks). */
const OVERLAP_PER_BORDER = 4;
const MIN_OVERLAP = 8;

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** The overlap tiles need for these models' borders (whatever the tile size). */
export function borderOverlap(costs: ModelCost[]): number {
  return roundUp(Math.max(MIN_OVERLAP, OVERLAP_PER_BORDER * Math.max(0, ...costs.map((cost) => cost.borderPx))), 2);
}

export function tileBytes(cost: ModelCost, width: number, height: number): number {
  return cost.baseBytes + cost.bytesPerInputPixel * width * height;
}

/** The planned tiling of a `width` x `height` image for the model (or models) reading the tiles. */
export function planTiles(options: { width: number; height: number; costs: ModelCost[]; budgetBytes: number; multiple?: number }): TilePlan {
  const { width, height, costs, budgetBytes } = options;
  const multiple = options.multiple ?? 1;
  if (costs.length === 0) throw new Error("the tile planner needs the cost of at least one model");
  const cost: ModelCost = {
    baseBytes: Math.max(...costs.map((c) => c.baseBytes)),
    bytesPerInputPixel: Math.max(...costs.map((c) => c.bytesPerInputPixel)),
    borderPx: Math.max(...costs.map((c) => c.borderPx)),
    msPerInputMegapixel: costs.reduce((sum, c) => sum + c.msPerInputMegapixel, 0),
  };
  const overlap = borderOverlap(costs);
  const longest = Math.max(width, height);
  // The largest square tile the budget allows; at least a small one, whatever the budget says (the generate
  // node still halves a tile that runs out of memory).
  const largest = Math.floor(Math.sqrt(Math.max(0, budgetBytes - cost.baseBytes) / Math.max(1, cost.bytesPerInputPixel)));
  const floorSize = Math.max(multiple, 2 * overlap + multiple, 32 - (32 % multiple));
  let tileSize = Math.max(floorSize, largest - (largest % multiple));
  if (tileSize >= longest || width * height <= tileSize * tileSize) {
    // The whole image fits: one tile, no overlap.
    tileSize = roundUp(longest, multiple);
    return finish(width, height, tileSize, 0, cost);
  }
  // As many tiles as the largest size needs, then the smallest size that keeps that count (no waste).
  const countFor = (length: number, size: number) => axisStarts(length, Math.min(size, length), overlap).length;
  const cols = countFor(width, tileSize);
  const rows = countFor(height, tileSize);
  const needed = (length: number, count: number) => (count <= 1 ? length : Math.ceil((length + (count - 1) * overlap) / count));
  const snug = roundUp(Math.max(needed(width, cols), needed(height, rows)), multiple);
  tileSize = Math.min(tileSize, Math.max(snug, 2 * overlap + multiple));
  return finish(width, height, tileSize, overlap, cost);
}

function finish(width: number, height: number, tileSize: number, overlap: number, cost: ModelCost): TilePlan {
  const tileWidth = Math.min(tileSize, width);
  const tileHeight = Math.min(tileSize, height);
  const cols = axisStarts(width, tileWidth, overlap).length;
  const rows = axisStarts(height, tileHeight, overlap).length;
  const modelPixels = cols * rows * tileWidth * tileHeight;
  return {
    tileSize,
    overlap,
    cols,
    rows,
    pixelsPerImagePixel: modelPixels / (width * height),
    predictedTileBytes: tileBytes(cost, tileWidth, tileHeight),
    predictedMs: (modelPixels / 1e6) * cost.msPerInputMegapixel,
  };
}
