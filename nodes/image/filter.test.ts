import { test } from "node:test";
import assert from "node:assert/strict";
import { loadPhoto } from "../../fixtures/photos";
import { filter2d, filterSeparable, gaussianKernel1d, reflect101, usmSharp, type Kernel2d } from "./filter";
import { createRng } from "./rng";
import { createImage, type RgbImage } from "./types";

/** Direct definition: cross-correlation over a reflect-101 padded image, in float64. */
function naiveFilter(image: RgbImage, kernel: Kernel2d): Float64Array {
  const { width, height } = image;
  const { size, weights } = kernel;
  const half = size >> 1;
  const out = new Float64Array(image.data.length);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (let r = 0; r < size; r++) {
          for (let q = 0; q < size; q++) {
            const sy = reflect101(y + r - half, height);
            const sx = reflect101(x + q - half, width);
            sum += weights[r * size + q] * image.data[c * width * height + sy * width + sx];
          }
        }
        out[c * width * height + y * width + x] = sum;
      }
    }
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function kernelFrom(size: number, f: (x: number, y: number) => number): Kernel2d {
  const half = size >> 1;
  const weights = new Float32Array(size * size);
  let sum = 0;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) sum += weights[r * size + c] = f(c - half, r - half);
  }
  for (let i = 0; i < weights.length; i++) weights[i] /= sum;
  return { size, weights };
}

test("reflect101 mirrors without repeating the edge, for offsets of any size", () => {
  assert.deepEqual(
    [-9, -4, -1, 0, 4, 5, 6, 12].map((i) => reflect101(i, 5)),
    [1, 4, 1, 0, 4, 3, 2, 4],
  );
  assert.equal(reflect101(-3, 1), 0);
});

test("filter2d equals the direct reflect-101 correlation, dense and low-rank kernels, tiny images too", async () => {
  const photo = await loadPhoto("chelsea.png", { left: 200, top: 80, width: 61, height: 47 });
  const rng = createRng(7);
  const kernels: Record<string, Kernel2d> = {
    dense: kernelFrom(21, () => rng.uniform(-0.2, 1)),
    // rank 1 and rank 2: these take the separable path
    gaussian: kernelFrom(21, (x, y) => Math.exp(-(x * x + y * y) / (2 * 1.7 ** 2))),
    twoGaussians: kernelFrom(15, (x, y) => Math.exp(-(x * x + y * y) / 2) + 0.3 * Math.exp(-(x * x) / 8 - y * y)),
    zeroPadded: kernelFrom(21, (x, y) => (Math.max(Math.abs(x), Math.abs(y)) <= 3 ? 1 + 0.1 * x * y + 0.05 * x : 0)),
  };
  const tiny: RgbImage = { width: 7, height: 5, data: photo.data.slice(0, 105) };
  for (const [name, kernel] of Object.entries(kernels)) {
    assert.ok(maxAbsDiff(filter2d(photo, kernel).data, naiveFilter(photo, kernel)) < 1e-6, name);
    assert.ok(maxAbsDiff(filter2d(tiny, kernel).data, naiveFilter(tiny, kernel)) < 1e-6, `${name} on 7x5`);
  }
});

test("filter2d correlates (no kernel flip) and a pulse kernel is the identity", async () => {
  const photo = await loadPhoto("coffee.png", { left: 100, top: 100, width: 64, height: 64 });
  const pulse = new Float32Array(21 * 21);
  pulse[10 * 21 + 10] = 1;
  assert.deepEqual(filter2d(photo, { size: 21, weights: pulse }).data, photo.data);
  const right = new Float32Array(9);
  right[1 * 3 + 2] = 1; // weight at (row 0 offset, column +1): out(x, y) = in(x + 1, y)
  const shifted = filter2d(photo, { size: 3, weights: right });
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 63; x++) assert.equal(shifted.data[y * 64 + x], photo.data[y * 64 + x + 1]);
  }
  assert.throws(() => filter2d(photo, { size: 4, weights: new Float32Array(16) }), /odd-sized/);
});

test("filterSeparable equals filter2d with the outer product; normalised kernels keep a constant image", async () => {
  const photo = await loadPhoto("rocket.jpg", { left: 300, top: 150, width: 80, height: 60 });
  const horizontal = Float32Array.of(0.1, 0.2, 0.4, 0.2, 0.1);
  const vertical = Float32Array.of(0.05, 0.15, 0.6, 0.15, 0.05);
  const outer = new Float32Array(25);
  for (let r = 0; r < 5; r++) for (let c = 0; c < 5; c++) outer[r * 5 + c] = vertical[r] * horizontal[c];
  const separable = filterSeparable(photo, horizontal, vertical);
  assert.ok(maxAbsDiff(separable.data, naiveFilter(photo, { size: 5, weights: outer })) < 1e-6);

  const flat = createImage(33, 17);
  flat.data.fill(0.37);
  const blurred = filter2d(flat, kernelFrom(21, (x, y) => 1 / (1 + (x * x + 2 * y * y) ** 1.5)));
  assert.ok(maxAbsDiff(blurred.data, flat.data) < 1e-6);
});

test("gaussianKernel1d matches cv2.getGaussianKernel(11, 1.5), the SSIM window", () => {
  const g = gaussianKernel1d(11, 1.5);
  const expected = [0.00102838, 0.00759876, 0.03600077, 0.10936069, 0.21300554, 0.26601172];
  expected.forEach((value, i) => {
    assert.ok(Math.abs(g[i] - value) < 1e-8);
    assert.ok(Math.abs(g[10 - i] - value) < 1e-8);
  });
  assert.throws(() => gaussianKernel1d(10, 1), /odd size/);
});

test("usmSharp sharpens edges, stays in 0..1 and leaves flat areas alone", async () => {
  const photo = await loadPhoto("astronaut.png", { left: 128, top: 128, width: 160, height: 160 });
  const sharp = usmSharp(photo);
  let min = Infinity;
  let max = -Infinity;
  for (const v of sharp.data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  assert.ok(min >= 0 && max <= 1);
  const gradientEnergy = (image: RgbImage) => {
    let sum = 0;
    for (let i = 0; i < image.data.length - 1; i++) if ((i + 1) % image.width !== 0) sum += (image.data[i + 1] - image.data[i]) ** 2;
    return sum;
  };
  const gain = gradientEnergy(sharp) / gradientEnergy(photo);
  assert.ok(gain > 1.2 && gain < 2.5, `gradient energy gain ${gain}`);
  const flat = createImage(64, 64);
  flat.data.fill(0.5);
  assert.ok(maxAbsDiff(usmSharp(flat).data, flat.data) < 1e-6);
});
