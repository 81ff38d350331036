import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeHost, maxAbsDifference, nearestUpscale } from "../../fixtures/fake-host";
import { StubHost } from "../../fixtures/fuzz-graphs";
import { loopMapGraph } from "../../fixtures/graphs";
import { loadPhoto } from "../../fixtures/photos";
import { runGraph } from "../../fixtures/run-graph";
import { nodeRegistry } from "../index";
import { builtInTemplates } from "../templates/index";
import { MemoryNodeCache } from "./cache";
import { CanceledError } from "./define-node";
import { NodeRunError } from "./engine";
import type { EngineEvent } from "./events";
import type { Graph } from "./schema";

function template(id: string, model = "nearest-x2"): Graph {
  const graph = structuredClone(builtInTemplates.find((t) => t.id === id)!.graph);
  for (const node of graph.nodes) if (node.type === "generate") node.params.model = model;
  return graph;
}

function setParam(graph: Graph, nodeId: string, param: string, value: unknown): Graph {
  const copy = structuredClone(graph);
  copy.nodes.find((node) => node.id === nodeId)!.params[param] = value;
  return copy;
}

test("runs chunk -> generate -> stitch in order with progress, on a real photo", async () => {
  const photo = await loadPhoto("chelsea.png");
  const host = new FakeHost({ inputs: { input: photo } });
  const events: EngineEvent[] = [];
  const result = await runGraph(template("x4-chunked"), { registry: nodeRegistry, host, onEvent: (e) => events.push(e) });
  assert.ok(maxAbsDifference(host.saved.get("output")!, nearestUpscale(photo, 2)) < 1e-6);
  assert.deepEqual(result.nodes.map((n) => n.id), ["load", "chunk", "generate", "stitch", "save"]);
  const started = events.filter((e) => e.type === "node-started").map((e) => (e as { nodeId: string }).nodeId);
  assert.deepEqual(started, ["load", "chunk", "generate", "stitch", "save"]);
  const progress = events.filter((e) => e.type === "node-progress" && e.nodeId === "generate") as Extract<EngineEvent, { type: "node-progress" }>[];
  assert.equal(progress.at(-1)!.done, 12);
  assert.equal(progress.at(-1)!.total, 12);
  assert.equal(host.inferCalls.length, 12);
});

test("a re-run only executes the changed node and what is downstream of it", async () => {
  const photo = await loadPhoto("coffee.png", { left: 0, top: 0, width: 300, height: 200 });
  const host = new FakeHost({ inputs: { input: photo } });
  const cache = new MemoryNodeCache();
  const ran = async (graph: Graph) => {
    const events: EngineEvent[] = [];
    await runGraph(graph, { registry: nodeRegistry, host, cache, onEvent: (e) => events.push(e) });
    return events.filter((e) => e.type === "node-started").map((e) => (e as { nodeId: string }).nodeId);
  };
  const graph = template("x4-chunked");
  assert.deepEqual(await ran(graph), ["load", "chunk", "generate", "stitch", "save"]);
  assert.deepEqual(await ran(graph), ["save"], "unchanged: only the side effect runs again");
  assert.deepEqual(await ran(setParam(graph, "stitch", "blend", "linear")), ["stitch", "save"]);
  assert.deepEqual(await ran(setParam(graph, "chunk", "tileSize", 96)), ["chunk", "generate", "stitch", "save"]);
  assert.ok(maxAbsDifference(host.saved.get("output")!, nearestUpscale(photo, 2)) < 1e-6);
});

test("cancel stops within one tile and saves nothing", async () => {
  const photo = await loadPhoto("astronaut.png");
  const host = new FakeHost({ inputs: { input: photo }, inferDelayMs: 40 });
  const controller = new AbortController();
  const events: EngineEvent[] = [];
  const run = runGraph(template("x4-chunked"), {
    registry: nodeRegistry,
    host,
    signal: controller.signal,
    onEvent: (event) => {
      events.push(event);
      if (event.type === "node-progress" && event.nodeId === "generate" && event.done === 3) controller.abort();
    },
  });
  await assert.rejects(run, CanceledError);
  assert.ok(host.inferCalls.length <= 4, `${host.inferCalls.length} tiles ran after cancel at 3`);
  assert.equal(host.saved.size, 0);
  assert.ok(events.some((e) => e.type === "node-canceled" && e.nodeId === "generate"));
});

