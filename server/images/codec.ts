import { readFile } from "node:fs/promises";
import sharp, { type Metadata } from "sharp";
import { createImage, type RgbImage } from "../../nodes/image/types";

export type ImageFormat = "png" | "jpeg" | "webp";

export interface DecodedImage {
  image: RgbImage;
  notes: string[]; // what decoding changed, e.g. alpha dropped or EXIF rotation applied
}

export interface DecodeLimits {
  maxPixels: number;
}

export const DEFAULT_MAX_PIXELS = 64_000_000;

/**
 * Why an image cannot be read. `kind`: "not-an-image" (the bytes are no image format at all), "corrupt" (they
 * start as an image format but are damaged or cut short), "no-dimensions" or "too-large" (the pixel limit).
 */
export class ImageDecodeError extends Error {
  constructor(
    message: string,
    readonly kind: "not-an-image" | "corrupt" | "no-dimensions" | "too-large" = "corrupt",
  ) {
    super(message);
    this.name = "ImageDecodeError";
  }
}

/** Leading bytes of the raster formats sharp reads: bytes that start so are an image, maybe a damaged one. */
const SIGNATURES: { format: string; matches: (bytes: Buffer) => boolean }[] = [
  { format: "PNG", matches: (b) => b.subarray(0, 8).equals(PNG_SIGNATURE) },
  { format: "JPEG", matches: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { format: "GIF", matches: (b) => b.toString("latin1", 0, 4) === "GIF8" },
  { format: "WebP", matches: (b) => b.toString("latin1", 0, 4) === "RIFF" && b.toString("latin1", 8, 12) === "WEBP" },
  { format: "TIFF", matches: (b) => ["II*\u0000", "MM\u0000*"].includes(b.toString("latin1", 0, 4)) },
  { format: "HEIF/AVIF", matches: (b) => b.toString("latin1", 4, 8) === "ftyp" },
];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The decoder's message on one line, without libvips' "warning treated as error" preamble or a dangling colon. */
function decoderReason(error: Error): string {
  return error.message
    .replace(/^Warning treated as error due to failOn setting\s*/i, "")
    .replace(/\s+/g, " ")
    .replace(/[\s:]+$/, "")
    .trim() || "the decoder gave no reason";
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** What is wrong in a PNG's chunk structure, when something is: a chunk's CRC, data cut short, no image data. */
export function pngStructureProblem(bytes: Buffer): string | undefined {
  if (!bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return undefined;
  let offset = 8;
  let last = "the signature";
  let sawData = false;
  while (offset < bytes.length) {
    if (offset + 8 > bytes.length) return `the data ends inside a chunk header after ${last}`;
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString("latin1", offset + 4, offset + 8);
    if (offset + 12 + length > bytes.length) return `the data ends inside the ${type} chunk at byte ${offset}`;
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== bytes.readUInt32BE(offset + 8 + length)) {
      return `the ${type} chunk at byte ${offset} fails its CRC check`;
    }
    if (type === "IDAT") sawData = true;
    if (type === "IEND") return sawData ? undefined : "no IDAT chunk with image data before IEND";
    last = `the ${type} chunk`;
    offset += 12 + length;
  }
  return sawData ? `the data ends after ${last}, before the IEND chunk` : `the data ends after ${last}, no IDAT chunk with image data`;
}

/**
 * The error for bytes the decoder refused: "corrupt or truncated image data: <the decoder's reason>" when they
 * are an image format (its header read, or its signature there; plus what is wrong in a PNG's chunks), "not a
 * readable image" when they are no image at all.
 */
async function refusal(input: Buffer | string, what: string, error: Error, headerFormat?: string): Promise<ImageDecodeError> {
  const bytes = typeof input === "string" ? await readFile(input).catch(() => Buffer.alloc(0)) : input;
  const format = SIGNATURES.find((signature) => signature.matches(bytes))?.format ?? headerFormat;
  if (!format) return new ImageDecodeError(`${what}: not a readable image (${decoderReason(error)})`, "not-an-image");
  const structure = pngStructureProblem(bytes);
  return new ImageDecodeError(`${what}: corrupt or truncated image data: ${decoderReason(error)}${structure ? ` (${format}: ${structure})` : ""}`, "corrupt");
}

/**
 * The header of an image (format, size, orientation...) without decoding a pixel; throws ImageDecodeError
 * ("not-an-image" or "corrupt") when the bytes cannot be read.
 */
export async function readImageHeader(input: Buffer | string, what = typeof input === "string" ? input : "image data"): Promise<Metadata> {
  try {
    return await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw await refusal(input, what, error as Error);
  }
}

/** An image's size as a run sees it (EXIF orientation applied), from its header alone. */
export async function imageSize(input: Buffer | string, what = typeof input === "string" ? input : "image data"): Promise<{ width: number; height: number }> {
  const meta = await readImageHeader(input, what);
  if (!meta.width || !meta.height) throw new ImageDecodeError(`${what}: image has no dimensions`, "no-dimensions");
  // Orientations 5-8 turn the image a quarter: decoded, its width and height are swapped.
  return (meta.orientation ?? 1) >= 5 ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
}

/**
 * Decodes PNG/JPEG/WebP/etc. into the engine's RGB float CHW layout. EXIF orientation is applied and
 * alpha is dropped (composited on nothing: the colour channels are kept as stored), both reported as notes.
 * The pixel limit is checked from the header before any pixel is decoded.
 */
export async function decodeImage(
  input: Buffer | string,
  limits: DecodeLimits = { maxPixels: DEFAULT_MAX_PIXELS },
): Promise<DecodedImage> {
  const what = typeof input === "string" ? input : "image data";
  const meta = await readImageHeader(input, what);
  if (!meta.width || !meta.height) throw new ImageDecodeError(`${what}: image has no dimensions`, "no-dimensions");
  if (meta.width * meta.height > limits.maxPixels) {
    throw new ImageDecodeError(
      `${what}: ${meta.width}x${meta.height} is ${((meta.width * meta.height) / 1e6).toFixed(1)} MP, over the limit of ${(limits.maxPixels / 1e6).toFixed(1)} MP`,
      "too-large",
    );
  }
  const notes: string[] = [];
  if (meta.hasAlpha) notes.push("alpha channel dropped");
  if (meta.orientation && meta.orientation !== 1) notes.push(`EXIF orientation ${meta.orientation} applied`);
  if ((meta.depth ?? "uchar") !== "uchar") notes.push(`${meta.depth} samples reduced to 8-bit`);

  const raw = await sharp(input, { limitInputPixels: limits.maxPixels })
    .rotate()
    .removeAlpha()
    .toColourspace("srgb")
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true })
    .catch(async (error: Error) => {
      throw await refusal(input, what, error, meta.format ?? "image");
    });
  const { width, height, channels } = raw.info;
  const image = createImage(width, height);
  const plane = width * height;
  const src = raw.data;
  const dst = image.data;
  const inv = 1 / 255;
  for (let i = 0, p = 0; i < plane; i++, p += channels) {
    const r = src[p];
    dst[i] = r * inv;
    dst[plane + i] = (channels >= 3 ? src[p + 1] : r) * inv;
    dst[2 * plane + i] = (channels >= 3 ? src[p + 2] : r) * inv;
  }
  return { image, notes };
}

