/**
 * 2-D filtering with mirror padding, as basicsr's `filter2D` (utils/img_process_util.py): F.pad(mode="reflect"),
 * which is cv2's BORDER_REFLECT_101 (edge pixel not repeated), then a cross-correlation (no kernel flip).
 */
import { createImage, type RgbImage } from "./types";

/** A square kernel, `size` odd, row-major `size * size` weights; weights[r * size + c] pairs with pixel (y + r - h, x + c - h). */
export interface Kernel2d {
  size: number;
  weights: Float32Array;
}

/** Index into [0, n) reflected without repeating the edge (BORDER_REFLECT_101), for any offset. */
export function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

/**
 * Filters every channel with `kernel`. When a low-rank split (truncated SVD, at most 1e-6 off for values in
 * 0..1) is cheaper than the kernel's non-zero box, it runs as a sum of separable passes instead:
 * Gaussians are rank 1, generalized Gaussians often 2..5.
 */
export function filter2d(image: RgbImage, kernel: Kernel2d): RgbImage {
  const { size, weights } = kernel;
  if (size % 2 !== 1 || weights.length !== size * size) {
    throw new Error(`filter2d: kernel must be odd-sized with size*size weights, got size ${size} and ${weights.length} weights`);
  }
  // Bounding box of the non-zero weights: Real-ESRGAN pads 7..19-pixel kernels to 21 with zeros.
  let top = size;
  let bottom = -1;
  let left = size;
  let right = -1;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      if (weights[r * size + c] === 0) continue;
      top = Math.min(top, r);
      bottom = Math.max(bottom, r);
      left = Math.min(left, c);
      right = Math.max(right, c);
    }
  }
  if (bottom < 0) return createImage(image.width, image.height); // all-zero kernel
  const rows = bottom - top + 1;
  const cols = right - left + 1;
  // A separable term costs a horizontal pass plus a vertical pass (about twice as slow per tap).
  const terms = lowRankTerms(kernel);
  if (terms.length * 3 * Math.max(rows, cols) < rows * cols) return filterLowRank(image, terms);

  const half = size >> 1;
  const { width, height } = image;
  const paddedWidth = width + 2 * half;
  const rowStarts = Int32Array.from({ length: rows }, (_, r) => (top + r) * paddedWidth + left);
  const taps = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) taps[r * cols + c] = weights[(top + r) * size + left + c];
  }
  const out = createImage(width, height);
  const plane = width * height;
  const padded = new Float32Array(paddedWidth * (height + 2 * half));
  for (let channel = 0; channel < 3; channel++) {
    padPlane(image.data.subarray(channel * plane, (channel + 1) * plane), width, height, half, half, padded);
    correlateSliding(padded, paddedWidth, rowStarts, taps, cols, out.data, channel * plane, width, height);
  }
  return out;
}

/** Filters with the separable kernel vertical ⊗ horizontal (odd lengths, centred): 2n instead of n² multiplies. */
export function filterSeparable(image: RgbImage, horizontal: ArrayLike<number>, vertical: ArrayLike<number>): RgbImage {
  if (horizontal.length % 2 !== 1 || vertical.length % 2 !== 1) {
    throw new Error(`filterSeparable: kernels must have odd lengths, got ${horizontal.length} and ${vertical.length}`);
  }
  return filterLowRank(image, [{ horizontal: Float64Array.from(horizontal), vertical: Float64Array.from(vertical) }]);
}

interface SeparableTerm {
  horizontal: Float64Array; // odd length, centred
  vertical: Float64Array;
}

/** Sum over terms of (horizontal pass, then vertical pass), reflect-101 borders on both. */
function filterLowRank(image: RgbImage, terms: SeparableTerm[]): RgbImage {
  const { width, height } = image;
  const halfX = Math.max(...terms.map((t) => t.horizontal.length >> 1));
  const halfY = Math.max(...terms.map((t) => t.vertical.length >> 1));
  const paddedWidth = width + 2 * halfX;
  const rowsPadded = new Float32Array(paddedWidth * height);
  const columnsPadded = new Float32Array(width * (height + 2 * halfY));
  const plan = terms.map(({ horizontal, vertical }) => {
    const h = nonZeroSpan(horizontal);
    const v = nonZeroSpan(vertical);
    return {
      hStart: Int32Array.of(h.first + halfX),
      hWeights: h.weights,
      vOffsets: Int32Array.from(v.weights, (_, k) => (k + v.first + halfY) * width),
      vWeights: v.weights,
    };
  });
  const out = createImage(width, height);
  const plane = width * height;
  for (let channel = 0; channel < 3; channel++) {
    padPlane(image.data.subarray(channel * plane, (channel + 1) * plane), width, height, halfX, 0, rowsPadded);
    plan.forEach((term, index) => {
      const { hStart, hWeights } = term;
      correlateSliding(rowsPadded, paddedWidth, hStart, hWeights, hWeights.length, columnsPadded, halfY * width, width, height);
      for (let y = 0; y < halfY; y++) {
        const top = reflect101(y - halfY, height) + halfY;
        columnsPadded.copyWithin(y * width, top * width, (top + 1) * width);
        const bottom = reflect101(height + y, height) + halfY;
        columnsPadded.copyWithin((height + halfY + y) * width, bottom * width, (bottom + 1) * width);
      }
      correlateOffsets(columnsPadded, term.vOffsets, term.vWeights, out.data, channel * plane, width, height, index > 0);
    });
  }
  return out;
}

