import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeRegistry } from "../index";
import { builtInTemplates } from "../templates/index";
import { type GraphInput } from "./schema";
import { formatProblem, type GraphProblem, parseGraph, validateGraph } from "./validate";

function problemsOf(input: unknown): GraphProblem[] {
  const { graph, problems } = parseGraph(input);
  return graph ? validateGraph(graph, nodeRegistry) : problems;
}

const base = (): GraphInput => structuredClone(builtInTemplates.find((t) => t.id === "x4-chunked")!.graph);

test("every built-in template is a valid graph", () => {
  assert.deepEqual(builtInTemplates.map((t) => t.id), ["x4-chunked", "x4-real", "x8-twice", "x8-twice-real", "x8-direct", "x16-loop", "eval-x4", "eval-real-x4", "eval-x8"]);
  for (const template of builtInTemplates) {
    assert.deepEqual(problemsOf(template.graph).map(formatProblem), [], template.id);
  }
});

test("schema problems name the node or edge they are in", () => {
  const graph = base() as { nodes: unknown[]; edges: unknown[] };
  (graph.nodes[1] as { position: unknown }).position = { x: "left" };
  (graph.edges[0] as { target?: string }).target = undefined;
  const problems = problemsOf(graph);
  assert.ok(problems.some((p) => p.nodeId === "chunk" && /position\.x/.test(p.message)), JSON.stringify(problems));
  assert.ok(problems.some((p) => p.edgeId === "e1" && /target/.test(p.message)), JSON.stringify(problems));
  assert.match(formatProblem(problemsOf({ version: 2, nodes: [], edges: [] })[0]), /version/);
});

test("every semantic problem is reported at once, each on its node or edge", () => {
  const graph = base();
  graph.nodes.push({ id: "mystery", type: "sharpen", params: {} });
  graph.nodes.find((n) => n.id === "chunk")!.params = { tileSize: 99999, overlap: 16 };
  graph.nodes.find((n) => n.id === "generate")!.params = { model: "esrgan-thick-x4", colour: "red" };
  graph.edges.push({ id: "bad-type", source: "chunk", sourceHandle: "tiles", target: "save", targetHandle: "image" });
  graph.edges.push({ id: "no-port", source: "stitch", sourceHandle: "picture", target: "save", targetHandle: "image" });
  const problems = problemsOf(graph).map(formatProblem);
  const expected = [
    /node "mystery": unknown node type "sharpen"/,
    /node "chunk": param tileSize: .*4096/,
    /node "generate": unknown param "colour"/,
    /edge "bad-type": cannot connect tiles output "chunk.tiles" to image input "save.image"/,
    /edge "no-port": "stitch" has no output "picture" \(outputs: image\)/,
    /edge "bad-type": input "save.image" is already fed by edge "e4"/,
  ];
  for (const pattern of expected) assert.ok(problems.some((p) => pattern.test(p)), `${pattern} in\n${problems.join("\n")}`);
});

test("missing inputs, cycles and loop wiring are caught", () => {
  const graph = base();
  graph.edges = graph.edges.filter((e) => e.id !== "e1"); // load -> chunk
  graph.edges.push({ id: "back", source: "stitch", sourceHandle: "image", target: "chunk", targetHandle: "image" });
  const problems = problemsOf(graph).map(formatProblem);
  assert.ok(problems.some((p) => /node "chunk": sits on a cycle/.test(p)), problems.join("\n"));
  assert.ok(problems.some((p) => /node "stitch": sits on a cycle/.test(p)), problems.join("\n"));

  const unwired = base();
  unwired.edges = unwired.edges.filter((e) => e.id !== "e2"); // chunk -> generate
  const unwiredProblems = problemsOf(unwired).map(formatProblem);
  assert.ok(unwiredProblems.some((p) => /node "generate": connect exactly one input: tiles or image/.test(p)), unwiredProblems.join("\n"));

  const loop = structuredClone(builtInTemplates.find((t) => t.id === "x16-loop")!.graph) as GraphInput;
  loop.edges = loop.edges.filter((e) => e.targetHandle !== "body-out");
  loop.edges.push({ id: "escape", source: "stitch", sourceHandle: "image", target: "save", targetHandle: "image" });
  const loopProblems = problemsOf(loop).map(formatProblem);
  assert.ok(loopProblems.some((p) => /node "loop": loop body output "body-out" \(image\) is not connected/.test(p)), loopProblems.join("\n"));
  assert.ok(loopProblems.some((p) => /edge "escape": "stitch" and "save" sit in different containers/.test(p)), loopProblems.join("\n"));
});
