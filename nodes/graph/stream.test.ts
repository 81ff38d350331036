// Streamed values: generate hands its tiles on as they finish, stitch its bands of rows, save-image reads them;
// the output is the one a whole stitch makes, and a failure inside a stream is its producer's.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeHost, maxAbsDifference, nearestUpscale } from "../../fixtures/fake-host";
import { loadPhoto } from "../../fixtures/photos";
import { loopMapGraph } from "../../fixtures/graphs";
import { runGraph } from "../../fixtures/run-graph";
import { cutTiles, BandStitcher, stitchTiles } from "../image/tiling";
import { nodeRegistry } from "../index";
import { builtInTemplates } from "../templates/index";
import { MemoryNodeCache } from "./cache";
import { NodeRunError } from "./engine";
import type { EngineEvent } from "./events";
import type { Graph } from "./schema";
import { watchParts } from "./stream";

function template(id: string): Graph {
  const graph = structuredClone(builtInTemplates.find((t) => t.id === id)!.graph);
  for (const node of graph.nodes) if (node.type === "generate") node.params.model = "nearest-x2";
  for (const node of graph.nodes) if (node.type === "chunk") Object.assign(node.params, { tileSize: 64, overlap: 8 });
  return graph;
}

test("bands of rows come top to bottom, at most 64 rows each, and equal the whole stitch", async () => {
  const photo = await loadPhoto("chelsea.png");
  const set = cutTiles(photo, 96, 96, 16);
  for (const mode of ["crop", "linear", "cosine", "gaussian"] as const) {
    const stitcher = new BandStitcher(set.grid, set.tiles, mode);
    const whole = stitchTiles(set, mode);
    let next = 0;
    for (const tile of set.tiles) {
      for (const band of stitcher.add(tile)) {
        assert.equal(band.top, next);
        assert.ok(band.image.height <= 64);
        const plane = band.image.width * band.image.height;
        for (let c = 0; c < 3; c++) {
          const expected = whole.data.subarray(c * whole.width * whole.height + band.top * whole.width).subarray(0, plane);
          assert.deepEqual(band.image.data.subarray(c * plane, (c + 1) * plane), expected);
        }
        next += band.image.height;
      }
    }
    assert.equal(next, photo.height);
  }
});

test("streamed (no cache): stitch starts while generate runs, and the output is the whole-value run's", async () => {
  const photo = await loadPhoto("coffee.png", { left: 0, top: 0, width: 300, height: 200 });
  const streamedHost = new FakeHost({ inputs: { input: photo }, inferDelayMs: 5 });
  const events: EngineEvent[] = [];
  const result = await runGraph(template("x4-chunked"), { registry: nodeRegistry, host: streamedHost, onEvent: (e) => events.push(e) });
  const order = events.flatMap((e) => (e.type === "node-started" || e.type === "node-finished" ? [`${e.type === "node-started" ? "+" : "-"}${e.nodeId}`] : []));
  assert.ok(order.indexOf("+stitch") < order.indexOf("-generate"), order.join(" "));
  assert.deepEqual(result.nodes.map((n) => n.id), ["load", "chunk", "generate", "stitch", "save"]);
  const wholeHost = new FakeHost({ inputs: { input: photo } });
  await runGraph(template("x4-chunked"), { registry: nodeRegistry, host: wholeHost, cache: new MemoryNodeCache() });
  assert.deepEqual(streamedHost.saved.get("output")!.data, wholeHost.saved.get("output")!.data);
  assert.ok(maxAbsDifference(streamedHost.saved.get("output")!, nearestUpscale(photo, 2)) < 1e-6);
});

