import type { RgbImage } from "../image/types";

/** Where a tile sits in the image it was cut from, in source pixels, and where it sits in the grid. */
export interface Tile {
  x: number;
  y: number;
  width: number;
  height: number;
  col: number;
  row: number;
  image: RgbImage; // width*scale x height*scale pixels, where scale is the grid's scale
}

/** The grid a `chunk` node cut, carried along so `stitch` can place and blend without being told again. */
export interface TileGrid {
  sourceWidth: number;
  sourceHeight: number;
  tileWidth: number;
  tileHeight: number;
  overlap: number; // the overlap asked for; actual overlaps are at least this
  cols: number;
  rows: number;
  scale: number; // scale applied to the tiles since chunking
}

export interface TileSet {
  grid: TileGrid;
  tiles: Tile[]; // row-major
}

/** Port types and the values that travel on them. */
export interface PortValues {
  image: RgbImage;
  tiles: TileSet;
  number: number;
}
export type PortType = keyof PortValues;
export type PortValue = PortValues[PortType];

export function isTileSet(value: unknown): value is TileSet {
  return typeof value === "object" && value !== null && "grid" in value && "tiles" in value;
}

/** Bytes a value holds, for cache accounting. */
export function valueBytes(value: PortValue): number {
  if (typeof value === "number") return 8;
  if (isTileSet(value)) return value.tiles.reduce((sum, tile) => sum + tile.image.data.byteLength, 0);
  return value.data.byteLength;
}

/** The work of a node without a model, which its time is recorded per megapixel of: its largest image, in or out (as planWorkMegapixels). */
export function workMegapixels(values: (PortValue | undefined)[]): number | undefined {
  const pixels = values.flatMap((value) => (value !== undefined && typeof value !== "number" && !isTileSet(value) ? [value.width * value.height] : []));
  return pixels.length ? Math.max(...pixels) / 1e6 : undefined;
}
