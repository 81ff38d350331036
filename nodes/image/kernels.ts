/**
 * Real-ESRGAN blur kernels: a port of basicsr data/degradations.py (bivariate_Gaussian,
 * bivariate_generalized_Gaussian, bivariate_plateau, random_mixed_kernels, circular_lowpass_kernel).
 * Kernels are computed in float64, normalised to sum 1, and stored as float32 as basicsr's FloatTensor.
 * random_mixed_kernels' multiplicative `noise_range` is left out: Real-ESRGAN always passes None.
 */
import type { Kernel2d } from "./filter";
import type { Rng } from "./rng";

export type BlurKernelType = "iso" | "aniso" | "generalized_iso" | "generalized_aniso" | "plateau_iso" | "plateau_aniso";

export const BLUR_KERNEL_TYPES: readonly BlurKernelType[] = [
  "iso",
  "aniso",
  "generalized_iso",
  "generalized_aniso",
  "plateau_iso",
  "plateau_aniso",
];

export type Range = readonly [number, number];

/**
 * A kernel from the quadratic form q = [x y] Σ⁻¹ [x y]ᵀ on the centred grid (x = column, y = row offset),
 * Σ = R(theta) diag(σx², σy²) R(theta)ᵀ (basicsr sigma_matrix2 and mesh_grid), shaped by `profile(q)`.
 */
function bivariateKernel(
  size: number,
  sigmaX: number,
  sigmaY: number,
  theta: number,
  isotropic: boolean,
  profile: (q: number) => number,
): Kernel2d {
  if (size % 2 !== 1) throw new Error(`kernel size must be odd, got ${size}`);
  if (!(sigmaX > 0) || (!isotropic && !(sigmaY > 0))) throw new Error(`kernel sigmas must be > 0, got ${sigmaX}, ${sigmaY}`);
  const sy = isotropic ? sigmaX : sigmaY;
  const angle = isotropic ? 0 : theta;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const invX = 1 / (sigmaX * sigmaX);
  const invY = 1 / (sy * sy);
  // Σ⁻¹ = R diag(1/σx², 1/σy²) Rᵀ
  const a = cos * cos * invX + sin * sin * invY;
  const b = cos * sin * (invX - invY);
  const d = sin * sin * invX + cos * cos * invY;
  const half = size >> 1;
  const values = new Float64Array(size * size);
  let sum = 0;
  for (let r = 0; r < size; r++) {
    const y = r - half;
    for (let c = 0; c < size; c++) {
      const x = c - half;
      const value = profile(a * x * x + 2 * b * x * y + d * y * y);
      values[r * size + c] = value;
      sum += value;
    }
  }
  return { size, weights: Float32Array.from(values, (v) => v / sum) };
}

/** exp(-q / 2): basicsr bivariate_Gaussian (isotropic uses sigmaX only). */
export function bivariateGaussian(size: number, sigmaX: number, sigmaY: number, theta: number, isotropic: boolean): Kernel2d {
  return bivariateKernel(size, sigmaX, sigmaY, theta, isotropic, (q) => Math.exp(-0.5 * q));
}

/** exp(-q^beta / 2): basicsr bivariate_generalized_Gaussian; beta = 1 is the Gaussian. */
export function bivariateGeneralizedGaussian(
  size: number,
  sigmaX: number,
  sigmaY: number,
  theta: number,
  beta: number,
  isotropic: boolean,
): Kernel2d {
  return bivariateKernel(size, sigmaX, sigmaY, theta, isotropic, (q) => Math.exp(-0.5 * q ** beta));
}

/** 1 / (1 + q^beta): basicsr bivariate_plateau. */
export function bivariatePlateau(
  size: number,
  sigmaX: number,
  sigmaY: number,
  theta: number,
  beta: number,
  isotropic: boolean,
): Kernel2d {
  return bivariateKernel(size, sigmaX, sigmaY, theta, isotropic, (q) => 1 / (q ** beta + 1));
}

export interface MixedKernelOptions {
  kernelList: readonly BlurKernelType[];
  kernelProb: readonly number[];
  kernelSize: number;
  sigmaXRange: Range;
  sigmaYRange: Range;
  rotationRange: Range;
  betaGaussianRange: Range;
  betaPlateauRange: Range;
}