test("a tile failing while its stream is read fails the generate node, not its reader", async () => {
  const photo = await loadPhoto("coffee.png", { left: 0, top: 0, width: 300, height: 200 });
  const host = new FakeHost({ inputs: { input: photo }, oomAbovePixels: 1 });
  const events: EngineEvent[] = [];
  const error = await runGraph(template("x4-chunked"), { registry: nodeRegistry, host, onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
  assert.ok(error instanceof NodeRunError && error.nodeId === "generate", String(error));
  assert.ok(events.some((e) => e.type === "node-failed" && e.nodeId === "generate"));
  assert.ok(!events.some((e) => e.type === "node-failed" && e.nodeId !== "generate"));
  assert.equal(host.saved.size, 0);
});

test("with a cache: a small streamed value is gathered whole and cached; a big one streams and is not cached", async () => {
  const photo = await loadPhoto("coffee.png", { left: 0, top: 0, width: 300, height: 200 });
  const runWith = async (cacheWholeMaxBytes: number) => {
    const cache = new MemoryNodeCache();
    const host = new FakeHost({ inputs: { input: photo }, inferDelayMs: 2 });
    const events: EngineEvent[] = [];
    await runGraph(template("x4-chunked"), { registry: nodeRegistry, host, cache, cacheWholeMaxBytes, onEvent: (e) => events.push(e) });
    const order = events.flatMap((e) => (e.type === "node-started" || e.type === "node-finished" ? [`${e.type === "node-started" ? "+" : "-"}${e.nodeId}`] : []));
    const again: EngineEvent[] = [];
    await runGraph(template("x4-chunked"), { registry: nodeRegistry, host, cache, cacheWholeMaxBytes, onEvent: (e) => again.push(e) });
    const cached = again.flatMap((e) => (e.type === "node-finished" && e.cached ? [e.nodeId] : []));
    return { order, cached, saved: host.saved.get("output")! };
  };
  const small = await runWith(Infinity);
  assert.deepEqual(small.cached, ["load", "chunk", "generate", "stitch"]);
  const big = await runWith(0);
  assert.ok(big.order.indexOf("+stitch") < big.order.indexOf("-generate"), big.order.join(" "));
  assert.deepEqual(big.cached, ["load", "chunk"]);
  assert.deepEqual(big.saved.data, small.saved.data);
});

test("onOutputs does not stop a value streaming: told as it is handed on, its parts can be watched as they pass", async () => {
  const photo = await loadPhoto("coffee.png", { left: 0, top: 0, width: 300, height: 200 });
  const host = new FakeHost({ inputs: { input: photo } });
  const seen: string[] = [];
  const parts = new Map<string, number>();
  const ended: string[] = [];
  const events: EngineEvent[] = [];
  await runGraph(template("x4-chunked"), {
    registry: nodeRegistry,
    host,
    onEvent: (e) => events.push(e),
    onOutputs: (nodeId, outputs) => {
      seen.push(nodeId);
      for (const value of Object.values(outputs)) {
        const count = () => parts.set(nodeId, (parts.get(nodeId) ?? 0) + 1);
        watchParts(value, { tile: count, band: count }, () => ended.push(nodeId));
      }
    },
  });
  const order = events.flatMap((e) => (e.type === "node-started" || e.type === "node-finished" ? [`${e.type === "node-started" ? "+" : "-"}${e.nodeId}`] : []));
  assert.ok(order.indexOf("+stitch") < order.indexOf("-generate"), order.join(" "));
  assert.deepEqual(seen, ["load", "chunk", "generate", "stitch", "save"]);
  assert.deepEqual(ended, ["generate", "stitch"]);
  assert.ok(parts.get("generate")! > 1 && parts.get("stitch")! > 1, JSON.stringify([...parts]));
  const whole = new FakeHost({ inputs: { input: photo } });
  await runGraph(template("x4-chunked"), { registry: nodeRegistry, host: whole, wholeValues: true });
  assert.deepEqual(host.saved.get("output")!.data, whole.saved.get("output")!.data);
});

test("loop in map mode hands its tiles on as the body finishes each, and stitch makes the whole-value run's image", async () => {
  const photo = await loadPhoto("coffee.png", { left: 0, top: 0, width: 300, height: 200 });
  const graph = loopMapGraph("nearest-x2", { tileSize: 64, overlap: 8 });
  const host = new FakeHost({ inputs: { input: photo } });
  let parts = 0;
  let ended = false;
  await runGraph(graph, {
    registry: nodeRegistry,
    host,
    onOutputs: (nodeId, outputs) => {
      if (nodeId === "each") watchParts(outputs.tiles, { tile: () => parts++, band: () => {} }, () => (ended = true));
    },
  });
  assert.ok(ended && parts > 4, `${parts} tiles`);
  const whole = new FakeHost({ inputs: { input: photo } });
  await runGraph(graph, { registry: nodeRegistry, host: whole, wholeValues: true });
  assert.deepEqual(host.saved.get("output")!.data, whole.saved.get("output")!.data);
  assert.ok(maxAbsDifference(host.saved.get("output")!, nearestUpscale(photo, 2)) < 1e-6);
});
