/**
 * Real-ESRGAN's second-order degradation (Real-ESRGAN realesrgan/models/realesrgan_model.py
 * RealESRGANModel.feed_data, kernels as realesrgan/data/realesrgan_dataset.py __getitem__), defaults from
 * options/finetune_realesrgan_x4plus.yml, for one image:
 *
 *   USM-sharpen → blur → random resize → noise → JPEG → (blur) → random resize → noise →
 *   either [resize to size/scale + sinc] then JPEG, or JPEG then [resize + sinc] → round to 8 bits.
 *
 * Every random draw comes from the given Rng in the order the Python code draws them (dataset kernels first),
 * so a seed reproduces the same bytes. Differences from the PyTorch original: the resizes use this library's
 * MATLAB-style kernels without antialiasing (F.interpolate does not antialias either; its bicubic is Keys
 * a = -0.75 with replicated edges, area is adaptive average pooling), and JPEG goes through a real codec
 * (the injected callback) with the drawn quality rounded to an integer, where Real-ESRGAN uses DiffJPEG.
 */
import { z } from "zod";
import { quantize8 } from "./color";
import { filter2d, type Kernel2d, usmSharp } from "./filter";
import { BLUR_KERNEL_TYPES, type BlurKernelType, circularLowpassKernel, randomMixedKernel, type Range } from "./kernels";
import { randomAddGaussianNoise, randomAddPoissonNoise } from "./noise";
import { resize } from "./resample";
import type { Rng } from "./rng";
import type { RgbImage } from "./types";

const probability = (defaultValue: number, description: string) =>
  z.number().min(0).max(1).default(defaultValue).describe(description);

const range = (defaultValue: [number, number], min: number, max: number, description: string) =>
  z
    .tuple([z.number().min(min).max(max), z.number().min(min).max(max)])
    .refine(([lo, hi]) => lo <= hi, "the lower bound must not exceed the upper bound")
    .default(defaultValue)
    .describe(description);

const weight = z.number().min(0).max(100);

const resizeProbabilities = (defaultValue: [number, number, number], description: string) =>
  z
    .tuple([weight, weight, weight])
    .refine(([up, down, keep]) => up + down + keep > 0, "at least one weight must be positive")
    .default(defaultValue)
    .describe(description);

const kernelWeights = (description: string) =>
  z
    .object({
      iso: weight.describe("Isotropic Gaussian"),
      aniso: weight.describe("Anisotropic (elliptical, rotated) Gaussian"),
      generalized_iso: weight.describe("Isotropic generalized Gaussian exp(-q^β/2)"),
      generalized_aniso: weight.describe("Anisotropic generalized Gaussian"),
      plateau_iso: weight.describe("Isotropic plateau 1/(1+q^β)"),
      plateau_aniso: weight.describe("Anisotropic plateau"),
    })
    .refine((w) => Object.values(w).some((v) => v > 0), "at least one kernel weight must be positive")
    .default({ iso: 0.45, aniso: 0.25, generalized_iso: 0.12, generalized_aniso: 0.03, plateau_iso: 0.12, plateau_aniso: 0.03 })
    .describe(description);

