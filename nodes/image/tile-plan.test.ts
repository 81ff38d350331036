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

test("a larger image gets the fewest equal tiles that fit, each no larger than its count needs", () => {
  for (const [width, height, budget] of [[1024, 1024, 1024], [2048, 1536, 2048], [451, 300, 400], [1000, 120, 300]]) {
    const plan = planTiles({ width, height, costs: [THICK], budgetBytes: budget * MB });
    const tileWidth = Math.min(plan.tileSize, width);
    const tileHeight = Math.min(plan.tileSize, height);
    assert.ok(tileBytes(THICK, tileWidth, tileHeight) <= budget * MB, `${width}x${height}: tile ${plan.tileSize} fits ${budget} MB`);
    assert.ok(plan.overlap >= 4 * THICK.borderPx && plan.overlap >= 8);
    // one pixel smaller per side and the same count no longer covers the image with that overlap
    const cover = (count: number, size: number) => count * size - (count - 1) * plan.overlap;
    if (plan.cols > 1 && plan.tileSize < width) assert.ok(cover(plan.cols, plan.tileSize - 1) < width || cover(plan.rows, plan.tileSize - 1) < height);
    assert.ok(plan.pixelsPerImagePixel < 1.35, `${width}x${height}: ${plan.pixelsPerImagePixel.toFixed(2)} model pixels per image pixel`);
  }
});

test("tiles respect the model's size multiple and a tiny budget still gives a usable tile", () => {
  const plan = planTiles({ width: 500, height: 500, costs: [{ ...THICK, borderPx: 10 }], budgetBytes: 300 * MB, multiple: 4 });
  assert.equal(plan.tileSize % 4, 0);
  assert.equal(plan.overlap, 40);
  const tiny = planTiles({ width: 500, height: 500, costs: [THICK], budgetBytes: 1 });
  assert.ok(tiny.tileSize >= 32 && tiny.cols > 1);
});
