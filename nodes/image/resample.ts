/**
 * Separable resampling with MATLAB `imresize` semantics: output pixel i (1-based) samples the input at
 * u = i / scale + 0.5 * (1 - 1 / scale) (pixel centres aligned), weights come from the kernel evaluated at
 * u - j, widened by 1 / scale when downscaling with antialiasing, normalised per output pixel, with
 * out-of-range taps mirrored symmetrically (edge repeated) and all-zero tap columns dropped
 * (MATLAB `contributions`; BasicSR's port is utils/matlab_functions.py `calculate_weights_indices`).
 */
import { correlateOffsets } from "./filter";
import { createImage, type RgbImage } from "./types";

export type ResizeKernel = "nearest" | "bilinear" | "bicubic" | "lanczos" | "area";

export interface ResizeOptions {
  width: number;
  height: number;
  kernel: ResizeKernel;
  /** Widen the kernel when downscaling (MATLAB's default). Ignored by nearest (never) and area (inherently). */
  antialias?: boolean;
}

interface InterpolationKernel {
  f: (x: number) => number;
  width: number;
}

/** MATLAB imresize's kernels; bicubic is Keys' cubic with a = -0.5, lanczos is lanczos3. */
const KERNELS: Record<Exclude<ResizeKernel, "area">, InterpolationKernel> = {
  nearest: { f: (x) => (x >= -0.5 && x < 0.5 ? 1 : 0), width: 1 },
  bilinear: { f: (x) => Math.max(0, 1 - Math.abs(x)), width: 2 },
  bicubic: {
    f: (x) => {
      const a = Math.abs(x);
      if (a <= 1) return (1.5 * a - 2.5) * a * a + 1;
      if (a <= 2) return ((-0.5 * a + 2.5) * a - 4) * a + 2;
      return 0;
    },
    width: 4,
  },
  lanczos: {
    f: (x) => {
      if (x === 0) return 1;
      if (Math.abs(x) >= 3) return 0;
      const px = Math.PI * x;
      return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
    },
    width: 6,
  },
};

/** Per output pixel, `taps` input indices and weights (row-major: output i uses entries i * taps ..). */
interface Contributions {
  taps: number;
  indices: Int32Array;
  weights: Float64Array;
}

function interpolationContributions(
  inLength: number,
  outLength: number,
  scale: number,
  kernel: InterpolationKernel,
  antialias: boolean,
): Contributions {
  const widen = scale < 1 && antialias;
  const kernelWidth = widen ? kernel.width / scale : kernel.width;
  const taps = Math.ceil(kernelWidth) + 2;
  const indices = new Int32Array(outLength * taps);
  const weights = new Float64Array(outLength * taps);
  for (let i = 0; i < outLength; i++) {
    const u = (i + 1) / scale + 0.5 * (1 - 1 / scale); // 1-based input coordinate
    const left = Math.floor(u - kernelWidth / 2);
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const distance = u - (left + k);
      const w = widen ? scale * kernel.f(scale * distance) : kernel.f(distance);
      weights[i * taps + k] = w;
      sum += w;
      indices[i * taps + k] = mirror(left + k - 1, inLength);
    }
    for (let k = 0; k < taps; k++) weights[i * taps + k] /= sum;
  }
  return dropZeroColumns({ taps, indices, weights }, outLength);
}

/** MATLAB's symmetric extension [1..n, n..1] repeated, on 0-based indices. */
function mirror(index: number, n: number): number {
  const m = ((index % (2 * n)) + 2 * n) % (2 * n);
  return m < n ? m : 2 * n - 1 - m;
}

/** Box averaging: each output pixel covers [i, i + 1) * in / out of the input, weighted by overlap. */
function areaContributions(inLength: number, outLength: number): Contributions {
  const footprint = inLength / outLength;
  const taps = Math.ceil(footprint) + 1;
  const indices = new Int32Array(outLength * taps);
  const weights = new Float64Array(outLength * taps);
  for (let i = 0; i < outLength; i++) {
    const start = i * footprint;
    const end = Math.min((i + 1) * footprint, inLength);
    const first = Math.floor(start);
    for (let k = 0; k < taps; k++) {
      const j = Math.min(first + k, inLength - 1);
      const overlap = Math.min(end, j + 1) - Math.max(start, j);
      indices[i * taps + k] = j;
      weights[i * taps + k] = first + k < inLength && overlap > 0 ? overlap / (end - start) : 0;
    }
  }
  return dropZeroColumns({ taps, indices, weights }, outLength);
}

