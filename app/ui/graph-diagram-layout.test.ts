import assert from "node:assert/strict";
import { it } from "node:test";
import type { Graph } from "../../nodes/graph/schema";
import { builtInTemplates } from "../../nodes/templates/index";
import { fitText, layoutGraph, NODE_HEIGHT, NODE_WIDTH } from "./graph-diagram-layout";

const template = (id: string) => builtInTemplates.find((entry) => entry.id === id)!.graph;

it("places a loop's children relative to it, inside its box, and draws the container first", () => {
  const layout = layoutGraph(template("x16-loop"));
  const loop = layout.nodes.find((node) => node.id === "loop")!;
  const chunk = layout.nodes.find((node) => node.id === "chunk")!;
  assert.equal(layout.nodes[0].id, "loop");
  assert.equal(loop.container, true);
  assert.deepEqual([loop.x, loop.y, loop.width, loop.height], [220, 0, 760, 200]);
  assert.deepEqual([chunk.x, chunk.y, chunk.width, chunk.height], [260, 60, NODE_WIDTH, NODE_HEIGHT]);
  for (const child of layout.nodes.filter((node) => node.id !== "loop" && ["chunk", "generate", "stitch"].includes(node.id))) {
    assert.ok(child.x >= loop.x && child.x + child.width <= loop.x + loop.width, child.id);
    assert.ok(child.y >= loop.y && child.y + child.height <= loop.y + loop.height, child.id);
  }
  assert.equal(loop.detail, "repeat x2");
});

it("colours each edge by the type its source port carries and starts it at that port", () => {
  const layout = layoutGraph(template("x4-chunked"));
  const types = Object.fromEntries(layout.edges.map((edge) => [edge.id, edge.type]));
  assert.deepEqual(Object.values(types), ["image", "tiles", "tiles", "image"]);
  // load (0,0) has one output, on its right wall at mid height.
  assert.match(layout.edges[0].path, new RegExp(`^M ${NODE_WIDTH} ${NODE_HEIGHT / 2} `));
  const generate = layout.nodes.find((node) => node.id === "generate")!;
  assert.equal(generate.detail, "esrgan-thick-x4");
  assert.deepEqual(
    generate.ports.map((port) => port.type),
    ["tiles", "image", "tiles", "image"],
  );
  // The box around everything, with a margin.
  assert.deepEqual(layout.viewBox, { x: -24, y: -24, width: 960 + NODE_WIDTH + 48, height: NODE_HEIGHT + 48 });
});

it("fits a wire that loops back to an earlier column inside the picture", () => {
  const graph: Graph = {
    version: 1,
    nodes: [
      { id: "late", type: "resize", params: {}, position: { x: 600, y: 0 } },
      { id: "early", type: "resize", params: {}, position: { x: 0, y: 200 } },
    ],
    edges: [{ id: "back", source: "late", sourceHandle: "image", target: "early", targetHandle: "image" }],
  };
  // The curve leaves "late" to the right and enters "early" from the left, bulging past both.
  const { viewBox } = layoutGraph(graph);
  assert.ok(viewBox.x < -24 - 20, JSON.stringify(viewBox));
  assert.ok(viewBox.x + viewBox.width > 600 + NODE_WIDTH + 24 + 20, JSON.stringify(viewBox));
});

it("draws what it can of a broken draft: unknown types, missing parents, dangling edges, a parent cycle", () => {
  const graph: Graph = {
    version: 1,
    nodes: [
      { id: "a", type: "no-such-node", params: {}, position: { x: 0, y: 0 } },
      { id: "b", type: "chunk", params: {}, position: { x: 10, y: 10 }, parentId: "gone" },
      { id: "c", type: "loop", params: {}, position: { x: 300, y: 0 }, parentId: "d" },
      { id: "d", type: "loop", params: {}, position: { x: 0, y: 0 }, parentId: "c" },
    ],
    edges: [
      { id: "e1", source: "a", sourceHandle: "out", target: "b", targetHandle: "image" },
      { id: "e2", source: "a", sourceHandle: "out", target: "missing", targetHandle: "image" },
    ],
  };
  const layout = layoutGraph(graph);
  assert.equal(layout.nodes.length, 4);
  assert.deepEqual(layout.edges.map((edge) => [edge.id, edge.type]), [["e1", "image"]]);
  const unknown = layout.nodes.find((node) => node.id === "a")!;
  assert.deepEqual([unknown.label, unknown.ports.length], ["no-such-node", 0]);
  assert.match(unknown.tooltip, /unknown node type "no-such-node"/);
  assert.deepEqual(layoutGraph({ version: 1, nodes: [], edges: [] }).nodes, []);
});

it("cuts labels to the box", () => {
  assert.equal(fitText("generate", 160, 26), "generate");
  assert.equal(fitText("a very long model name indeed", 100, 20), "a very l…");
});
