/**
 * 8-bit quantisation and the luma used by SR benchmarks, matching what torch/numpy/BasicSR compute.
 */
import { createImage, type RgbImage } from "./types";

/**
 * The 8-bit level of a 0..1 value as torch/numpy produce it: clamp(round(v * 255), 0, 255) with the
 * product in float32 and rounding half to even (torch.round, numpy.round).
 */
export function toLevel8(value: number): number {
  const scaled = Math.fround(value * 255);
  if (!(scaled > 0)) return 0; // NaN too
  if (scaled >= 255) return 255;
  let level = (scaled + 0.5) | 0;
  if (level - scaled === 0.5 && (level & 1) === 1) level -= 1; // ties go to even
  return level;
}

/** Rounds every value to its 8-bit level / 255: Real-ESRGAN's final `clamp((out * 255).round(), 0, 255) / 255`. */
export function quantize8(image: RgbImage): RgbImage {
  const out = createImage(image.width, image.height);
  for (let i = 0; i < image.data.length; i++) out.data[i] = toLevel8(image.data[i]) / 255;
  return out;
}

/**
 * MATLAB rgb2ycbcr luma Y = 16 + 65.481 R + 128.553 G + 24.966 B (R, G, B in 0..1), in 0..255, computed as
 * BasicSR's metrics do for the uint8 images tensor2img makes: each channel rounded to 8 bits, converted to
 * float32 / 255, the dot product (B, G, R order) in float64, then Y / 255 and * 255 in float32
 * (metric_util.to_y_channel via matlab_functions.bgr2ycbcr).
 */
export function rgbToY(image: RgbImage): Float32Array {
  const plane = image.width * image.height;
  const r = new Float64Array(256);
  const g = new Float64Array(256);
  const b = new Float64Array(256);
  for (let level = 0; level < 256; level++) {
    const v = Math.fround(level / 255);
    r[level] = 65.481 * v;
    g[level] = 128.553 * v;
    b[level] = 24.966 * v;
  }
  const src = image.data;
  const y = new Float32Array(plane);
  for (let i = 0; i < plane; i++) {
    const dot = b[toLevel8(src[2 * plane + i])] + g[toLevel8(src[plane + i])] + r[toLevel8(src[i])];
    y[i] = Math.fround((dot + 16) / 255) * 255;
  }
  return y;
}
