import type { Tile, TileGrid, TileSet } from "../graph/values";
import { createImage, type RgbImage } from "./types";

/** Rows [top, top + image.height) of an image, full width. */
export interface Band {
  top: number;
  image: RgbImage;
}

export type BlendMode = "crop" | "linear" | "cosine" | "gaussian";

/**
 * Start offsets of equal-size tiles covering [0, length): as few tiles as keep every overlap at least
 * `overlap`, spread evenly so the last tile ends exactly at the edge (no sliver tile at the border).
 */
export function axisStarts(length: number, tile: number, overlap: number): number[] {
  if (length <= tile) return [0];
  const count = Math.ceil((length - tile) / (tile - overlap)) + 1;
  return Array.from({ length: count }, (_, i) => Math.round((i * (length - tile)) / (count - 1)));
}

/** Where cutTiles cuts: the tile size (clamped to the image) and each column's and row's start. */
export function tileLayout(imageWidth: number, imageHeight: number, tileWidth: number, tileHeight: number, overlap: number) {
  const width = Math.min(tileWidth, imageWidth);
  const height = Math.min(tileHeight, imageHeight);
  if (overlap >= Math.min(width, height) && (imageWidth > width || imageHeight > height)) {
    throw new Error(`overlap ${overlap} must be smaller than the tile (${width}x${height})`);
  }
  return { width, height, xs: axisStarts(imageWidth, width, overlap), ys: axisStarts(imageHeight, height, overlap) };
}

/** Cuts overlapping tiles; each tile is a copy, so the source can be freed. */
export function cutTiles(image: RgbImage, tileWidth: number, tileHeight: number, overlap: number): TileSet {
  const { width, height, xs, ys } = tileLayout(image.width, image.height, tileWidth, tileHeight, overlap);
  const tiles: Tile[] = [];
  ys.forEach((y, row) =>
    xs.forEach((x, col) => tiles.push({ x, y, width, height, col, row, image: crop(image, x, y, width, height) })),
  );
  return {
    grid: {
      sourceWidth: image.width,
      sourceHeight: image.height,
      tileWidth: width,
      tileHeight: height,
      overlap,
      cols: xs.length,
      rows: ys.length,
      scale: 1,
    },
    tiles,
  };
}

export function crop(image: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  const out = createImage(width, height);
  const srcPlane = image.width * image.height;
  const dstPlane = width * height;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      const from = c * srcPlane + (top + y) * image.width + left;
      out.data.set(image.data.subarray(from, from + width), c * dstPlane + y * width);
    }
  }
  return out;
}

/**
 * Blend weights along one axis for each tile, in output pixels. Neighbouring weights sum to 1 in every
 * overlap for crop/linear/cosine; gaussian weights are normalised by their per-pixel sum when stitching.
 */
export function axisWeights(starts: number[], tileLength: number, scale: number, mode: BlendMode): Float32Array[] {
  const length = Math.round(tileLength * scale);
  return starts.map((start, i) => {
    const weights = new Float32Array(length).fill(1);
    const begin = Math.round(start * scale);
    const prevEnd = i > 0 ? Math.round(starts[i - 1] * scale) + length : begin; // previous tile's end
    const nextBegin = i < starts.length - 1 ? Math.round(starts[i + 1] * scale) : begin + length;
    if (mode === "gaussian") {
      // Mixture of Diffusers: a Gaussian over the tile, variance 0.01 of its size squared.
      const middle = (length - 1) / 2;
      for (let x = 0; x < length; x++) weights[x] = Math.exp(-(((x - middle) / length) ** 2) / (2 * 0.01));
      return weights;
    }
    for (let x = 0; x < length; x++) {
      const position = begin + x;
      let w = 1;
      if (position < prevEnd) w = Math.min(w, ramp(position - begin, prevEnd - begin, mode));
      if (position >= nextBegin) w = Math.min(w, ramp(begin + length - 1 - position, begin + length - nextBegin, mode));
      weights[x] = w;
    }
    return weights;
  });
}

/** Weight rising across an overlap of `span` pixels, at pixel `offset` from where the overlap starts. */
function ramp(offset: number, span: number, mode: Exclude<BlendMode, "gaussian">): number {
  if (mode === "crop") return offset >= Math.floor(span / 2) ? 1 : 0;
  const t = (offset + 0.5) / span;
  return mode === "linear" ? t : Math.sin((Math.PI / 2) * t) ** 2;
}

/** Places every tile at its scaled position and blends the overlaps. */
export function stitchTiles(set: TileSet, mode: BlendMode): RgbImage {
  const out = createImage(Math.round(set.grid.sourceWidth * set.grid.scale), Math.round(set.grid.sourceHeight * set.grid.scale));
  const stitcher = new BandStitcher(set.grid, set.tiles, mode);
  for (const tile of set.tiles) {
    for (const band of stitcher.add(tile)) copyRows(band, out);
  }
  return out;
}

