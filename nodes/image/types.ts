/**
 * The `image` value that flows between nodes: RGB float32, planar CHW (all R, then all G, then all B),
 * values nominally 0..1 (intermediate results may overshoot; codecs clamp when encoding).
 */
export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array; // length 3 * width * height
}

export function createImage(width: number, height: number): RgbImage {
  return { width, height, data: new Float32Array(3 * width * height) };
}

