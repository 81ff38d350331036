import { test } from "node:test";
import assert from "node:assert/strict";
import { loadPhoto } from "../../fixtures/photos";
import { addGaussianNoise, addPoissonNoise, randomAddGaussianNoise, randomAddPoissonNoise } from "./noise";
import { createRng, logGamma } from "./rng";
import { createImage, type RgbImage } from "./types";

const crop = { left: 150, top: 150, width: 128, height: 128 };

/** Photo levels squeezed into [64, 191] / 255 so that moderate noise never clips. */
async function midtonePhoto(): Promise<RgbImage> {
  const photo = await loadPhoto("astronaut.png", crop);
  return { ...photo, data: photo.data.map((v) => (64 + Math.round(v * 127)) / 255) };
}

function residualStats(image: RgbImage, noisy: RgbImage) {
  const plane = image.width * image.height;
  const r = (c: number, i: number) => noisy.data[c * plane + i] - image.data[c * plane + i];
  let sum = 0;
  let sumSq = 0;
  let crossRG = 0;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      sum += r(c, i);
      sumSq += r(c, i) ** 2;
    }
    crossRG += r(0, i) * r(1, i);
  }
  const n = 3 * plane;
  return { mean: sum / n, std: Math.sqrt(sumSq / n), correlationRG: crossRG / plane / (sumSq / n) };
}

test("Gaussian noise: sigma in 0..255 units, independent per channel or shared when grey", async () => {
  const photo = await midtonePhoto();
  const colour = residualStats(photo, addGaussianNoise(photo, createRng(1), 10, false));
  assert.ok(Math.abs(colour.std * 255 - 10) < 0.2, `std ${colour.std * 255}`);
  assert.ok(Math.abs(colour.mean * 255) < 0.1);
  assert.ok(Math.abs(colour.correlationRG) < 0.02);
  const grey = residualStats(photo, addGaussianNoise(photo, createRng(1), 10, true));
  assert.ok(Math.abs(grey.std * 255 - 10) < 0.3);
  assert.ok(grey.correlationRG > 0.999);
});

test("Gaussian noise clips to 0..1, rounds to 8-bit steps on request, and is reproducible", async () => {
  const black = createImage(64, 64);
  const clipped = addGaussianNoise(black, createRng(2), 30, false);
  const zeros = clipped.data.filter((v) => v === 0).length;
  assert.ok(Math.abs(zeros / clipped.data.length - 0.5) < 0.03);
  assert.ok(clipped.data.every((v) => v >= 0 && v <= 1));

  const photo = await loadPhoto("coffee.png", crop);
  const rounded = addGaussianNoise(photo, createRng(3), 5, false, true);
  assert.ok(rounded.data.every((v) => Math.abs(v * 255 - Math.round(v * 255)) < 1e-4));
  assert.deepEqual(addGaussianNoise(photo, createRng(4), 7, true).data, addGaussianNoise(photo, createRng(4), 7, true).data);
});

test("Poisson noise has the shot-noise variance level / (255 · vals), scaled by scale²", async () => {
  const photo = await midtonePhoto(); // 127 distinct levels -> vals = 128
  for (const scale of [0.5, 1]) {
    const noisy = addPoissonNoise(photo, createRng(5), scale, false);
    let observed = 0;
    let predicted = 0;
    let mean = 0;
    for (let i = 0; i < photo.data.length; i++) {
      const residual = noisy.data[i] - photo.data[i];
      const level = Math.round(photo.data[i] * 255);
      observed += residual ** 2;
      predicted += (scale * scale * level) / (255 * 128);
      mean += residual;
    }
    assert.ok(Math.abs(observed / predicted - 1) < 0.03, `scale ${scale}: variance ratio ${observed / predicted}`);
    assert.ok(Math.abs(mean / photo.data.length) < 1.5e-3);
  }
});

test("Poisson noise counts distinct levels: five levels give vals 8, so outputs land on multiples of 1/8", async () => {
  const photo = await loadPhoto("chelsea.png", crop);
  const steps = [0, 64, 128, 192, 255];
  const posterised = { ...photo, data: photo.data.map((v) => steps[Math.round(v * 4)] / 255) };
  const noisy = addPoissonNoise(posterised, createRng(6), 1, false);
  assert.ok(noisy.data.every((v) => Math.abs(v * 8 - Math.round(v * 8)) < 1e-5));
  assert.ok(new Set(noisy.data).size > 3);
});

test("Poisson counts follow the exact pmf at a large lambda (256 levels: vals 256, level 128 -> lambda 128.5)", () => {
  const width = 256;
  const height = 2000;
  const ramp = createImage(width, height);
  for (let i = 0; i < ramp.data.length; i++) ramp.data[i] = (i % width) / 255;
  const noisy = addPoissonNoise(ramp, createRng(9), 1, false);
  // unclipped, out = level / 255 + (k / 256 - level / 255) = k / 256
  const lambda = (128 * 256) / 255;
  const counts = new Map<number, number>();
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      const k = Math.round(noisy.data[(c * height + y) * width + 128] * 256);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  const n = 3 * height;
  const pmf = (k: number) => Math.exp(-lambda + k * Math.log(lambda) - logGamma(k + 1));
  // cells of about equal probability: [0, 112), [112, 120), ... [144, inf)
  const edges = [0, 112, 120, 125, 129, 133, 138, 145, Infinity];
  let chi2 = 0;
  for (let cell = 0; cell + 1 < edges.length; cell++) {
    let expected = 0;
    let observed = 0;
    for (let k = edges[cell]; k < Math.min(edges[cell + 1], 400); k++) {
      expected += n * pmf(k);
      observed += counts.get(k) ?? 0;
    }
    chi2 += (observed - expected) ** 2 / expected;
  }
  assert.ok(chi2 < 24.3, `chi2 ${chi2.toFixed(1)} (7 dof, p = 0.001 at 24.3)`);
});

test("grey Poisson noise is shared by the three channels", async () => {
  const photo = await midtonePhoto();
  const noisy = addPoissonNoise(photo, createRng(7), 1, true);
  const plane = photo.width * photo.height;
  let differing = 0;
  for (let i = 0; i < plane; i++) {
    const r = noisy.data[i] - photo.data[i];
    const g = noisy.data[plane + i] - photo.data[plane + i];
    const b = noisy.data[2 * plane + i] - photo.data[2 * plane + i];
    if (Math.abs(r - g) > 1e-6 || Math.abs(r - b) > 1e-6) differing++;
  }
  assert.equal(differing, 0);
  assert.ok(residualStats(photo, noisy).std > 1 / 255);
});

test("random variants draw the parameter in range and grey with probability grayProb", () => {
  const tiny = createImage(4, 4);
  tiny.data.fill(0.5);
  const rng = createRng(8);
  let greyGaussian = 0;
  let greyPoisson = 0;
  const n = 2000;
  for (let i = 0; i < n; i++) {
    const g = randomAddGaussianNoise(tiny, rng, { sigmaRange: [1, 30], grayProb: 0.4 });
    assert.ok(g.sigma >= 1 && g.sigma < 30);
    if (g.gray) greyGaussian++;
    const p = randomAddPoissonNoise(tiny, rng, { scaleRange: [0.05, 3], grayProb: 0.4 });
    assert.ok(p.scale >= 0.05 && p.scale < 3);
    if (p.gray) greyPoisson++;
  }
  assert.ok(Math.abs(greyGaussian / n - 0.4) < 0.04);
  assert.ok(Math.abs(greyPoisson / n - 0.4) < 0.04);
});
