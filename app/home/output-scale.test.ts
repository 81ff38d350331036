import assert from "node:assert/strict";
import { it } from "node:test";
import type { Graph } from "../../nodes/graph/schema";
import { builtInTemplates } from "../../nodes/templates/index";
import { formatScales, outputScales, scaleFromModelId } from "./output-scale";

const template = (id: string) => builtInTemplates.find((entry) => entry.id === id)!.graph;

it("reads every built-in template's output scale off its graph", () => {
  const scales = Object.fromEntries(builtInTemplates.map(({ id, graph }) => [id, outputScales(graph, scaleFromModelId)]));
  assert.deepEqual(scales, {
    "x4-chunked": [4],
    "x4-real": [4],
    "x8-twice": [8],
    "x8-twice-real": [8],
    "x8-direct": [8],
    "x16-loop": [16],
    // Down by 4 (or 8), then back up: the evaluation saves an image the reference's size.
    "eval-x4": [1],
    "eval-real-x4": [1],
    "eval-x8": [1],
  });
});

it("uses the model list's scale and gives up on what it cannot know", () => {
  const graph = template("x4-chunked");
  assert.deepEqual(outputScales(graph, (id) => (id === "esrgan-thick-x4" ? 3 : undefined)), [3]);
  assert.equal(outputScales(graph, () => undefined), undefined);
  const toSize: Graph = {
    version: 1,
    nodes: [
      { id: "load", type: "load-image", params: {}, position: { x: 0, y: 0 } },
      { id: "resize", type: "resize", params: { by: "size", width: 640 }, position: { x: 200, y: 0 } },
      { id: "save", type: "save-image", params: {}, position: { x: 400, y: 0 } },
    ],
    edges: [
      { id: "a", source: "load", sourceHandle: "image", target: "resize", targetHandle: "image" },
      { id: "b", source: "resize", sourceHandle: "image", target: "save", targetHandle: "image" },
    ],
  };
  assert.equal(outputScales(toSize, scaleFromModelId), undefined);
  // A factor resize (the default) is known; an unwired save is not.
  assert.deepEqual(outputScales({ ...toSize, nodes: toSize.nodes.map((node) => (node.id === "resize" ? { ...node, params: {} } : node)) }, scaleFromModelId), [4]);
  assert.equal(outputScales({ ...toSize, edges: toSize.edges.slice(0, 1) }, scaleFromModelId), undefined);
  assert.equal(outputScales({ ...toSize, nodes: toSize.nodes.slice(0, 2), edges: toSize.edges.slice(0, 1) }, scaleFromModelId), undefined);
});

it("lists distinct scales of several outputs, largest first, and survives a cycle", () => {
  const graph: Graph = {
    version: 1,
    nodes: [
      { id: "load", type: "load-image", params: {}, position: { x: 0, y: 0 } },
      { id: "up", type: "resize", params: { factor: 2 }, position: { x: 200, y: 0 } },
      { id: "small", type: "save-image", params: { output: "small" }, position: { x: 400, y: 0 } },
      { id: "big", type: "save-image", params: { output: "big" }, position: { x: 400, y: 100 } },
    ],
    edges: [
      { id: "a", source: "load", sourceHandle: "image", target: "up", targetHandle: "image" },
      { id: "b", source: "load", sourceHandle: "image", target: "small", targetHandle: "image" },
      { id: "c", source: "up", sourceHandle: "image", target: "big", targetHandle: "image" },
    ],
  };
  assert.deepEqual(outputScales(graph, scaleFromModelId), [2, 1]);
  const cyclic = { ...graph, edges: [...graph.edges.slice(1), { id: "d", source: "up", sourceHandle: "image", target: "up", targetHandle: "image" }] };
  assert.equal(outputScales(cyclic, scaleFromModelId), undefined);
});

it("formats scales for a badge", () => {
  assert.equal(formatScales([8]), "x8");
  assert.equal(formatScales([2, 1]), "x2 and same size");
  assert.equal(formatScales([0.5]), "x0.5");
  assert.equal(scaleFromModelId("esrgan-thick-x8"), 8);
  assert.equal(scaleFromModelId("realesrgan-x4plus"), 4);
  assert.equal(scaleFromModelId("realesrgan-x4plus-anime"), 4);
  assert.equal(scaleFromModelId("realesr-animevideov3-x3"), 3);
  assert.equal(scaleFromModelId("realcugan-up2x-conservative"), 2);
  assert.equal(scaleFromModelId("my-model"), undefined);
  assert.equal(scaleFromModelId("max-model"), undefined);
});