/** Rounds and clamps to interleaved 8-bit RGB. */
export function toRgb8(image: RgbImage): Buffer {
  const out = Buffer.allocUnsafe(image.width * image.height * 3);
  writeRgb8(image, out, 0);
  return out;
}

/** Rounds and clamps an image (or a band of full-width rows) into interleaved 8-bit RGB at a byte offset of `out`. */
export function writeRgb8(image: RgbImage, out: Buffer, offset: number): void {
  const plane = image.width * image.height;
  const d = image.data;
  for (let i = 0, p = offset; i < plane; i++, p += 3) {
    out[p] = clamp8(d[i]);
    out[p + 1] = clamp8(d[plane + i]);
    out[p + 2] = clamp8(d[2 * plane + i]);
  }
}

function clamp8(v: number): number {
  const x = Math.round(v * 255);
  return x < 0 ? 0 : x > 255 ? 255 : x;
}

export interface EncodeOptions {
  format: ImageFormat;
  quality?: number; // jpeg/webp, 1..100
}

export function encodeImage(image: RgbImage, options: EncodeOptions): Promise<Buffer> {
  return encodeRgb8(toRgb8(image), image.width, image.height, options);
}

/** Encodes interleaved 8-bit RGB pixels (toRgb8 / writeRgb8): the one place an output's file format is made. */
export async function encodeRgb8(rgb: Buffer, width: number, height: number, options: EncodeOptions): Promise<Buffer> {
  const pipeline = sharp(rgb, { raw: { width, height, channels: 3 } });
  switch (options.format) {
    case "png":
      return pipeline.png({ compressionLevel: 6 }).toBuffer();
    case "jpeg":
      return pipeline.jpeg({ quality: options.quality ?? 92, chromaSubsampling: "4:2:0" }).toBuffer();
    case "webp":
      return pipeline.webp({ quality: options.quality ?? 92 }).toBuffer();
  }
}
