// The engine's onOutputs hook (node previews in the studio): every node's outputs, fresh or from the cache,
// with the iteration for nodes inside a container's body.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeHost } from "../../fixtures/fake-host";
import { loadPhoto } from "../../fixtures/photos";
import { runGraph } from "../../fixtures/run-graph";
import { nodeRegistry } from "../index";
import { builtInTemplates } from "../templates/index";
import { MemoryNodeCache } from "./cache";
import type { OutputValues } from "./define-node";
import type { EngineEvent } from "./events";
import type { Graph } from "./schema";
import { isTileSet } from "./values";

function template(id: string): Graph {
  const graph = structuredClone(builtInTemplates.find((t) => t.id === id)!.graph);
  for (const node of graph.nodes) if (node.type === "generate") node.params.model = "nearest-x2";
  return graph;
}

interface Seen {
  nodeId: string;
  iteration?: number;
  ports: string[];
  size?: [number, number];
}

function describeOutputs(nodeId: string, outputs: OutputValues, iteration?: number): Seen {
  const value = Object.values(outputs)[0];
  const size: [number, number] | undefined =
    value === undefined || typeof value === "number"
      ? undefined
      : isTileSet(value)
        ? [value.grid.sourceWidth * value.grid.scale, value.grid.sourceHeight * value.grid.scale]
        : [value.width, value.height];
  return { nodeId, iteration, ports: Object.keys(outputs), size };
}

test("onOutputs gets each node's outputs after it ran, and cache hits too", async () => {
  const photo = await loadPhoto("coffee.png", { left: 40, top: 30, width: 150, height: 100 });
  const host = new FakeHost({ inputs: { input: photo } });
  const cache = new MemoryNodeCache();
  const run = async (graph: Graph) => {
    const seen: Seen[] = [];
    const order: string[] = [];
    await runGraph(graph, {
      registry: nodeRegistry,
      host,
      cache,
      onEvent: (event: EngineEvent) => event.type === "node-finished" && order.push(`finished ${event.nodeId}`),
      onOutputs: (nodeId, outputs, iteration) => {
        seen.push(describeOutputs(nodeId, outputs, iteration));
        order.push(`outputs ${nodeId}`);
      },
    });
    return { seen, order };
  };
  const first = await run(template("x4-chunked"));
  assert.deepEqual(first.seen, [
    { nodeId: "load", iteration: undefined, ports: ["image"], size: [150, 100] },
    { nodeId: "chunk", iteration: undefined, ports: ["tiles"], size: [150, 100] },
    { nodeId: "generate", iteration: undefined, ports: ["tiles"], size: [300, 200] },
    { nodeId: "stitch", iteration: undefined, ports: ["image"], size: [300, 200] },
    { nodeId: "save", iteration: undefined, ports: [], size: undefined },
  ]);
  // Told after the node has finished, never before.
  for (const nodeId of ["load", "chunk", "generate", "stitch", "save"]) {
    assert.ok(first.order.indexOf(`finished ${nodeId}`) < first.order.indexOf(`outputs ${nodeId}`), first.order.join(", "));
  }
  // The same graph again: everything but the side effect comes from the cache, and is reported all the same.
  const again = await run(template("x4-chunked"));
  assert.deepEqual(again.seen, first.seen);
});

test("onOutputs reports nodes inside a loop once per iteration, with the iteration", async () => {
  const photo = await loadPhoto("chelsea.png", { left: 100, top: 50, width: 40, height: 30 });
  const host = new FakeHost({ inputs: { input: photo } });
  const seen: Seen[] = [];
  await runGraph(template("x16-loop"), {
    registry: nodeRegistry,
    host,
    onOutputs: (nodeId, outputs, iteration) => seen.push(describeOutputs(nodeId, outputs, iteration)),
  });
  const inner = seen.filter((entry) => entry.nodeId === "stitch");
  assert.deepEqual(inner.map((entry) => [entry.iteration, entry.size]), [
    [0, [80, 60]],
    [1, [160, 120]],
  ]);
  assert.deepEqual(seen.find((entry) => entry.nodeId === "loop"), { nodeId: "loop", iteration: undefined, ports: ["image"], size: [160, 120] });
});