/** The non-zero stretch of a centred odd-length kernel; `first` is its offset from the centre. */
function nonZeroSpan(kernel: Float64Array): { first: number; weights: Float64Array } {
  let start = 0;
  let end = kernel.length;
  while (start < end - 1 && kernel[start] === 0) start++;
  while (end - 1 > start && kernel[end - 1] === 0) end--;
  return { first: start - (kernel.length >> 1), weights: kernel.slice(start, end) };
}

/** Copies a plane into `out` ((width + 2 padX) x (height + 2 padY)) with reflect-101 borders. */
function padPlane(src: Float32Array, width: number, height: number, padX: number, padY: number, out: Float32Array): void {
  const paddedWidth = width + 2 * padX;
  const columnSource = new Int32Array(paddedWidth);
  for (let x = 0; x < paddedWidth; x++) columnSource[x] = reflect101(x - padX, width);
  for (let y = 0; y < height + 2 * padY; y++) {
    const srcRow = reflect101(y - padY, height) * width;
    const outRow = y * paddedWidth;
    for (let x = 0; x < paddedWidth; x++) out[outRow + x] = src[srcRow + columnSource[x]];
  }
}

/**
 * dst[dstStart + y * width + x] = sum over r, c of weights[r * cols + c] * src[y * srcStride + rowStarts[r] + x + c],
 * for x < width, y < height. Eight outputs per step share each loaded pixel through a sliding window of
 * locals and keep eight independent sums in flight: several times faster than one sum per pixel.
 */
function correlateSliding(
  src: Float32Array,
  srcStride: number,
  rowStarts: Int32Array,
  weights: Float64Array,
  cols: number,
  dst: Float32Array,
  dstStart: number,
  width: number,
  height: number,
): void {
  const rows = rowStarts.length;
  for (let y = 0; y < height; y++) {
    const srcRow = y * srcStride;
    const dstRow = dstStart + y * width;
    let x = 0;
    for (; x + 7 < width; x += 8) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      for (let r = 0; r < rows; r++) {
        const base = srcRow + rowStarts[r] + x;
        const kernelRow = r * cols;
        let p0 = src[base], p1 = src[base + 1], p2 = src[base + 2], p3 = src[base + 3];
        let p4 = src[base + 4], p5 = src[base + 5], p6 = src[base + 6];
        for (let c = 0; c < cols; c++) {
          const w = weights[kernelRow + c];
          const p7 = src[base + c + 7];
          s0 += w * p0;
          s1 += w * p1;
          s2 += w * p2;
          s3 += w * p3;
          s4 += w * p4;
          s5 += w * p5;
          s6 += w * p6;
          s7 += w * p7;
          p0 = p1;
          p1 = p2;
          p2 = p3;
          p3 = p4;
          p4 = p5;
          p5 = p6;
          p6 = p7;
        }
      }
      dst[dstRow + x] = s0;
      dst[dstRow + x + 1] = s1;
      dst[dstRow + x + 2] = s2;
      dst[dstRow + x + 3] = s3;
      dst[dstRow + x + 4] = s4;
      dst[dstRow + x + 5] = s5;
      dst[dstRow + x + 6] = s6;
      dst[dstRow + x + 7] = s7;
    }
    for (; x < width; x++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) {
        const base = srcRow + rowStarts[r] + x;
        for (let c = 0; c < cols; c++) sum += weights[r * cols + c] * src[base + c];
      }
      dst[dstRow + x] = sum;
    }
  }
}

/**
 * dst[dstStart + y * width + x] (+)= sum_t weights[t] * src[y * width + x + offsets[t]], for x < width, y < height:
 * a vertical pass (offsets are whole rows), eight independent sums per step. Also resample.ts's vertical pass.
 */
