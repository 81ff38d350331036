import assert from "node:assert/strict";
import { test } from "node:test";
import { type ModelCost, planTiles, tileBytes } from "./tile-plan";

// esrgan-thick-x4 as measured on a 2-core Sapphire Rapids (server/inference/footprint.ts).
const THICK: ModelCost = { baseBytes: 207e6, bytesPerInputPixel: 4405, borderPx: 2, msPerInputMegapixel: 83_000 };
const MB = 1e6;

test("an image that fits the budget is one tile: nothing computed twice", () => {
  const plan = planTiles({ width: 256, height: 256, costs: [THICK], budgetBytes: 2048 * MB });
  assert.deepEqual([plan.cols, plan.rows, plan.overlap, plan.pixelsPerImagePixel], [1, 1, 0, 1]);
  assert.ok(plan.predictedTileBytes <= 2048 * MB);
});

test("a larger image gets the fewest model pixels that fit when speed is the same at every size, each tile no larger than its count needs", () => {
  for (const [width, height, budget] of [[1024, 1024, 1024], [2048, 1536, 2048], [451, 300, 400], [1000, 120, 300]]) {
    const plan = planTiles({ width, height, costs: [THICK], budgetBytes: budget * MB });
    assert.ok(tileBytes(THICK, plan.tileWidth, plan.tileHeight) <= budget * MB, `${width}x${height}: tile ${plan.tileWidth}x${plan.tileHeight} fits ${budget} MB`);
    assert.ok(plan.overlap >= 4 * THICK.borderPx && plan.overlap >= 8);
    // one pixel smaller on an axis and the same count no longer covers it with that overlap
    const cover = (count: number, size: number) => count * size - (count - 1) * plan.overlap;
    if (plan.cols > 1) assert.ok(cover(plan.cols, plan.tileWidth - 1) < width, `${width}x${height}: columns ${plan.tileWidth} px, no wider than needed`);
    if (plan.rows > 1) assert.ok(cover(plan.rows, plan.tileHeight - 1) < height, `${width}x${height}: rows ${plan.tileHeight} px, no taller than needed`);
    assert.ok(plan.pixelsPerImagePixel < 1.2, `${width}x${height}: ${plan.pixelsPerImagePixel.toFixed(2)} model pixels per image pixel`);
  }
});

test("the tile size is chosen by predicted time: where larger tiles run slower per pixel, smaller ones win despite their overlap", () => {
  // psnr-small-x2 in fp32 on a 2-core EPYC: ms per megapixel rises past 128 px tiles (caches).
  const speed = [
    { pixels: 64 ** 2, msPerMegapixel: 50_000 },
    { pixels: 128 ** 2, msPerMegapixel: 52_000 },
    { pixels: 256 ** 2, msPerMegapixel: 62_000 },
    { pixels: 512 ** 2, msPerMegapixel: 75_000 },
  ];
  const small: ModelCost = { baseBytes: 50e6, bytesPerInputPixel: 6500, borderPx: 4, msPerInputMegapixel: 52_000, speed };
  const budgetBytes = 8192 * MB;
  const flat = planTiles({ width: 1024, height: 768, costs: [{ ...small, speed: undefined }], budgetBytes });
  const timed = planTiles({ width: 1024, height: 768, costs: [small], budgetBytes });
  assert.ok(timed.tileWidth * timed.tileHeight < flat.tileWidth * flat.tileHeight, `${timed.tileWidth}x${timed.tileHeight} against ${flat.tileWidth}x${flat.tileHeight}`);
  assert.ok(timed.cols * timed.rows > flat.cols * flat.rows);
  // No tiling it considered is predicted faster: the fewest tiles included.
  const slower = planTiles({ width: 1024, height: 768, costs: [small], budgetBytes: tileBytes(small, flat.tileWidth, flat.tileHeight) });
  assert.ok(timed.predictedMs <= slower.predictedMs);
  const atFlat = (flat.pixelsPerImagePixel * 1024 * 768 * 75_000) / 1e6;
  assert.ok(timed.predictedMs < atFlat, `${timed.predictedMs} ms predicted, the fewest tiles ${atFlat} ms`);
  // One figure for every size: no reason to compute a pixel twice, the whole image fits.
  assert.deepEqual([flat.cols, flat.rows], [1, 1]);
});

test("tiles respect the model's size multiple and a tiny budget still gives a usable tile", () => {
  const plan = planTiles({ width: 500, height: 500, costs: [{ ...THICK, borderPx: 10 }], budgetBytes: 300 * MB, multiple: 4 });
  assert.equal(plan.tileWidth % 4, 0);
  assert.equal(plan.tileHeight % 4, 0);
  assert.equal(plan.overlap, 40);
  const tiny = planTiles({ width: 500, height: 500, costs: [THICK], budgetBytes: 1 });
  assert.ok(tiny.tileWidth >= 32 && tiny.tileHeight >= 32 && tiny.cols > 1);
});
