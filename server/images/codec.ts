import sharp from "sharp";
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

export class ImageDecodeError extends Error {}

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
  const meta = await sharp(input, { limitInputPixels: false })
    .metadata()
    .catch((error: Error) => {
      throw new ImageDecodeError(`${what}: not a readable image (${error.message})`);
    });
  if (!meta.width || !meta.height) throw new ImageDecodeError(`${what}: image has no dimensions`);
  if (meta.width * meta.height > limits.maxPixels) {
    throw new ImageDecodeError(
      `${what}: ${meta.width}x${meta.height} is ${((meta.width * meta.height) / 1e6).toFixed(1)} MP, over the limit of ${(limits.maxPixels / 1e6).toFixed(1)} MP`,
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
    .catch((error: Error) => {
      throw new ImageDecodeError(`${what}: corrupt or truncated image (${error.message})`);
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
  const plane = image.width * image.height;
  const out = Buffer.allocUnsafe(plane * 3);
  const d = image.data;
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    out[p] = clamp8(d[i]);
    out[p + 1] = clamp8(d[plane + i]);
    out[p + 2] = clamp8(d[2 * plane + i]);
  }
  return out;
}

function clamp8(v: number): number {
  const x = Math.round(v * 255);
  return x < 0 ? 0 : x > 255 ? 255 : x;
}

export interface EncodeOptions {
  format: ImageFormat;
  quality?: number; // jpeg/webp, 1..100
}

export async function encodeImage(image: RgbImage, options: EncodeOptions): Promise<Buffer> {
  const pipeline = sharp(toRgb8(image), { raw: { width: image.width, height: image.height, channels: 3 } });
  switch (options.format) {
    case "png":
      return pipeline.png({ compressionLevel: 6 }).toBuffer();
    case "jpeg":
      return pipeline.jpeg({ quality: options.quality ?? 92, chromaSubsampling: "4:2:0" }).toBuffer();
    case "webp":
      return pipeline.webp({ quality: options.quality ?? 92 }).toBuffer();
  }
}
