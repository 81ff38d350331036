import { test } from "node:test";
import assert from "node:assert/strict";
import { loadPhoto } from "../../fixtures/photos";
import { quantize8, rgbToY, toLevel8 } from "./color";
import { resize } from "./resample";
import { createImage } from "./types";

test("toLevel8 rounds half to even and clamps, like torch.round / numpy.round", () => {
  assert.deepEqual(
    [0.5, 1.5, 2.5, 3.5, 254.5].map((level) => toLevel8(level / 255)),
    [0, 2, 2, 4, 254],
  );
  assert.equal(toLevel8(100.4 / 255), 100);
  assert.equal(toLevel8(100.6 / 255), 101);
  assert.deepEqual([-0.1, 0, 1, 1.2, Number.NaN].map(toLevel8), [0, 0, 255, 255, 0]);
});

test("quantize8 snaps a resampled photo to 8-bit steps, moving no value by more than half a step", async () => {
  const photo = await loadPhoto("rocket.jpg", { left: 200, top: 100, width: 120, height: 90 });
  const smooth = resize(photo, { width: 173, height: 131, kernel: "lanczos" }); // overshoots 0..1 near edges
  const q = quantize8(smooth);
  let moved = 0;
  for (let i = 0; i < q.data.length; i++) {
    const level = q.data[i] * 255;
    assert.ok(Math.abs(level - Math.round(level)) < 1e-4 && level >= 0 && level <= 255);
    const clamped = Math.min(1, Math.max(0, smooth.data[i]));
    assert.ok(Math.abs(q.data[i] - clamped) <= 0.5 / 255 + 1e-7);
    if (q.data[i] !== smooth.data[i]) moved++;
  }
  assert.ok(moved > q.data.length / 2); // lanczos output is mostly off the 8-bit grid
});

test("rgbToY gives MATLAB's BT.601 studio-range luma on 8-bit values", async () => {
  const swatches = createImage(6, 1);
  const colours = [
    [0, 0, 0, 16],
    [1, 1, 1, 235],
    [1, 0, 0, 81.481],
    [0, 1, 0, 144.553],
    [0, 0, 1, 40.966],
    [0.5, 0.5, 0.5, 16 + (219 * 128) / 255],
  ];
  colours.forEach(([r, g, b], x) => {
    swatches.data[x] = r;
    swatches.data[6 + x] = g;
    swatches.data[12 + x] = b;
  });
  const y = rgbToY(swatches);
  colours.forEach(([, , , expected], x) => assert.ok(Math.abs(y[x] - expected) < 1e-4, `swatch ${x}: ${y[x]} vs ${expected}`));

  const photo = await loadPhoto("grace_hopper.jpg", { left: 100, top: 100, width: 64, height: 64 });
  const yPhoto = rgbToY(photo);
  const plane = 64 * 64;
  for (let i = 0; i < plane; i++) {
    const [r, g, b] = [0, 1, 2].map((c) => Math.round(photo.data[c * plane + i] * 255) / 255);
    assert.ok(Math.abs(yPhoto[i] - (16 + 65.481 * r + 128.553 * g + 24.966 * b)) < 1e-4);
  }
  // sub-level changes vanish: the metric sees the 8-bit image
  const nudged = { ...photo, data: photo.data.map((v) => v + 0.3 / 255) };
  assert.deepEqual(rgbToY(nudged), yPhoto);
});