export const realEsrganDegradeOptions = z.object({
  scale: z.number().int().min(1).max(8).default(4).describe("Downscaling factor: the output is floor(input size / scale)"),
  usmSharpen: z
    .boolean()
    .default(true)
    .describe("Unsharp-mask the input first, as Real-ESRGAN degrades its USM-sharpened ground truth"),
  blurKernelSize: z
    .number()
    .int()
    .min(7)
    .max(41)
    .refine((n) => n % 2 === 1, "must be odd")
    .default(21)
    .describe("Largest blur kernel: each kernel's size is drawn from the odd sizes 7..this"),

  kernelProb: kernelWeights("First blur: relative weights of the kernel shapes (kernel_list / kernel_prob)"),
  sincProb: probability(0.1, "First blur: probability of a sinc (jinc) kernel instead of a shaped one"),
  blurSigma: range([0.2, 3], 0.05, 20, "First blur: kernel sigma range in pixels (x and y)"),
  betagRange: range([0.5, 4], 0.1, 10, "First blur: β range of generalized Gaussians (half the draws below 1)"),
  betapRange: range([1, 2], 0.1, 10, "First blur: β range of plateau kernels (half the draws below 1)"),
  resizeProb: resizeProbabilities([0.2, 0.7, 0.1], "First resize: weights of [up, down, keep]"),
  resizeRange: range([0.15, 1.5], 0.05, 4, "First resize: scale range (down draws from [lo, 1], up from [1, hi])"),
  gaussianNoiseProb: probability(0.5, "First noise: probability of Gaussian noise (otherwise Poisson)"),
  noiseRange: range([1, 30], 0, 255, "First noise: Gaussian sigma range in 0..255 units"),
  poissonScaleRange: range([0.05, 3], 0, 20, "First noise: Poisson noise scale range"),
  grayNoiseProb: probability(0.4, "First noise: probability that the noise is grey (same in R, G, B)"),
  jpegRange: range([30, 95], 1, 100, "First JPEG: quality range"),

  secondBlurProb: probability(0.8, "Second blur: probability that it happens at all"),
  kernelProb2: kernelWeights("Second blur: relative weights of the kernel shapes"),
  sincProb2: probability(0.1, "Second blur: probability of a sinc kernel"),
  blurSigma2: range([0.2, 1.5], 0.05, 20, "Second blur: kernel sigma range in pixels"),
  betagRange2: range([0.5, 4], 0.1, 10, "Second blur: β range of generalized Gaussians"),
  betapRange2: range([1, 2], 0.1, 10, "Second blur: β range of plateau kernels"),
  resizeProb2: resizeProbabilities([0.3, 0.4, 0.3], "Second resize: weights of [up, down, keep]"),
  resizeRange2: range([0.3, 1.2], 0.05, 4, "Second resize: scale range, relative to the output size"),
  gaussianNoiseProb2: probability(0.5, "Second noise: probability of Gaussian noise (otherwise Poisson)"),
  noiseRange2: range([1, 25], 0, 255, "Second noise: Gaussian sigma range in 0..255 units"),
  poissonScaleRange2: range([0.05, 2.5], 0, 20, "Second noise: Poisson noise scale range"),
  grayNoiseProb2: probability(0.4, "Second noise: probability that the noise is grey"),
  jpegRange2: range([30, 95], 1, 100, "Second JPEG: quality range"),

  finalSincProb: probability(0.8, "Probability of the final sinc filter applied with the resize to the output size"),
});

export type RealEsrganDegradeInput = z.input<typeof realEsrganDegradeOptions>;

/** Encodes as 8-bit JPEG at the quality (1..100) and decodes back; codecs live outside nodes/. */
export type JpegRoundTrip = (image: RgbImage, quality: number) => Promise<RgbImage>;

export interface DegradeResult {
  image: RgbImage;
  /** What was drawn, stage by stage, e.g. "1 blur generalized_aniso 21px σ 2.10×0.73 θ 41° β 0.81". */
  trace: string[];
}

type ResizeMode = "area" | "bilinear" | "bicubic";
const RESIZE_MODES: readonly ResizeMode[] = ["area", "bilinear", "bicubic"];

interface BlurSettings {
  kernelProb: Record<BlurKernelType, number>;
  sincProb: number;
  sigma: Range;
  betag: Range;
  betap: Range;
}

interface LabelledKernel {
  kernel: Kernel2d;
  label: string;
}

const degrees = (radians: number) => `${Math.round((radians * 180) / Math.PI)}°`;

/** One blur kernel as realesrgan_dataset.py draws it: size, then sinc or a random_mixed_kernels shape. */
function drawBlurKernel(rng: Rng, settings: BlurSettings, sizes: readonly number[]): LabelledKernel {
  const size = rng.choice(sizes);
  if (rng.bool(settings.sincProb)) {
    // "this sinc filter setting is for kernels ranging from [7, 21]"
    const cutoff = size < 13 ? rng.uniform(Math.PI / 3, Math.PI) : rng.uniform(Math.PI / 5, Math.PI);
    return { kernel: circularLowpassKernel(cutoff, size), label: `sinc ${size}px ωc ${cutoff.toFixed(2)}` };
  }
  const drawn = randomMixedKernel(rng, {
    kernelList: BLUR_KERNEL_TYPES,
    kernelProb: BLUR_KERNEL_TYPES.map((type) => settings.kernelProb[type]),
    kernelSize: size,
    sigmaXRange: settings.sigma,
    sigmaYRange: settings.sigma,
    rotationRange: [-Math.PI, Math.PI],
    betaGaussianRange: settings.betag,
    betaPlateauRange: settings.betap,
  });
  const shape = drawn.type.endsWith("aniso")
    ? `σ ${drawn.sigmaX.toFixed(2)}×${drawn.sigmaY.toFixed(2)} θ ${degrees(drawn.rotation)}`
    : `σ ${drawn.sigmaX.toFixed(2)}`;
  const beta = drawn.beta === undefined ? "" : ` β ${drawn.beta.toFixed(2)}`;
  return { kernel: drawn, label: `${drawn.type} ${size}px ${shape}${beta}` };
}