/** Removes tap columns that are zero for every output pixel (MATLAB: `kill = find(~any(weights, 1))`). */
function dropZeroColumns(c: Contributions, outLength: number): Contributions {
  const keep: number[] = [];
  for (let k = 0; k < c.taps; k++) {
    for (let i = 0; i < outLength; i++) {
      if (c.weights[i * c.taps + k] !== 0) {
        keep.push(k);
        break;
      }
    }
  }
  if (keep.length === c.taps) return c;
  const taps = keep.length;
  const indices = new Int32Array(outLength * taps);
  const weights = new Float64Array(outLength * taps);
  for (let i = 0; i < outLength; i++) {
    keep.forEach((k, n) => {
      indices[i * taps + n] = c.indices[i * c.taps + k];
      weights[i * taps + n] = c.weights[i * c.taps + k];
    });
  }
  return { taps, indices, weights };
}

/** Horizontal pass then vertical pass; a null contribution leaves that axis as it is. */
function resampleSeparable(
  image: RgbImage,
  outWidth: number,
  outHeight: number,
  horizontal: Contributions | null,
  vertical: Contributions | null,
): RgbImage {
  const { width, height } = image;
  const plane = width * height;
  const out = createImage(outWidth, outHeight);
  const rowPlane = horizontal ? new Float32Array(outWidth * height) : null;
  // The vertical pass reads whole rows: precompute each output row's source-row offsets.
  const rowOffsets = vertical ? Int32Array.from(vertical.indices, (index) => index * outWidth) : null;

  for (let channel = 0; channel < 3; channel++) {
    const src = image.data.subarray(channel * plane, (channel + 1) * plane);
    let rows = src;
    if (horizontal && rowPlane) {
      const { taps, indices, weights } = horizontal;
      for (let y = 0; y < height; y++) {
        const srcRow = y * width;
        const dstRow = y * outWidth;
        for (let x = 0; x < outWidth; x++) {
          let sum = 0;
          const base = x * taps;
          for (let k = 0; k < taps; k++) sum += weights[base + k] * src[srcRow + indices[base + k]];
          rowPlane[dstRow + x] = sum;
        }
      }
      rows = rowPlane;
    }
    const dstStart = channel * outWidth * outHeight;
    if (vertical && rowOffsets) {
      const { taps, weights } = vertical;
      for (let y = 0; y < outHeight; y++) {
        const offsets = rowOffsets.subarray(y * taps, (y + 1) * taps);
        const rowWeights = weights.subarray(y * taps, (y + 1) * taps);
        correlateOffsets(rows, offsets, rowWeights, out.data, dstStart + y * outWidth, outWidth, 1, false);
      }
    } else {
      out.data.set(rows, dstStart);
    }
  }
  return out;
}

function contributionsFor(inLength: number, outLength: number, kernel: ResizeKernel, antialias: boolean): Contributions | null {
  if (inLength === outLength) return null; // every kernel is the identity at scale 1
  if (kernel === "area") return areaContributions(inLength, outLength);
  return interpolationContributions(inLength, outLength, outLength / inLength, KERNELS[kernel], antialias && kernel !== "nearest");
}

/** Resizes to exactly width x height (scale per axis = out / in, as MATLAB imresize with an output size). */
export function resize(image: RgbImage, options: ResizeOptions): RgbImage {
  const { width, height, kernel, antialias = true } = options;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`resize: output size must be positive integers, got ${width}x${height}`);
  }
  if (!(kernel in KERNELS) && kernel !== "area") throw new Error(`resize: unknown kernel "${kernel}"`);
  return resampleSeparable(
    image,
    width,
    height,
    contributionsFor(image.width, width, kernel, antialias),
    contributionsFor(image.height, height, kernel, antialias),
  );
}

/**
 * MATLAB `imresize(img, 1 / scale, 'bicubic')`, the classic SR benchmark LR: weights from the exact factor
 * 1 / scale, output floor(width / scale) x floor(height / scale) (MATLAB rounds up; equal for the usual
 * mod-cropped HR).
 */
export function bicubicDownscale(image: RgbImage, scale: number): RgbImage {
  if (!(scale >= 1)) throw new Error(`bicubicDownscale: scale must be >= 1, got ${scale}`);
  const outWidth = Math.floor(image.width / scale);
  const outHeight = Math.floor(image.height / scale);
  if (outWidth < 1 || outHeight < 1) {
    throw new Error(`bicubicDownscale: ${image.width}x${image.height} is too small for scale ${scale}`);
  }
  if (scale === 1) return { width: image.width, height: image.height, data: image.data.slice() };
  const along = (inLength: number, outLength: number) =>
    interpolationContributions(inLength, outLength, 1 / scale, KERNELS.bicubic, true);
  return resampleSeparable(image, outWidth, outHeight, along(image.width, outWidth), along(image.height, outHeight));
}
