// The run's tile map without a database: the engine's tile events of a two-stage graph (chunk -> generate ->
// stitch, twice) become throttled tile-map updates whose tiles cover each stage's output at their places, with
// previews of a few hundred bytes that look like the tile. (events.test.ts: a run's history merges them.)
import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { FakeHost } from "../../fixtures/fake-host";
import { loadPhoto } from "../../fixtures/photos";
import { runGraph } from "../../fixtures/run-graph";
import type { Graph } from "../../nodes/graph/schema";
import { nodeRegistry } from "../../nodes/index";
import { findTemplate } from "../../nodes/templates/index";
import { RunTileMap, type TileMapUpdate } from "./tile-map";

function twoStages(): Graph {
  const graph: Graph = structuredClone(findTemplate("x8-twice")!.graph);
  for (const node of graph.nodes) {
    if (node.id === "generate1") node.params.model = "nearest-x4";
    if (node.id === "generate2") node.params.model = "nearest-x2";
    if (node.type === "chunk") node.params = { tileSize: 32, overlap: 8 };
  }
  return graph;
}

test("tile-map updates: every tile of each stage once, at its place in that stage's output, throttled", async () => {
  const photo = await loadPhoto("rocket.jpg", { left: 200, top: 100, width: 64, height: 48 });
  const updates: TileMapUpdate[] = [];
  const map = new RunTileMap((update) => updates.push(update), 20);
  const host = new FakeHost({ inputs: { input: photo }, inferDelayMs: 2 });
  const engineTileEvents: string[] = [];
  await runGraph(twoStages(), {
    registry: nodeRegistry,
    host,
    onEvent: (event) => {
      if (event.type !== "tile-started" && event.type !== "tile-done") return;
      engineTileEvents.push(event.type);
      map.add(event);
    },
    onTileImage: map.onTileImage,
  });
  await map.flush();

  // 64x48 in 32 px tiles overlapping 8: 3x2; x4 -> 256x192 in 32 px tiles: 11x8.
  const expected = { generate1: { total: 6, canvas: { width: 256, height: 192 } }, generate2: { total: 88, canvas: { width: 512, height: 384 } } };
  assert.equal(engineTileEvents.length, 2 * (6 + 88));
  for (const [nodeId, { total, canvas }] of Object.entries(expected)) {
    const mine = updates.filter((update) => update.nodeId === nodeId);
    const tiles = mine.flatMap((update) => update.finished);
    assert.deepEqual([...new Set(tiles.map((tile) => tile.index))].sort((a, b) => a - b), [...Array(total).keys()], `${nodeId}: each tile once`);
    assert.equal(tiles.length, total);
    for (const update of mine) assert.deepEqual([update.total, update.canvas], [total, canvas]);
    // The tiles reach the output's edges and stay inside it.
    assert.equal(Math.max(...tiles.map((tile) => tile.x + tile.width)), canvas.width);
    assert.equal(Math.max(...tiles.map((tile) => tile.y + tile.height)), canvas.height);
    assert.ok(tiles.every((tile) => tile.x >= 0 && tile.y >= 0));
    // Nothing is left running at the end.
    assert.deepEqual(mine.at(-1)!.running, []);
  }
  // Throttled: far fewer updates than tiles (each update carries several).
  assert.ok(updates.length < (6 + 88) / 2, `${updates.length} updates for 94 tiles`);
  const sizes = updates.flatMap((update) => update.finished.map((tile) => tile.dataUrl.length));
  assert.ok(Math.max(...sizes) < 2000, `previews up to ${Math.max(...sizes)} characters`);
  console.log(`${updates.length} updates for 94 tiles; previews ${Math.min(...sizes)}..${Math.max(...sizes)} characters of data URL`);

  // A preview is the tile, small: its mean colour is the tile's (nearest upscaling keeps the photo's colours).
  const first = updates.find((update) => update.nodeId === "generate1")!.finished.find((tile) => tile.index === 0)!;
  const preview = await sharp(Buffer.from(first.dataUrl.split(",")[1], "base64")).raw().toBuffer({ resolveWithObject: true });
  assert.ok(preview.info.width <= 48 && preview.info.height <= 48, `${preview.info.width}x${preview.info.height}`);
  let sum = 0;
  const plane = photo.width * photo.height;
  for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) sum += photo.data[c * plane + y * photo.width + x] * 255;
  const tileMean = sum / (3 * 32 * 32);
  assert.ok(Math.abs(mean(preview.data) - tileMean) < 8, `preview mean ${mean(preview.data).toFixed(1)} vs tile ${tileMean.toFixed(1)}`);
});

function mean(data: Buffer | Uint8Array): number {
  return data.reduce((sum, value) => sum + value, 0) / data.length;
}
