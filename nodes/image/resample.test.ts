import { test } from "node:test";
import assert from "node:assert/strict";
import { loadPhoto } from "../../fixtures/photos";
import { bicubicDownscale, resize, type ResizeKernel } from "./resample";
import { createImage, type RgbImage } from "./types";

const KERNELS: ResizeKernel[] = ["nearest", "bilinear", "bicubic", "lanczos", "area"];

function imageFrom(width: number, height: number, f: (x: number, y: number, channel: number) => number): RgbImage {
  const image = createImage(width, height);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) image.data[(c * height + y) * width + x] = f(x, y, c);
  }
  return image;
}

function psnrRgb(a: RgbImage, b: RgbImage): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += (a.data[i] - b.data[i]) ** 2;
  return 10 * Math.log10(1 / (sum / a.data.length));
}

function assertClose(actual: ArrayLike<number>, expected: number[], tolerance: number, what: string) {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test("weights follow MATLAB imresize: values from a numpy port of its contributions()", () => {
  // row x^2 / 49 for x = 0..7, one pixel high (that axis is left alone)
  const row = imageFrom(8, 1, (x) => (x * x) / 49);
  const first = (image: RgbImage) => Array.from(image.data.subarray(0, image.width));
  assertClose(
    first(resize(row, { width: 4, height: 1, kernel: "bicubic" })),
    [0.00613839, 0.12779018, 0.41685268, 0.87779018],
    1e-7,
    "bicubic /2",
  );
  assertClose(
    first(resize(row, { width: 4, height: 1, kernel: "bicubic", antialias: false })),
    [0.00637755, 0.12755102, 0.41326531, 0.88137755],
    1e-7,
    "bicubic /2 without antialiasing",
  );
  const lanczos = first(resize(row, { width: 3, height: 1, kernel: "lanczos" }));
  assertClose(lanczos, [0.01587612, 0.23572108, 0.81978688], 1e-7, "lanczos3 8->3");
  const four = imageFrom(4, 1, (x) => [0, 1, 0.5, 0.25][x]);
  assertClose(
    first(resize(four, { width: 7, height: 1, kernel: "bicubic" })),
    [-0.08418367, 0.34484329, 0.97239431, 0.828125, 0.47385204, 0.31058673, 0.22895408],
    1e-7,
    "bicubic 4->7 (Keys a = -0.5, symmetric edges)",
  );
});

test("a constant image stays constant for every kernel, up and down, odd sizes", () => {
  const flat = imageFrom(37, 23, (_x, _y, c) => [0.2, 0.55, 0.9][c]);
  for (const kernel of KERNELS) {
    for (const [width, height] of [
      [100, 61],
      [11, 7],
      [53, 9],
    ]) {
      for (const antialias of [true, false]) {
        const out = resize(flat, { width, height, kernel, antialias });
        assert.equal(out.width, width);
        assert.equal(out.height, height);
        for (let c = 0; c < 3; c++) {
          const plane = out.data.subarray(c * width * height, (c + 1) * width * height);
          for (const v of plane) assert.ok(Math.abs(v - [0.2, 0.55, 0.9][c]) < 1e-6, `${kernel} ${width}x${height}`);
        }
      }
    }
  }
});

test("bilinear and bicubic upscales reproduce a linear ramp away from the borders, as do integer downscales", () => {
  const ramp = (x: number, y: number) => 0.1 + 0.004 * x + 0.003 * y;
  const source = imageFrom(64, 48, (x, y) => ramp(x, y));
  const cases: [ResizeKernel, number, number][] = [
    ["bilinear", 256, 192], // x4
    ["bilinear", 160, 100], // non-integer factors
    ["bicubic", 256, 192],
    ["bicubic", 160, 100],
    // widened kernels sampled symmetrically (integer factor) keep their centre of mass
    ["bilinear", 16, 12],
    ["bicubic", 16, 12],
    ["lanczos", 16, 12],
  ];
  for (const [kernel, width, height] of cases) {
    const out = resize(source, { width, height, kernel });
    const sx = 64 / width;
    const sy = 48 / height;
    const margin = 2 + 3 * Math.max(sx, sy); // beyond the widest kernel's reach
    let checked = 0;
    for (let y = 0; y < height; y++) {
      const v = (y + 0.5) * sy - 0.5;
      if (v < margin || v > 47 - margin) continue;
      for (let x = 0; x < width; x++) {
        const u = (x + 0.5) * sx - 0.5;
        if (u < margin || u > 63 - margin) continue;
        assert.ok(Math.abs(out.data[y * width + x] - ramp(u, v)) < 1e-5, `${kernel} ${width}x${height} at ${x},${y}`);
        checked++;
      }
    }
    assert.ok(checked >= 8, `${kernel} ${width}x${height}: only ${checked} interior pixels`);
  }
});

test("area downscale by an integer factor is the block mean; other factors keep the mean", async () => {
  const photo = await loadPhoto("chelsea.png", { left: 40, top: 20, width: 300, height: 200 });
  const out = resize(photo, { width: 75, height: 50, kernel: "area" });
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 50; y++) {
      for (let x = 0; x < 75; x++) {
        let sum = 0;
        for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) sum += photo.data[(c * 200 + 4 * y + dy) * 300 + 4 * x + dx];
        assert.ok(Math.abs(out.data[(c * 50 + y) * 75 + x] - sum / 16) < 1e-6);
      }
    }
  }
  const mean = (image: RgbImage) => image.data.reduce((a, b) => a + b, 0) / image.data.length;
  assert.ok(Math.abs(mean(resize(photo, { width: 129, height: 71, kernel: "area" })) - mean(photo)) < 1e-5);
});

