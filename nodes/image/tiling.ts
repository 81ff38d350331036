import type { Tile, TileSet } from "../graph/values";
import { createImage, type RgbImage } from "./types";

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
  const { grid, tiles } = set;
  const scale = grid.scale;
  const width = Math.round(grid.sourceWidth * scale);
  const height = Math.round(grid.sourceHeight * scale);
  const tileW = Math.round(grid.tileWidth * scale);
  const tileH = Math.round(grid.tileHeight * scale);
  const xs = [...new Set(tiles.map((tile) => tile.x))].sort((a, b) => a - b);
  const ys = [...new Set(tiles.map((tile) => tile.y))].sort((a, b) => a - b);
  const wx = axisWeights(xs, grid.tileWidth, scale, mode);
  const wy = axisWeights(ys, grid.tileHeight, scale, mode);
  const out = createImage(width, height);
  const plane = width * height;
  const total = new Float32Array(plane);
  for (const tile of tiles) {
    if (tile.image.width !== tileW || tile.image.height !== tileH) {
      throw new Error(
        `tile at (${tile.x}, ${tile.y}) is ${tile.image.width}x${tile.image.height}, expected ${tileW}x${tileH} for x${scale}`,
      );
    }
    const weightX = wx[xs.indexOf(tile.x)];
    const weightY = wy[ys.indexOf(tile.y)];
    const left = Math.round(tile.x * scale);
    const top = Math.round(tile.y * scale);
    const tilePlane = tileW * tileH;
    const src = tile.image.data;
    for (let y = 0; y < tileH; y++) {
      const wRow = weightY[y];
      if (wRow === 0) continue;
      const outRow = (top + y) * width + left;
      const tileRow = y * tileW;
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
  return out;
}
