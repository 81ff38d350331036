import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BLUR_KERNEL_TYPES,
  besselJ1,
  bivariateGaussian,
  bivariateGeneralizedGaussian,
  bivariatePlateau,
  circularLowpassKernel,
  randomMixedKernel,
  type MixedKernelOptions,
} from "./kernels";
import type { Kernel2d } from "./filter";
import { createRng } from "./rng";

const at = (k: Kernel2d, x: number, y: number) => k.weights[(y + (k.size >> 1)) * k.size + x + (k.size >> 1)];
const sum = (k: Kernel2d) => k.weights.reduce((a, b) => a + b, 0);

test("besselJ1 matches tabulated values, zeros, symmetry and the small-x series", () => {
  // scipy.special.j1 (agrees with Abramowitz & Stegun table 9.1)
  const table: [number, number][] = [
    [0, 0],
    [0.5, 0.24226845767487387],
    [1, 0.44005058574493355],
    [1.8411837813406593, 0.5818652242815963], // first maximum
    [2.5, 0.497094102464274],
    [10, 0.04347274616886141],
    [25, -0.1253502495802898],
    [44.4, -0.042102301257572874],
  ];
  for (const [x, expected] of table) assert.ok(Math.abs(besselJ1(x) - expected) < 1e-13, `J1(${x}) = ${besselJ1(x)}`);
  for (const zero of [3.8317059702075125, 7.015586669815619, 10.173468135062722]) assert.ok(Math.abs(besselJ1(zero)) < 1e-13);
  for (const x of [0.3, 2, 17.5]) assert.ok(Math.abs(besselJ1(-x) + besselJ1(x)) < 1e-15);
  const x = 1e-3;
  assert.ok(Math.abs(besselJ1(x) - (x / 2 - x ** 3 / 16)) < 1e-16);
});

test("an isotropic Gaussian is normalised and separable; sigmaY and theta are ignored", () => {
  const k = bivariateGaussian(21, 1.8, 99, 1.2, true);
  assert.ok(Math.abs(sum(k) - 1) < 1e-6);
  const g = (t: number) => Math.exp(-(t * t) / (2 * 1.8 * 1.8));
  let norm = 0;
  for (let t = -10; t <= 10; t++) norm += g(t);
  for (let y = -10; y <= 10; y++) {
    for (let x = -10; x <= 10; x++) assert.ok(Math.abs(at(k, x, y) - (g(x) * g(y)) / norm ** 2) < 1e-8);
  }
});

test("an anisotropic Gaussian has covariance R diag(σx², σy²) Rᵀ; a quarter turn swaps the axes", () => {
  const theta = 0.5;
  const k = bivariateGaussian(21, 2, 1, theta, false);
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let y = -10; y <= 10; y++) {
    for (let x = -10; x <= 10; x++) {
      sxx += at(k, x, y) * x * x;
      syy += at(k, x, y) * y * y;
      sxy += at(k, x, y) * x * y;
    }
  }
  const [c, s] = [Math.cos(theta), Math.sin(theta)];
  assert.ok(Math.abs(sxx - (4 * c * c + s * s)) < 1e-4, `var x ${sxx}`);
  assert.ok(Math.abs(syy - (4 * s * s + c * c)) < 1e-4, `var y ${syy}`);
  assert.ok(Math.abs(sxy - 3 * c * s) < 1e-4, `cov ${sxy}`);
  const turned = bivariateGaussian(21, 1, 2, theta, false);
  const swapped = bivariateGaussian(21, 2, 1, theta + Math.PI / 2, false);
  for (let i = 0; i < 441; i++) assert.ok(Math.abs(turned.weights[i] - swapped.weights[i]) < 1e-7);
});

test("generalized Gaussian with beta 1 is the Gaussian; plateau kernels have heavier tails", () => {
  const gaussian = bivariateGaussian(15, 1.5, 0.8, 0.3, false);
  const generalized = bivariateGeneralizedGaussian(15, 1.5, 0.8, 0.3, 1, false);
  for (let i = 0; i < gaussian.weights.length; i++) assert.ok(Math.abs(gaussian.weights[i] - generalized.weights[i]) < 1e-8);
  // beta < 1 fattens the tails, beta > 1 flattens the top and cuts the tails
  const iso = bivariateGaussian(15, 1.5, 0, 0, true);
  const heavy = bivariateGeneralizedGaussian(15, 1.5, 0, 0, 0.5, true);
  const flatTop = bivariateGeneralizedGaussian(15, 1.5, 0, 0, 4, true);
  const tail = (k: Kernel2d) => at(k, 4, 0) / at(k, 0, 0);
  assert.ok(tail(heavy) > 5 * tail(iso) && tail(iso) > 1e6 * tail(flatTop));
  assert.ok(at(flatTop, 1, 0) / at(flatTop, 0, 0) > 0.95);
  const plateau = bivariatePlateau(15, 1.5, 0, 0, 1, true);
  assert.ok(at(plateau, 7, 0) / at(plateau, 0, 0) > 1000 * (at(iso, 7, 0) / at(iso, 0, 0)));
  assert.ok(Math.abs(sum(plateau) - 1) < 1e-6);
  assert.throws(() => bivariatePlateau(14, 1, 1, 0, 1, true), /odd/);
});