export function correlateOffsets(
  src: Float32Array,
  offsets: Int32Array,
  weights: Float64Array,
  dst: Float32Array,
  dstStart: number,
  width: number,
  height: number,
  accumulate: boolean,
): void {
  const taps = weights.length;
  for (let y = 0; y < height; y++) {
    const srcRow = y * width;
    const dstRow = dstStart + y * width;
    let x = 0;
    for (; x + 7 < width; x += 8) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      for (let t = 0; t < taps; t++) {
        const w = weights[t];
        const i = srcRow + x + offsets[t];
        s0 += w * src[i];
        s1 += w * src[i + 1];
        s2 += w * src[i + 2];
        s3 += w * src[i + 3];
        s4 += w * src[i + 4];
        s5 += w * src[i + 5];
        s6 += w * src[i + 6];
        s7 += w * src[i + 7];
      }
      const o = dstRow + x;
      if (accumulate) {
        dst[o] += s0;
        dst[o + 1] += s1;
        dst[o + 2] += s2;
        dst[o + 3] += s3;
        dst[o + 4] += s4;
        dst[o + 5] += s5;
        dst[o + 6] += s6;
        dst[o + 7] += s7;
      } else {
        dst[o] = s0;
        dst[o + 1] = s1;
        dst[o + 2] = s2;
        dst[o + 3] = s3;
        dst[o + 4] = s4;
        dst[o + 5] = s5;
        dst[o + 6] = s6;
        dst[o + 7] = s7;
      }
    }
    for (; x < width; x++) {
      let sum = 0;
      for (let t = 0; t < taps; t++) sum += weights[t] * src[srcRow + x + offsets[t]];
      dst[dstRow + x] = accumulate ? dst[dstRow + x] + sum : sum;
    }
  }
}

/**
 * The kernel as a sum of rank-1 terms vertical ⊗ horizontal from a one-sided Jacobi SVD, truncated where the
 * dropped part changes no output by more than 1e-6 of the kernel's absolute sum (size * ||tail||_F bounds it).
 */
function lowRankTerms(kernel: Kernel2d): SeparableTerm[] {
  const n = kernel.size;
  const a = Float64Array.from(kernel.weights); // columns of A·V, row-major n x n
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 40; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < n; i++) {
          const ap = a[i * n + p];
          const aq = a[i * n + q];
          alpha += ap * ap;
          beta += aq * aq;
          gamma += ap * aq;
        }
        if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotateColumns(a, n, p, q, c, s);
        rotateColumns(v, n, p, q, c, s);
      }
    }
    if (!rotated) break;
  }
  const norms = Array.from({ length: n }, (_, j) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += a[i * n + j] ** 2;
    return { j, sq: sum };
  }).sort((x, y) => y.sq - x.sq);
  let absSum = 0;
  for (const w of kernel.weights) absSum += Math.abs(w);
  const tolerance = ((1e-6 * absSum) / n) ** 2;
  let tail = norms.reduce((acc, { sq }) => acc + sq, 0);
  const terms: SeparableTerm[] = [];
  for (const { j, sq } of norms) {
    if (tail <= tolerance) break;
    tail -= sq;
    const vertical = new Float64Array(n);
    const horizontal = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      vertical[i] = a[i * n + j];
      horizontal[i] = v[i * n + j];
    }
    terms.push({ horizontal, vertical });
  }
  return terms;
}

function rotateColumns(m: Float64Array, n: number, p: number, q: number, c: number, s: number): void {
  for (let i = 0; i < n; i++) {
    const mp = m[i * n + p];
    const mq = m[i * n + q];
    m[i * n + p] = c * mp - s * mq;
    m[i * n + q] = s * mp + c * mq;
  }
}

/** Normalised 1-D Gaussian of odd `size`, float64 like cv2.getGaussianKernel (for sigma > 0). */
export function gaussianKernel1d(size: number, sigma: number): Float64Array {
  if (size % 2 !== 1 || !(sigma > 0)) throw new Error(`gaussianKernel1d: need odd size and sigma > 0, got ${size}, ${sigma}`);
  const half = size >> 1;
  const values = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    values[i] = Math.exp(-((i - half) ** 2) / (2 * sigma * sigma));
    sum += values[i];
  }
  return values.map((value) => value / sum);
}

/**
 * Unsharp masking as basicsr's USMSharp (utils/img_process_util.py), which Real-ESRGAN applies to the
 * ground truth before degrading it: 51x51 Gaussian (cv2's sigma for ksize 51 is 8), weight 0.5,
 * threshold 10/255, the threshold mask softened by the same Gaussian.
 */
export function usmSharp(image: RgbImage, weight = 0.5, threshold = 10): RgbImage {
  const gaussian = gaussianKernel1d(51, 8);
  const blur = filterSeparable(image, gaussian, gaussian);
  const n = image.data.length;
  const mask = createImage(image.width, image.height);
  for (let i = 0; i < n; i++) mask.data[i] = Math.abs(image.data[i] - blur.data[i]) * 255 > threshold ? 1 : 0;
  const softMask = filterSeparable(mask, gaussian, gaussian).data;
  const src = image.data;
  const out = blur.data; // overwritten in place: each blur value is read just before its slot is written
  for (let i = 0; i < n; i++) {
    const value = src[i];
    const sharpened = value + weight * (value - out[i]);
    const clipped = sharpened < 0 ? 0 : sharpened > 1 ? 1 : sharpened;
    out[i] = softMask[i] * clipped + (1 - softMask[i]) * value;
  }
  return blur;
}