test("a tile that runs out of memory is retried at half size, with the same result", async () => {
  const photo = await loadPhoto("rocket.jpg", { left: 200, top: 100, width: 200, height: 150 });
  const host = new FakeHost({ inputs: { input: photo }, oomAbovePixels: 48 * 48 });
  const logs: string[] = [];
  const graph = setParam(template("x4-chunked"), "generate", "batchSize", 2);
  await runGraph(graph, { registry: nodeRegistry, host, onEvent: (e) => e.type === "node-log" && logs.push(e.message) });
  assert.ok(maxAbsDifference(host.saved.get("output")!, nearestUpscale(photo, 2)) < 1e-6);
  assert.ok(logs.some((m) => /batch of 2 ran out of memory/.test(m)), logs.join("\n"));
  assert.ok(logs.some((m) => /a 128x128 tile ran out of memory; retried at 72x72/.test(m)), logs.join("\n"));
  assert.ok(logs.some((m) => /a 72x72 tile ran out of memory; retried at 44x44/.test(m)), logs.join("\n"));
});

test("loop repeat runs its body twice; loop map runs it per tile", async () => {
  const photo = await loadPhoto("grace_hopper.jpg", { left: 100, top: 100, width: 120, height: 90 });
  const host = new FakeHost({ inputs: { input: photo } });
  const events: EngineEvent[] = [];
  await runGraph(template("x16-loop"), { registry: nodeRegistry, host, onEvent: (e) => events.push(e) });
  assert.ok(maxAbsDifference(host.saved.get("output")!, nearestUpscale(photo, 4)) < 1e-6);
  const passes = events.filter((e) => e.type === "node-started" && e.nodeId === "generate").map((e) => (e as { iteration?: number }).iteration);
  assert.deepEqual(passes, [0, 1]);

  const map = loopMapGraph("nearest-x3", { tileSize: 48, overlap: 8 });
  await runGraph(map, { registry: nodeRegistry, host });
  assert.ok(maxAbsDifference(host.saved.get("output")!, nearestUpscale(photo, 3)) < 1e-6);
});

test("a failing node is named in the error and in a node-failed event", async () => {
  const photo = await loadPhoto("chelsea.png", { left: 0, top: 0, width: 64, height: 64 });
  const host = new FakeHost({ inputs: { input: photo } });
  const events: EngineEvent[] = [];
  const run = runGraph(template("x4-chunked", "no-such-model"), { registry: nodeRegistry, host, onEvent: (e) => events.push(e) });
  await assert.rejects(run, (error: unknown) => error instanceof NodeRunError && error.nodeId === "generate" && /unknown model "no-such-model"/.test(error.message));
  assert.ok(events.some((e) => e.type === "node-failed" && e.nodeId === "generate"));
  assert.equal(host.saved.size, 0);
});

test("a run input that cannot be read fails its load-image node, also when the cache reads the input's identity first", async () => {
  for (const cache of [undefined, new MemoryNodeCache()]) {
    const host = new StubHost(new Map()); // its inputKey fails too, as the server's does for a missing file
    const events: EngineEvent[] = [];
    const run = runGraph(template("x4-chunked"), { registry: nodeRegistry, host, cache, onEvent: (e) => events.push(e) });
    await assert.rejects(run, (error: unknown) => error instanceof NodeRunError && error.nodeId === "load" && /^node "load" \(load-image\): the run has no input named "input"$/.test(error.message));
    assert.ok(events.some((e) => e.type === "node-failed" && e.nodeId === "load"), JSON.stringify(events));
    assert.equal(host.saved.size, 0);
  }
});