/** random.choices(['up', 'down', 'keep'], resize_prob) and the matching np.random.uniform scale. */
function drawResizeScale(rng: Rng, weights: readonly number[], [lo, hi]: Range): { direction: string; factor: number } {
  const direction = rng.choice(["up", "down", "keep"], weights);
  const factor = direction === "up" ? rng.uniform(1, hi) : direction === "down" ? rng.uniform(lo, 1) : 1;
  return { direction, factor };
}

function resizeTo(image: RgbImage, width: number, height: number, mode: ResizeMode): RgbImage {
  return resize(image, { width: Math.max(1, width), height: Math.max(1, height), kernel: mode, antialias: false });
}

/** random_add_gaussian_noise_pt or random_add_poisson_noise_pt (clip=True, rounds=False). */
function drawNoise(
  image: RgbImage,
  rng: Rng,
  gaussianProb: number,
  sigmaRange: Range,
  poissonScaleRange: Range,
  grayProb: number,
): { image: RgbImage; label: string } {
  if (rng.bool(gaussianProb)) {
    const noisy = randomAddGaussianNoise(image, rng, { sigmaRange, grayProb });
    return { image: noisy.image, label: `gaussian noise ${noisy.gray ? "grey" : "colour"} σ ${noisy.sigma.toFixed(1)}` };
  }
  const noisy = randomAddPoissonNoise(image, rng, { scaleRange: poissonScaleRange, grayProb });
  return { image: noisy.image, label: `poisson noise ${noisy.gray ? "grey" : "colour"} scale ${noisy.scale.toFixed(2)}` };
}

/** torch.clamp(out, 0, 1) before the JPEG, then the round trip; quality drawn as uniform_(*jpeg_range). */
async function drawJpeg(image: RgbImage, rng: Rng, [lo, hi]: Range, jpeg: JpegRoundTrip): Promise<{ image: RgbImage; label: string }> {
  const quality = Math.round(rng.uniform(lo, hi));
  const clamped = { width: image.width, height: image.height, data: image.data.map((v) => (v < 0 ? 0 : v > 1 ? 1 : v)) };
  const decoded = await jpeg(clamped, quality);
  if (decoded.width !== image.width || decoded.height !== image.height) {
    throw new Error(`jpeg round trip changed the size: ${image.width}x${image.height} -> ${decoded.width}x${decoded.height}`);
  }
  return { image: decoded, label: `jpeg q${quality}` };
}

/**
 * Degrades `image` into a low-resolution training-style input of floor(width / scale) x floor(height / scale)
 * (Real-ESRGAN's ori_h // scale), rounded to 8-bit steps. `options` are parsed with the schema's defaults.
 * The signal is checked between stages.
 */