const REAL_ESRGAN_FIRST: MixedKernelOptions = {
  kernelList: BLUR_KERNEL_TYPES,
  kernelProb: [0.45, 0.25, 0.12, 0.03, 0.12, 0.03],
  kernelSize: 21,
  sigmaXRange: [0.2, 3],
  sigmaYRange: [0.2, 3],
  rotationRange: [-Math.PI, Math.PI],
  betaGaussianRange: [0.5, 4],
  betaPlateauRange: [1, 2],
};

test("randomMixedKernel draws types by weight and parameters within their ranges, reproducibly", () => {
  const rng = createRng(2024);
  const counts = new Map<string, number>();
  const n = 3000;
  let plateauBetaOne = 0;
  let plateaus = 0;
  for (let i = 0; i < n; i++) {
    const k = randomMixedKernel(rng, REAL_ESRGAN_FIRST);
    counts.set(k.type, (counts.get(k.type) ?? 0) + 1);
    assert.ok(k.sigmaX >= 0.2 && k.sigmaX < 3 && k.sigmaY >= 0.2 && k.sigmaY < 3);
    assert.equal(k.size, 21);
    if (k.type.endsWith("aniso")) assert.ok(k.rotation >= -Math.PI && k.rotation < Math.PI);
    else assert.ok(k.sigmaY === k.sigmaX && k.rotation === 0);
    if (k.type.startsWith("generalized")) assert.ok(k.beta! >= 0.5 && k.beta! < 4);
    if (k.type.startsWith("plateau")) {
      plateaus++;
      if (k.beta === 1) plateauBetaOne++; // basicsr draws uniform(betap[0] = 1, 1) half of the time
    } else if (!k.type.startsWith("generalized")) assert.equal(k.beta, undefined);
  }
  REAL_ESRGAN_FIRST.kernelList.forEach((type, i) => {
    const share = (counts.get(type) ?? 0) / n;
    assert.ok(Math.abs(share - REAL_ESRGAN_FIRST.kernelProb[i]) < 0.03, `${type}: ${share}`);
  });
  assert.ok(Math.abs(plateauBetaOne / plateaus - 0.5) < 0.1);
  const again = randomMixedKernel(createRng(7), REAL_ESRGAN_FIRST);
  assert.deepEqual(randomMixedKernel(createRng(7), REAL_ESRGAN_FIRST), again);
});

test("circularLowpassKernel is a symmetric low-pass filter with the requested cutoff", () => {
  for (const cutoff of [Math.PI / 4, Math.PI / 3, Math.PI / 2]) {
    const k = circularLowpassKernel(cutoff, 21);
    assert.ok(Math.abs(sum(k) - 1) < 1e-6);
    for (let y = -10; y <= 10; y++) {
      for (let x = -10; x <= 10; x++) {
        const v = at(k, x, y);
        for (const w of [at(k, -x, y), at(k, x, -y), at(k, y, x)]) assert.ok(Math.abs(v - w) < 1e-9);
        assert.ok(v <= at(k, 0, 0));
      }
    }
    // frequency response along x: about 1 in the passband, 1/2 at the cutoff, about 0 in the stopband
    const response = (omega: number) => {
      let h = 0;
      for (let y = -10; y <= 10; y++) for (let x = -10; x <= 10; x++) h += at(k, x, y) * Math.cos(omega * x);
      return h;
    };
    const meanAbs = (from: number, to: number) => {
      let total = 0;
      for (let i = 0; i <= 20; i++) total += Math.abs(response(from + ((to - from) * i) / 20));
      return total / 21;
    };
    assert.ok(Math.abs(meanAbs(0, 0.8 * cutoff) - 1) < 0.12, `passband ${meanAbs(0, 0.8 * cutoff)}`);
    assert.ok(Math.abs(response(cutoff) - 0.5) < 0.06, `at cutoff ${response(cutoff)}`);
    assert.ok(meanAbs(1.5 * cutoff, Math.PI) < 0.05, `stopband ${meanAbs(1.5 * cutoff, Math.PI)}`);
    // the centre value is the limit of cutoff·J1(cutoff·r)/(2πr) as r -> 0
    const raw = (r: number) => (cutoff * besselJ1(cutoff * r)) / (2 * Math.PI * r);
    const centre = (cutoff * cutoff) / (4 * Math.PI);
    assert.ok(Math.abs(raw(1e-4) - centre) < 1e-9);
    assert.ok(Math.abs(at(k, 3, 4) / at(k, 0, 0) - raw(5) / centre) < 1e-6);
  }
  assert.throws(() => circularLowpassKernel(1, 8), /odd/);
});
