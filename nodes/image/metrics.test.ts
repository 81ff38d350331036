import { test } from "node:test";
import assert from "node:assert/strict";
import { loadPhoto } from "../../fixtures/photos";
import { filter2d } from "./filter";
import { bivariateGaussian } from "./kernels";
import { psnrY, ssimY } from "./metrics";
import { createRng } from "./rng";
import type { RgbImage } from "./types";

/** The photo's 8-bit levels squeezed into [margin, 255 - margin], so that level offsets never clip. */
function squeezed(photo: RgbImage, margin: number): RgbImage {
  const data = photo.data.map((v) => (margin + Math.round((Math.round(v * 255) * (255 - 2 * margin)) / 255)) / 255);
  return { width: photo.width, height: photo.height, data };
}

test("identical images: PSNR is Infinity and SSIM is 1", async () => {
  const photo = await loadPhoto("chelsea.png");
  assert.equal(psnrY(photo, photo, 4), Infinity);
  assert.equal(ssimY(photo, photo, 4), 1);
});

test("matches a numpy port of BasicSR calculate_psnr / calculate_ssim (test_y_channel, crop_border 4)", async () => {
  const a = await loadPhoto("coffee.png");
  const b = { ...a, data: new Float32Array(a.data.length) };
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < a.height; y++) {
      for (let x = 0; x < a.width; x++) {
        const i = (c * a.height + y) * a.width + x;
        b.data[i] = 0.85 * a.data[i] + 0.06 + 0.03 * Math.sin(0.21 * x + 0.13 * y + c);
      }
    }
  }
  assert.ok(Math.abs(psnrY(a, b, 4) - 29.680588275776117) < 1e-9);
  assert.ok(Math.abs(ssimY(a, b, 4) - 0.9686912591321881) < 1e-12);
});

test("PSNR of a one-level offset and of uniform level noise match their analytic values", async () => {
  const photo = squeezed(await loadPhoto("astronaut.png"), 3);
  // +1 level on every channel moves Y by exactly (65.481 + 128.553 + 24.966) / 255 = 219 / 255
  const brighter = { ...photo, data: photo.data.map((v) => v + 1 / 255) };
  assert.ok(Math.abs(psnrY(photo, brighter, 0) - 20 * Math.log10((255 * 255) / 219)) < 1e-3);

  // independent uniform integer noise in -3..3 levels per channel: variance 3 * 4 / 3 = 4 levels²
  const rng = createRng(99);
  const noisy = { ...photo, data: photo.data.map((v) => v + rng.int(-3, 3) / 255) };
  const yVariance = (4 * (65.481 ** 2 + 128.553 ** 2 + 24.966 ** 2)) / 255 ** 2;
  const analytic = 10 * Math.log10((255 * 255) / yVariance);
  const measured = psnrY(photo, noisy, 4);
  assert.ok(Math.abs(measured - analytic) < 0.05, `${measured.toFixed(3)} dB vs analytic ${analytic.toFixed(3)} dB`);
});

test("SSIM and PSNR fall steadily as blur grows", async () => {
  const photo = await loadPhoto("astronaut.png", { left: 100, top: 100, width: 256, height: 256 });
  const sigmas = [0.4, 0.6, 0.8, 1.2, 1.8, 2.6, 3.5];
  const scores = sigmas.map((sigma) => {
    const blurred = filter2d(photo, bivariateGaussian(21, sigma, sigma, 0, true));
    return { ssim: ssimY(photo, blurred, 4), psnr: psnrY(photo, blurred, 4) };
  });
  assert.ok(scores[0].ssim < 1 && scores[0].ssim > 0.99, `sigma 0.4: ${scores[0].ssim}`);
  for (let i = 1; i < scores.length; i++) {
    assert.ok(scores[i].ssim < scores[i - 1].ssim - 0.01, `SSIM at sigma ${sigmas[i]}: ${scores[i].ssim}`);
    assert.ok(scores[i].psnr < scores[i - 1].psnr, `PSNR at sigma ${sigmas[i]}`);
  }
  assert.ok(scores[scores.length - 1].ssim < 0.75);
});

test("shave excludes the border; mismatched or too small inputs are refused with a clear message", async () => {
  const photo = await loadPhoto("rocket.jpg", { left: 0, top: 0, width: 64, height: 48 });
  const framed = { ...photo, data: photo.data.slice() };
  for (let c = 0; c < 3; c++) for (let x = 0; x < 64; x++) framed.data[c * 64 * 48 + x] = 1 - framed.data[c * 64 * 48 + x];
  assert.ok(Number.isFinite(psnrY(photo, framed, 0)));
  assert.equal(psnrY(photo, framed, 1), Infinity);
  assert.equal(ssimY(photo, framed, 1), 1);

  const other = await loadPhoto("rocket.jpg", { left: 0, top: 0, width: 63, height: 48 });
  assert.throws(() => psnrY(photo, other, 0), /image sizes differ: 64x48 vs 63x48/);
  assert.throws(() => ssimY(photo, other, 0), /image sizes differ: 64x48 vs 63x48/);
  assert.throws(() => psnrY(photo, photo, 24), /shave 24 leaves nothing/);
  assert.throws(() => ssimY(photo, photo, 19), /smaller than the 11x11 window/);
});