test("nearest upscaling by 2 duplicates pixels", async () => {
  const photo = await loadPhoto("coffee.png", { left: 0, top: 0, width: 40, height: 30 });
  const out = resize(photo, { width: 80, height: 60, kernel: "nearest" });
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 60; y++) {
      for (let x = 0; x < 80; x++) assert.equal(out.data[(c * 60 + y) * 80 + x], photo.data[(c * 30 + (y >> 1)) * 40 + (x >> 1)]);
    }
  }
});

test("bicubicDownscale: floor size, and a photo's down-up round trip has a plausible PSNR", async () => {
  const photo = await loadPhoto("astronaut.png");
  const lr4 = bicubicDownscale(photo, 4);
  const lr2 = bicubicDownscale(photo, 2);
  assert.deepEqual([lr4.width, lr4.height], [128, 128]);
  assert.deepEqual(
    [bicubicDownscale(await loadPhoto("chelsea.png"), 3).width, bicubicDownscale(await loadPhoto("chelsea.png"), 3).height],
    [150, 100],
  );
  const back4 = resize(lr4, { width: 512, height: 512, kernel: "bicubic" });
  const back2 = resize(lr2, { width: 512, height: 512, kernel: "bicubic" });
  const psnr4 = psnrRgb(photo, back4);
  const psnr2 = psnrRgb(photo, back2);
  assert.ok(psnr4 > 20 && psnr4 < 30, `x4 round trip ${psnr4.toFixed(2)} dB`);
  assert.ok(psnr2 > psnr4 + 3 && psnr2 < 40, `x2 round trip ${psnr2.toFixed(2)} dB`);
  // the LR keeps the image's mean brightness
  const mean = (image: RgbImage) => image.data.reduce((a, b) => a + b, 0) / image.data.length;
  assert.ok(Math.abs(mean(lr4) - mean(photo)) < 2e-3);
  assert.throws(() => bicubicDownscale(photo, 0.5), /scale must be >= 1/);
  assert.throws(() => resize(photo, { width: 0, height: 10, kernel: "bicubic" }), /positive integers/);
});

test("512x512 -> 2048x2048 bicubic is fast (generous bound for loaded machines)", async () => {
  const photo = await loadPhoto("astronaut.png");
  resize(photo, { width: 2048, height: 2048, kernel: "bicubic" }); // warm-up
  const start = performance.now();
  const out = resize(photo, { width: 2048, height: 2048, kernel: "bicubic" });
  const ms = performance.now() - start;
  assert.equal(out.data.length, 3 * 2048 * 2048);
  assert.ok(ms < 2000, `${ms.toFixed(0)} ms`);
});
