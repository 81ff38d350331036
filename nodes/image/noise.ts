/**
 * Gaussian and Poisson noise as basicsr data/degradations.py `random_add_gaussian_noise_pt` and
 * `random_add_poisson_noise_pt` (one image of the batch): parameters drawn first (the sigma or scale, then
 * whether the noise is grey), result clipped to 0..1 and, with `rounds`, snapped to 8-bit steps.
 * Real-ESRGAN calls both with clip=True, rounds=False.
 */
import { toLevel8 } from "./color";
import type { Rng } from "./rng";
import { createImage, type RgbImage } from "./types";

export interface NoiseOptions {
  /** Probability that one noise field is shared by the three channels (basicsr gray_prob). */
  grayProb: number;
  /** Snap the result to 8-bit steps (basicsr rounds; default false, as Real-ESRGAN). */
  rounds?: boolean;
}

/** A noisy value clipped to 0..1, or snapped to its 8-bit step (which clips too). */
function finish(value: number, rounds: boolean): number {
  if (rounds) return toLevel8(value) / 255;
  return value < 0 ? 0 : value > 1 ? 1 : value;
}

/**
 * Adds Gaussian noise of standard deviation sigma / 255 (sigma in 0..255 units) to every value, or one draw
 * per pixel shared by R, G and B when `gray` (basicsr generate_gaussian_noise_pt).
 */
export function addGaussianNoise(image: RgbImage, rng: Rng, sigma: number, gray: boolean, rounds = false): RgbImage {
  const out = createImage(image.width, image.height);
  const plane = image.width * image.height;
  const src = image.data;
  const dst = out.data;
  const std = sigma / 255;
  if (gray) {
    for (let i = 0; i < plane; i++) {
      const n = std * rng.normal();
      dst[i] = finish(src[i] + n, rounds);
      dst[plane + i] = finish(src[plane + i] + n, rounds);
      dst[2 * plane + i] = finish(src[2 * plane + i] + n, rounds);
    }
  } else {
    for (let i = 0; i < src.length; i++) dst[i] = finish(src[i] + std * rng.normal(), rounds);
  }
  return out;
}

export function randomAddGaussianNoise(
  image: RgbImage,
  rng: Rng,
  options: NoiseOptions & { sigmaRange: readonly [number, number] },
): { image: RgbImage; sigma: number; gray: boolean } {
  const sigma = rng.uniform(options.sigmaRange[0], options.sigmaRange[1]);
  const gray = rng.bool(options.grayProb);
  return { image: addGaussianNoise(image, rng, sigma, gray, options.rounds), sigma, gray };
}

/**
 * Shot noise as basicsr generate_poisson_noise_pt: the image (or its grey version, torchvision weights
 * 0.2989/0.587/0.114, when `gray`) is rounded to 8-bit levels; with `vals` = the count of distinct levels
 * rounded up to a power of two, the noise is Poisson(level / 255 · vals) / vals − level / 255, times `scale`,
 * added to the unrounded image.
 */
export function addPoissonNoise(image: RgbImage, rng: Rng, scale: number, gray: boolean, rounds = false): RgbImage {
  const plane = image.width * image.height;
  const src = image.data;
  const levels = new Uint8Array(gray ? plane : src.length);
  if (gray) {
    for (let i = 0; i < plane; i++) {
      levels[i] = toLevel8(Math.fround(0.2989 * src[i] + 0.587 * src[plane + i] + 0.114 * src[2 * plane + i]));
    }
  } else {
    for (let i = 0; i < src.length; i++) levels[i] = toLevel8(src[i]);
  }
  const seen = new Uint8Array(256);
  let distinct = 0;
  for (let i = 0; i < levels.length; i++) {
    if (seen[levels[i]] === 0) {
      seen[levels[i]] = 1;
      distinct++;
    }
  }
  const vals = 2 ** Math.ceil(Math.log2(distinct));
  const samplers: PoissonSampler[] = [];
  for (let level = 0; level < 256; level++) if (seen[level]) samplers[level] = new PoissonSampler((level / 255) * vals);

  const out = createImage(image.width, image.height);
  const dst = out.data;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    const noise = scale * (samplers[level].sample(rng) / vals - level / 255);
    if (gray) {
      dst[i] = finish(src[i] + noise, rounds);
      dst[plane + i] = finish(src[plane + i] + noise, rounds);
      dst[2 * plane + i] = finish(src[2 * plane + i] + noise, rounds);
    } else {
      dst[i] = finish(src[i] + noise, rounds);
    }
  }
  return out;
}

/**
 * Poisson(lambda) by inverting its cumulative distribution with a guide table (Chen & Asau): one uniform and
 * one or two comparisons per draw, against about 100 ns for rng.poisson's rejection sampling. An image needs
 * at most 256 distinct lambdas, so the tables pay off from a few thousand pixels. The tail beyond the table
 * (probability below 1e-15) falls back to rng.poisson.
 */
class PoissonSampler {
  private readonly cdf: Float64Array; // cdf[k] = P(X <= k)
  private readonly guide: Int32Array; // guide[g] = first k with cdf[k] > g / guide.length

  constructor(private readonly lambda: number) {
    const length = Math.ceil(lambda + 12 * Math.sqrt(lambda) + 40);
    this.cdf = new Float64Array(length);
    let p = Math.exp(-lambda);
    let sum = 0;
    for (let k = 0; k < length; k++) {
      sum += p;
      this.cdf[k] = sum;
      p *= lambda / (k + 1);
    }
    this.guide = new Int32Array(length);
    let k = 0;
    for (let g = 0; g < length; g++) {
      while (k < length - 1 && this.cdf[k] <= g / length) k++;
      this.guide[g] = k;
    }
  }

  sample(rng: Rng): number {
    const u = rng.random();
    const cdf = this.cdf;
    const last = cdf.length - 1;
    if (u >= cdf[last]) return rng.poisson(this.lambda);
    let k = this.guide[Math.floor(u * cdf.length)];
    while (cdf[k] <= u) k++;
    return k;
  }
}

export function randomAddPoissonNoise(
  image: RgbImage,
  rng: Rng,
  options: NoiseOptions & { scaleRange: readonly [number, number] },
): { image: RgbImage; scale: number; gray: boolean } {
  const scale = rng.uniform(options.scaleRange[0], options.scaleRange[1]);
  const gray = rng.bool(options.grayProb);
  return { image: addPoissonNoise(image, rng, scale, gray, options.rounds), scale, gray };
}
