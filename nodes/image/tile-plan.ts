// The tile planner: of the tilings whose predicted peak memory fits a budget, the one predicted fastest (model
// pixels x ms per megapixel at that tile size, so the overlap's extra work counts), with the overlap the model's
// border needs and no tile larger than its count requires. Pure: the editor's plan preview and the chunk node
// compute the same plan from the same costs.
import { axisStarts } from "./tiling";

/** ms per input megapixel of a model at tiles of `pixels` input pixels. */
export interface SpeedPoint {
  pixels: number;
  msPerMegapixel: number;
}

/** What running a model costs on this machine (server/inference/footprint.ts, refined by runs). */
export interface ModelCost {
  /** Peak memory of one run of a tile: baseBytes + bytesPerInputPixel x its input pixels. */
  baseBytes: number;
  bytesPerInputPixel: number;
  /** Input pixels from a tile's border within which the model's output differs from the whole image's. */
  borderPx: number;
  /** ms per input megapixel where no speed per tile size is known. */
  msPerInputMegapixel: number;
  /** ms per input megapixel by tile size (larger tiles are not always faster per pixel: caches). */
  speed?: SpeedPoint[];
}

export interface TilePlan {
  /** Tile width and height in input pixels (at most the image's). */
  tileWidth: number;
  tileHeight: number;
  /** The longer of the two: what a square tile of this plan would be. */
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
/** More tiles are cut only where they are predicted faster by more than this (a tenth). */
const MORE_TILES_MARGIN = 0.1;
/** Auto tiles no smaller than this (where the image and the budget allow): a call's fixed cost dominates below. */
const MIN_AUTO_TILE = 64;

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** The overlap tiles need for these models' borders (whatever the tile size). */
export function borderOverlap(costs: ModelCost[]): number {
  return roundUp(Math.max(MIN_OVERLAP, OVERLAP_PER_BORDER * Math.max(0, ...costs.map((cost) => cost.borderPx))), 2);
}

export function tileBytes(cost: Pick<ModelCost, "baseBytes" | "bytesPerInputPixel">, width: number, height: number): number {
  return cost.baseBytes + cost.bytesPerInputPixel * width * height;
}

/** ms per megapixel at `pixels` a tile: linear in log(pixels) between the nearest known sizes, flat beyond them. */
export function msPerMegapixelAt(points: SpeedPoint[], pixels: number): number {
  const sorted = [...points].sort((a, b) => a.pixels - b.pixels);
  if (pixels <= sorted[0].pixels) return sorted[0].msPerMegapixel;
  const above = sorted.findIndex((point) => point.pixels >= pixels);
  if (above === -1) return sorted[sorted.length - 1].msPerMegapixel;
  const [low, high] = [sorted[above - 1], sorted[above]];
  const t = Math.log(pixels / low.pixels) / Math.log(high.pixels / low.pixels);
  return low.msPerMegapixel + t * (high.msPerMegapixel - low.msPerMegapixel);
}

/** A model's ms per megapixel at a tile size: its speed curve, else its one figure. */
function costMsPerMegapixel(cost: ModelCost, pixels: number): number {
  return cost.speed?.length ? msPerMegapixelAt(cost.speed, pixels) : cost.msPerInputMegapixel;
}

/** The planned tiling of a `width` x `height` image for the model (or models) reading the tiles. */
export function planTiles(options: { width: number; height: number; costs: ModelCost[]; budgetBytes: number; multiple?: number }): TilePlan {
  const { width, height, costs, budgetBytes } = options;
  const multiple = options.multiple ?? 1;
  if (costs.length === 0) throw new Error("the tile planner needs the cost of at least one model");
  const memory = { baseBytes: Math.max(...costs.map((c) => c.baseBytes)), bytesPerInputPixel: Math.max(...costs.map((c) => c.bytesPerInputPixel)) };
  const msPerMegapixel = (pixels: number) => costs.reduce((sum, cost) => sum + costMsPerMegapixel(cost, pixels), 0);
  const overlap = borderOverlap(costs);
  // The smallest tile worth cutting, and the smallest usable whatever the budget says (the generate node still
  // halves a tile that runs out of memory).
  const usable = Math.max(multiple, 2 * overlap + multiple, 32 - (32 % multiple));
  const smallest = Math.max(usable, roundUp(MIN_AUTO_TILE, multiple));
  /** A tile side that cuts `length` into `count` tiles (the whole length for one). */
  const sideFor = (length: number, count: number) => (count <= 1 ? length : Math.min(length, roundUp(Math.ceil((length + (count - 1) * overlap) / count), multiple)));
  const maxCount = (length: number, floor: number) => (length <= floor ? 1 : Math.ceil((length - overlap) / (floor - overlap)));

  const fitting: TilePlan[] = [];
  let fallback: TilePlan | undefined;
  const consider = (plan: TilePlan) => {
    if (plan.predictedTileBytes <= budgetBytes) fitting.push(plan);
    else if (!fallback || plan.predictedTileBytes < fallback.predictedTileBytes) fallback = plan;
  };
  for (const floor of [smallest, usable]) {
    for (let cols = 1; cols <= maxCount(width, floor); cols++) {
      const tileWidth = sideFor(width, cols);
      if (cols > 1 && tileWidth < floor) break;
      for (let rows = 1; rows <= maxCount(height, floor); rows++) {
        const tileHeight = sideFor(height, rows);
        if (rows > 1 && tileHeight < floor) break;
        // One tile across the image needs no overlap on that axis; cutTiles takes one overlap for both.
        consider(finish(width, height, tileWidth, tileHeight, cols === 1 && rows === 1 ? 0 : overlap, memory, msPerMegapixel));
      }
    }
    if (fitting.length) break;
  }
  if (!fitting.length) return fallback!;
  // The fewest tiles predicted within a margin of the fastest: what a tile costs beyond its pixels (stitching,
  // packing) is not in the speed figures, and they are measurements on a machine that may be busy.
  const fastest = Math.min(...fitting.map((plan) => plan.predictedMs));
  const close = fitting.filter((plan) => plan.predictedMs <= fastest * (1 + MORE_TILES_MARGIN));
  return close.reduce((best, plan) => {
    const tiles = plan.cols * plan.rows - best.cols * best.rows;
    return tiles < 0 || (tiles === 0 && plan.predictedMs < best.predictedMs) ? plan : best;
  });
}

function finish(
  width: number,
  height: number,
  tileWidth: number,
  tileHeight: number,
  overlap: number,
  memory: Pick<ModelCost, "baseBytes" | "bytesPerInputPixel">,
  msPerMegapixel: (pixels: number) => number,
): TilePlan {
  const cols = axisStarts(width, tileWidth, overlap).length;
  const rows = axisStarts(height, tileHeight, overlap).length;
  const tilePixels = tileWidth * tileHeight;
  const modelPixels = cols * rows * tilePixels;
  return {
    tileWidth,
    tileHeight,
    tileSize: Math.max(tileWidth, tileHeight),
    overlap,
    cols,
    rows,
    pixelsPerImagePixel: modelPixels / (width * height),
    predictedTileBytes: tileBytes(memory, tileWidth, tileHeight),
    predictedMs: (modelPixels / 1e6) * msPerMegapixel(tilePixels),
  };
}
