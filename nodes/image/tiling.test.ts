import assert from "node:assert/strict";
import { test } from "node:test";
import { loadPhoto } from "../../fixtures/photos";
import { maxAbsDifference, nearestUpscale } from "../../fixtures/fake-host";
import { axisStarts, axisWeights, cutTiles, stitchTiles, type BlendMode } from "./tiling";

const MODES: BlendMode[] = ["crop", "linear", "cosine", "gaussian"];

test("tiles cover the whole axis with equal tiles and at least the asked overlap", () => {
  for (const [length, tile, overlap] of [[512, 128, 16], [451, 128, 16], [300, 96, 32], [129, 128, 16], [100, 128, 16], [2048, 256, 0]]) {
    const starts = axisStarts(length, tile, overlap);
    const size = Math.min(tile, length);
    assert.equal(starts[0], 0);
    assert.equal(starts.at(-1)! + size, length, `last tile ends at the edge for ${length}/${tile}/${overlap}`);
    for (let i = 1; i < starts.length; i++) {
      const actualOverlap = starts[i - 1] + size - starts[i];
      assert.ok(actualOverlap >= overlap, `overlap ${actualOverlap} >= ${overlap}`);
    }
    // as few tiles as the overlap allows: with one tile fewer, the stride would exceed tile - overlap
    if (starts.length > 2) assert.ok((length - size) / (starts.length - 2) > size - overlap);
  }
});

test("neighbouring blend weights sum to one across every overlap", () => {
  const starts = axisStarts(451, 128, 24);
  for (const mode of ["crop", "linear", "cosine"] as const) {
    const weights = axisWeights(starts, 128, 2, mode);
    const sum = new Float32Array(902);
    starts.forEach((start, i) => weights[i].forEach((w, x) => (sum[start * 2 + x] += w)));
    for (let x = 0; x < sum.length; x++) {
      if (mode === "crop") assert.ok(sum[x] >= 1 && sum[x] <= 2, `${mode} coverage at ${x}: ${sum[x]}`);
      else assert.ok(Math.abs(sum[x] - 1) < 1e-5, `${mode} sum at ${x}: ${sum[x]}`);
    }
  }
});

test("chunk then stitch gives back the photo exactly, in every blend mode", async () => {
  const photo = await loadPhoto("chelsea.png");
  const set = cutTiles(photo, 128, 128, 16);
  assert.equal(set.tiles.length, set.grid.cols * set.grid.rows);
  assert.deepEqual([set.grid.cols, set.grid.rows], [4, 3]);
  for (const mode of MODES) {
    assert.ok(maxAbsDifference(stitchTiles(set, mode), photo) < 1e-5, mode);
  }
});

test("upscaled tiles land at their scaled positions", async () => {
  const photo = await loadPhoto("coffee.png", { left: 100, top: 50, width: 200, height: 150 });
  const set = cutTiles(photo, 64, 64, 12);
  const upscaled = { grid: { ...set.grid, scale: 3 }, tiles: set.tiles.map((tile) => ({ ...tile, image: nearestUpscale(tile.image, 3) })) };
  for (const mode of MODES) {
    assert.ok(maxAbsDifference(stitchTiles(upscaled, mode), nearestUpscale(photo, 3)) < 1e-5, mode);
  }
});

test("a tile of the wrong size is a clear error", async () => {
  const photo = await loadPhoto("chelsea.png", { left: 0, top: 0, width: 100, height: 100 });
  const set = cutTiles(photo, 64, 64, 8);
  assert.throws(() => stitchTiles({ ...set, grid: { ...set.grid, scale: 2 } }, "linear"), /tile at \(0, 0\) is 64x64, expected 128x128 for x2/);
});
