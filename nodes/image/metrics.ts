/**
 * PSNR and SSIM on the Y channel, as BasicSR metrics/psnr_ssim.py `calculate_psnr` / `calculate_ssim` with
 * test_y_channel=True and crop_border=shave, on images rounded to 8 bits (as tensor2img hands them over).
 */
import { rgbToY } from "./color";
import { gaussianKernel1d } from "./filter";
import type { RgbImage } from "./types";

interface YPair {
  ya: Float32Array;
  yb: Float32Array;
  stride: number; // full image width
  origin: number; // index of the first pixel kept
  width: number; // after shaving
  height: number;
}

/** Y planes of both images and the region left after cropping `shave` pixels from every edge. */
function yPair(a: RgbImage, b: RgbImage, shave: number, what: string): YPair {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`${what}: image sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
  if (!Number.isInteger(shave) || shave < 0) throw new Error(`${what}: shave must be a non-negative integer, got ${shave}`);
  const width = a.width - 2 * shave;
  const height = a.height - 2 * shave;
  if (width < 1 || height < 1) throw new Error(`${what}: shave ${shave} leaves nothing of ${a.width}x${a.height}`);
  return { ya: rgbToY(a), yb: rgbToY(b), stride: a.width, origin: shave * a.width + shave, width, height };
}

/** Peak signal-to-noise ratio in dB over the Y channel (peak 255); Infinity for identical images. */
export function psnrY(a: RgbImage, b: RgbImage, shave: number): number {
  const { ya, yb, stride, origin, width, height } = yPair(a, b, shave, "psnrY");
  let sum = 0;
  for (let y = 0; y < height; y++) {
    const row = origin + y * stride;
    for (let x = 0; x < width; x++) sum += (ya[row + x] - yb[row + x]) ** 2;
  }
  const mse = sum / (width * height);
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

const SSIM_WINDOW = 11;
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

/**
 * Mean SSIM over the Y channel (BasicSR `_ssim`): 11x11 Gaussian window, sigma 1.5, only where the window
 * fits ("valid", BasicSR's [5:-5, 5:-5]). The separable window runs horizontally into an 11-row ring,
 * then vertically, so memory stays at a few rows for 2048x2048 inputs.
 */
export function ssimY(a: RgbImage, b: RgbImage, shave: number): number {
  const { ya, yb, stride, origin, width, height } = yPair(a, b, shave, "ssimY");
  if (width < SSIM_WINDOW || height < SSIM_WINDOW) {
    throw new Error(`ssimY: ${width}x${height} after shaving is smaller than the ${SSIM_WINDOW}x${SSIM_WINDOW} window`);
  }
  const window = gaussianKernel1d(SSIM_WINDOW, 1.5);

  const validWidth = width - SSIM_WINDOW + 1;
  const validHeight = height - SSIM_WINDOW + 1;
  // ring[(quantity * 11 + slot) * validWidth + x] for the quantities a, b, a², b², ab
  const ring = new Float64Array(5 * SSIM_WINDOW * validWidth);
  const plane = SSIM_WINDOW * validWidth; // ring offset between quantities
  const windowRows = new Int32Array(SSIM_WINDOW); // ring offsets of the window's rows, top first
  let ssimSum = 0;
  for (let y = 0; y < height; y++) {
    const slot = y % SSIM_WINDOW;
    const row = origin + y * stride;
    for (let x = 0; x < validWidth; x++) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let k = 0; k < SSIM_WINDOW; k++) {
        const w = window[k];
        const va = ya[row + x + k];
        const vb = yb[row + x + k];
        sa += w * va;
        sb += w * vb;
        saa += w * va * va;
        sbb += w * vb * vb;
        sab += w * va * vb;
      }
      const s = slot * validWidth + x;
      ring[s] = sa;
      ring[plane + s] = sb;
      ring[2 * plane + s] = saa;
      ring[3 * plane + s] = sbb;
      ring[4 * plane + s] = sab;
    }
    if (y < SSIM_WINDOW - 1) continue;
    for (let k = 0; k < SSIM_WINDOW; k++) windowRows[k] = ((y + 1 + k) % SSIM_WINDOW) * validWidth;
    for (let x = 0; x < validWidth; x++) {
      let mu1 = 0;
      let mu2 = 0;
      let e11 = 0;
      let e22 = 0;
      let e12 = 0;
      for (let k = 0; k < SSIM_WINDOW; k++) {
        const w = window[k];
        const s = windowRows[k] + x;
        mu1 += w * ring[s];
        mu2 += w * ring[plane + s];
        e11 += w * ring[2 * plane + s];
        e22 += w * ring[3 * plane + s];
        e12 += w * ring[4 * plane + s];
      }
      const mu11 = mu1 * mu1;
      const mu22 = mu2 * mu2;
      const mu12 = mu1 * mu2;
      const numerator = (2 * mu12 + C1) * (2 * (e12 - mu12) + C2);
      const denominator = (mu11 + mu22 + C1) * (e11 - mu11 + (e22 - mu22) + C2);
      ssimSum += numerator / denominator;
    }
  }
  return ssimSum / (validWidth * validHeight);
}
