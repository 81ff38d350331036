// Deep Zoom pyramids of large outputs: libvips' dzsave (sharp's `.tile()`) writes <name>.dzi and
// <name>_files/<level>/<col>_<row>.<format>, level L holding the image at 1 / 2^(maxLevel - L) of its size
// (maxLevel = ceil(log2(longest side)): level 0 is one pixel), cut into 256 px tiles without overlap. The run
// page's viewer loads only the tiles in view, so an 8192 x 8192 output opens without the browser decoding a
// 67 MP PNG. The tiles keep the output's format (PNG tiles of a PNG are its exact pixels, for 1:1).
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";

/** Outputs of at least this many pixels (4096 x 4096) get a pyramid beside their file. */
export const DEEP_ZOOM_MIN_PIXELS = 4096 * 4096;

export const DEEP_ZOOM_TILE_SIZE = 256;

export type TileFormat = "png" | "jpeg" | "webp";

export interface DeepZoomInfo {
  width: number;
  height: number;
  tileSize: number;
  overlap: number;
  format: TileFormat;
}

/** A pyramid's files, by their path under the folder it was written in ('/'-separated). */
export interface DeepZoomFiles {
  /** The descriptor, "image.dzi". */
  dzi: { path: string; bytes: Buffer };
  /** "image_files/<level>/<col>_<row>.<ext>" */
  tiles: string[];
  /** Reads one of `tiles`. */
  read(tile: string): Promise<Buffer>;
  /** Removes the folder. */
  remove(): Promise<void>;
}

/**
 * Writes the pyramid of an encoded image (a run output's file) into a fresh temporary folder, read in one
 * sequential pass (libvips builds the levels as the rows come, so the whole image is never held decoded).
 */
export async function writeDeepZoom(encoded: Buffer, format: TileFormat): Promise<DeepZoomFiles> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tudsr-dz-"));
  try {
    // The run made this image: no pixel limit (an 8192 x 8192 output is over the inputs' 64 MP).
    let pipeline = sharp(encoded, { sequentialRead: true, limitInputPixels: false });
    if (format === "png") pipeline = pipeline.png({ compressionLevel: 6 });
    else if (format === "webp") pipeline = pipeline.webp({ quality: 90 });
    else pipeline = pipeline.jpeg({ quality: 90 });
    await pipeline.tile({ size: DEEP_ZOOM_TILE_SIZE, overlap: 0, layout: "dz" }).toFile(path.join(dir, "image.dz"));
    const tiles: string[] = [];
    const extension = format === "jpeg" ? ".jpeg" : `.${format}`;
    for (const level of await readdir(path.join(dir, "image_files"))) {
      if (!/^\d+$/.test(level)) continue; // vips-properties.xml
      for (const tile of await readdir(path.join(dir, "image_files", level))) if (tile.endsWith(extension)) tiles.push(`image_files/${level}/${tile}`);
    }
    return {
      dzi: { path: "image.dzi", bytes: await readFile(path.join(dir, "image.dzi")) },
      tiles,
      read: (tile) => readFile(path.join(dir, ...tile.split("/"))),
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A .dzi descriptor's fields (the XML dzsave writes); throws on anything else. */
export function parseDzi(xml: string): DeepZoomInfo {
  const attribute = (name: string) => {
    const match = new RegExp(`\\b${name}="([^"]*)"`).exec(xml);
    if (!match) throw new Error(`not a Deep Zoom descriptor: no ${name}`);
    return match[1];
  };
  const format = attribute("Format");
  if (format !== "png" && format !== "jpeg" && format !== "webp") throw new Error(`Deep Zoom tiles in an unknown format "${format}"`);
  const number = (name: string) => {
    const value = Number(attribute(name));
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`Deep Zoom ${name} is not a whole number`);
    return value;
  };
  return { width: number("Width"), height: number("Height"), tileSize: number("TileSize"), overlap: number("Overlap"), format };
}