/** Output rows at a time that a band is blended in (bounds the band's memory whatever the tile size). */
const BAND_ROWS = 64;

/**
 * Blends tiles that come one at a time, in the order of `rects` (row-major), into bands of finished output rows:
 * `add` returns the rows that no tile still to come reaches, blended exactly as a whole stitch would (each
 * pixel sums its tiles in the same order), and lets go of the tiles no later row needs. It holds about one row
 * of tiles and one band, never the image.
 */
export class BandStitcher {
  readonly width: number;
  readonly height: number;
  private readonly tileW: number;
  private readonly tileH: number;
  private readonly xs: number[];
  private readonly ys: number[];
  private readonly wx: Float32Array[];
  private readonly wy: Float32Array[];
  /** For each position in arrival order: the least top (in output rows) of the tiles from there on. */
  private readonly topsFrom: number[];
  private held: Tile[] = [];
  private arrived = 0;
  private emitted = 0;

  constructor(
    private readonly grid: TileGrid,
    rects: readonly Omit<Tile, "image">[],
    mode: BlendMode,
  ) {
    const scale = grid.scale;
    this.width = Math.round(grid.sourceWidth * scale);
    this.height = Math.round(grid.sourceHeight * scale);
    this.tileW = Math.round(grid.tileWidth * scale);
    this.tileH = Math.round(grid.tileHeight * scale);
    this.xs = [...new Set(rects.map((tile) => tile.x))].sort((a, b) => a - b);
    this.ys = [...new Set(rects.map((tile) => tile.y))].sort((a, b) => a - b);
    this.wx = axisWeights(this.xs, grid.tileWidth, scale, mode);
    this.wy = axisWeights(this.ys, grid.tileHeight, scale, mode);
    this.topsFrom = new Array<number>(rects.length + 1);
    this.topsFrom[rects.length] = this.height;
    for (let i = rects.length - 1; i >= 0; i--) this.topsFrom[i] = Math.min(this.topsFrom[i + 1], Math.round(rects[i].y * scale));
  }

  /** The next tile in order; returns the bands of rows it finished, top to bottom. */
  add(tile: Tile): Band[] {
    if (tile.image.width !== this.tileW || tile.image.height !== this.tileH) {
      throw new Error(
        `tile at (${tile.x}, ${tile.y}) is ${tile.image.width}x${tile.image.height}, expected ${this.tileW}x${this.tileH} for x${this.grid.scale}`,
      );
    }
    this.held.push(tile);
    this.arrived++;
    const ready = this.topsFrom[this.arrived];
    const bands: Band[] = [];
    for (; this.emitted < ready; this.emitted = Math.min(ready, this.emitted + BAND_ROWS)) {
      bands.push(this.blend(this.emitted, Math.min(ready, this.emitted + BAND_ROWS)));
    }
    this.held = this.held.filter((held) => Math.round(held.y * this.grid.scale) + this.tileH > this.emitted);
    return bands;
  }

  /** Output rows [from, to) blended from the tiles held, in their order. */
  private blend(from: number, to: number): Band {
    const { width, tileW, tileH } = this;
    const scale = this.grid.scale;
    const out = createImage(width, to - from);
    const plane = width * (to - from);
    const total = new Float32Array(plane);
    const tilePlane = tileW * tileH;
    for (const tile of this.held) {
      const top = Math.round(tile.y * scale);
      const left = Math.round(tile.x * scale);
      const weightX = this.wx[this.xs.indexOf(tile.x)];
      const weightY = this.wy[this.ys.indexOf(tile.y)];
      const src = tile.image.data;
      for (let y = Math.max(from, top); y < Math.min(to, top + tileH); y++) {
        const wRow = weightY[y - top];
        if (wRow === 0) continue;
        const outRow = (y - from) * width + left;
        const tileRow = (y - top) * tileW;
        for (let x = 0; x < tileW; x++) {
          const w = wRow * weightX[x];
          if (w === 0) continue;
          const o = outRow + x;
          const t = tileRow + x;
          total[o] += w;
          out.data[o] += w * src[t];
          out.data[plane + o] += w * src[tilePlane + t];
          out.data[2 * plane + o] += w * src[2 * tilePlane + t];
        }
      }
    }
    for (let o = 0; o < plane; o++) {
      const inv = total[o] > 0 ? 1 / total[o] : 0;
      out.data[o] *= inv;
      out.data[plane + o] *= inv;
      out.data[2 * plane + o] *= inv;
    }
    return { top: from, image: out };
  }
}

/** Copies a band of full-width rows into the image at its rows. */
export function copyRows(band: Band, into: RgbImage): void {
  const plane = into.width * into.height;
  const bandPlane = band.image.width * band.image.height;
  for (let c = 0; c < 3; c++) into.data.set(band.image.data.subarray(c * bandPlane, (c + 1) * bandPlane), c * plane + band.top * into.width);
}