/** A drawn kernel with what was drawn (sigmaY = sigmaX and rotation = 0 for isotropic types; beta only for shaped ones). */
export interface DrawnKernel extends Kernel2d {
  type: BlurKernelType;
  sigmaX: number;
  sigmaY: number;
  rotation: number;
  beta?: number;
}

/**
 * basicsr random_mixed_kernels, draws in basicsr's order: the type (random.choices), sigma_x, then for
 * anisotropic types sigma_y and rotation, then for shaped types beta, below or above 1 with even odds.
 */
export function randomMixedKernel(rng: Rng, options: MixedKernelOptions): DrawnKernel {
  const { kernelSize: size } = options;
  const type = rng.choice(options.kernelList, options.kernelProb);
  const isotropic = !type.endsWith("aniso");
  const sigmaX = rng.uniform(options.sigmaXRange[0], options.sigmaXRange[1]);
  let sigmaY = sigmaX;
  let rotation = 0;
  if (!isotropic) {
    sigmaY = rng.uniform(options.sigmaYRange[0], options.sigmaYRange[1]);
    rotation = rng.uniform(options.rotationRange[0], options.rotationRange[1]);
  }
  // "assume beta_range[0] < 1 < beta_range[1]" in basicsr; numpy-style uniform tolerates either order.
  const drawBeta = ([lo, hi]: Range) => (rng.random() < 0.5 ? rng.uniform(lo, 1) : rng.uniform(1, hi));
  if (type === "iso" || type === "aniso") {
    return { ...bivariateGaussian(size, sigmaX, sigmaY, rotation, isotropic), type, sigmaX, sigmaY, rotation };
  }
  if (type === "generalized_iso" || type === "generalized_aniso") {
    const beta = drawBeta(options.betaGaussianRange);
    return { ...bivariateGeneralizedGaussian(size, sigmaX, sigmaY, rotation, beta, isotropic), type, sigmaX, sigmaY, rotation, beta };
  }
  const beta = drawBeta(options.betaPlateauRange);
  return { ...bivariatePlateau(size, sigmaX, sigmaY, rotation, beta, isotropic), type, sigmaX, sigmaY, rotation, beta };
}

/**
 * Bessel function of the first kind, order 1, from its integral J1(x) = (1/π) ∫₀^π cos(τ − x sin τ) dτ by the
 * trapezoidal rule, which converges geometrically for this periodic integrand once the point count exceeds |x|
 * by a margin (error < 1e-13 against scipy.special.j1 on [0, 2000]). Work grows linearly with |x|.
 */
export function besselJ1(x: number): number {
  const ax = Math.abs(x);
  const points = 2 * Math.ceil((ax + 10 * Math.cbrt(ax) + 40) / 2); // even
  // Over [0, 2π) the τ = 0 and τ = π samples are +1 and -1 and cancel; the rest pair up by symmetry.
  let sum = 0;
  for (let k = 1; k < points / 2; k++) {
    const tau = (2 * Math.PI * k) / points;
    sum += Math.cos(tau - x * Math.sin(tau));
  }
  return (2 * sum) / points;
}

/**
 * 2-D circularly symmetric low-pass (jinc) kernel, basicsr circular_lowpass_kernel: cutoff·J1(cutoff·r)/(2πr),
 * cutoff²/(4π) at the centre, normalised. `cutoff` is in radians per pixel (π is Nyquist). The `pad_to`
 * argument is left out: zero padding changes nothing in filter2d.
 */
export function circularLowpassKernel(cutoff: number, size: number): Kernel2d {
  if (size % 2 !== 1) throw new Error(`kernel size must be odd, got ${size}`);
  const half = (size - 1) / 2;
  const values = new Float64Array(size * size);
  let sum = 0;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const radius = Math.hypot(r - half, c - half);
      const value = radius === 0 ? (cutoff * cutoff) / (4 * Math.PI) : (cutoff * besselJ1(cutoff * radius)) / (2 * Math.PI * radius);
      values[r * size + c] = value;
      sum += value;
    }
  }
  return { size, weights: Float32Array.from(values, (v) => v / sum) };
}