export async function degradeRealEsrgan(
  image: RgbImage,
  options: RealEsrganDegradeInput,
  rng: Rng,
  jpeg: JpegRoundTrip,
  signal?: AbortSignal,
): Promise<DegradeResult> {
  const o = realEsrganDegradeOptions.parse(options);
  const outWidth = Math.floor(image.width / o.scale);
  const outHeight = Math.floor(image.height / o.scale);
  if (outWidth < 1 || outHeight < 1) {
    throw new Error(`degradeRealEsrgan: ${image.width}x${image.height} is too small for scale ${o.scale}`);
  }
  const trace: string[] = [];
  signal?.throwIfAborted();

  // realesrgan_dataset.py: kernel1, kernel2, then the final sinc, before any image work
  const sizes = Array.from({ length: (o.blurKernelSize - 7) / 2 + 1 }, (_, i) => 7 + 2 * i);
  const kernel1 = drawBlurKernel(
    rng,
    { kernelProb: o.kernelProb, sincProb: o.sincProb, sigma: o.blurSigma, betag: o.betagRange, betap: o.betapRange },
    sizes,
  );
  const kernel2 = drawBlurKernel(
    rng,
    { kernelProb: o.kernelProb2, sincProb: o.sincProb2, sigma: o.blurSigma2, betag: o.betagRange2, betap: o.betapRange2 },
    sizes,
  );
  let finalSinc: LabelledKernel | null = null;
  if (rng.bool(o.finalSincProb)) {
    const size = rng.choice(sizes);
    const cutoff = rng.uniform(Math.PI / 3, Math.PI);
    finalSinc = { kernel: circularLowpassKernel(cutoff, size), label: `sinc ${size}px ωc ${cutoff.toFixed(2)}` };
  }

  let out = image;
  if (o.usmSharpen) {
    out = usmSharp(out);
    trace.push("usm sharpen");
    signal?.throwIfAborted();
  }

  // ----- first degradation -----
  out = filter2d(out, kernel1.kernel);
  trace.push(`1 blur ${kernel1.label}`);
  signal?.throwIfAborted();

  const resize1 = drawResizeScale(rng, o.resizeProb, o.resizeRange);
  const mode1 = rng.choice(RESIZE_MODES);
  out = resizeTo(out, Math.floor(out.width * resize1.factor), Math.floor(out.height * resize1.factor), mode1);
  trace.push(`1 resize ${resize1.direction} ${mode1} ×${resize1.factor.toFixed(2)} → ${out.width}x${out.height}`);
  signal?.throwIfAborted();

  const noise1 = drawNoise(out, rng, o.gaussianNoiseProb, o.noiseRange, o.poissonScaleRange, o.grayNoiseProb);
  out = noise1.image;
  trace.push(`1 ${noise1.label}`);
  signal?.throwIfAborted();

  const jpeg1 = await drawJpeg(out, rng, o.jpegRange, jpeg);
  out = jpeg1.image;
  trace.push(`1 ${jpeg1.label}`);
  signal?.throwIfAborted();

  // ----- second degradation -----
  if (rng.bool(o.secondBlurProb)) {
    out = filter2d(out, kernel2.kernel);
    trace.push(`2 blur ${kernel2.label}`);
  } else {
    trace.push("2 blur skipped");
  }
  signal?.throwIfAborted();

  const resize2 = drawResizeScale(rng, o.resizeProb2, o.resizeRange2);
  const mode2 = rng.choice(RESIZE_MODES);
  // int(ori_h / scale * factor): relative to the final size, not to the current one
  const width2 = Math.floor((image.width / o.scale) * resize2.factor);
  out = resizeTo(out, width2, Math.floor((image.height / o.scale) * resize2.factor), mode2);
  trace.push(`2 resize ${resize2.direction} ${mode2} ×${resize2.factor.toFixed(2)} → ${out.width}x${out.height}`);
  signal?.throwIfAborted();

  const noise2 = drawNoise(out, rng, o.gaussianNoiseProb2, o.noiseRange2, o.poissonScaleRange2, o.grayNoiseProb2);
  out = noise2.image;
  trace.push(`2 ${noise2.label}`);
  signal?.throwIfAborted();

  // The two orders Real-ESRGAN found free of twisted lines: [resize back + sinc] then JPEG, or the reverse.
  const resizeBackFirst = rng.bool(0.5);
  const resizeBack = (current: RgbImage): RgbImage => {
    const mode = rng.choice(RESIZE_MODES);
    let result = resizeTo(current, outWidth, outHeight, mode);
    trace.push(`2 resize back ${mode} → ${outWidth}x${outHeight}`);
    if (finalSinc) {
      result = filter2d(result, finalSinc.kernel);
      trace.push(`2 final ${finalSinc.label}`);
    } else {
      trace.push("2 final sinc skipped");
    }
    return result;
  };
  if (resizeBackFirst) {
    out = resizeBack(out);
    signal?.throwIfAborted();
    const jpeg2 = await drawJpeg(out, rng, o.jpegRange2, jpeg);
    out = jpeg2.image;
    trace.push(`2 ${jpeg2.label}`);
  } else {
    const jpeg2 = await drawJpeg(out, rng, o.jpegRange2, jpeg);
    out = jpeg2.image;
    trace.push(`2 ${jpeg2.label}`);
    signal?.throwIfAborted();
    out = resizeBack(out);
  }
  signal?.throwIfAborted();

  return { image: quantize8(out), trace };
}
