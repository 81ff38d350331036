// Names Object.prototype already has ("constructor", "toString", "__proto__"...) as node types, params, handles
// and input names: validation looks them up as own properties, so each is refused where the node does not have
// it, with the node or edge and the name in the message. And params must be plain JSON.
import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeRegistry } from "../index";
import { builtInTemplates } from "../templates/index";
import { type GraphInput } from "./schema";
import { checkGraph, formatProblem, GraphValidationError, MAX_PARAM_DEPTH, ownPort, parseGraph, validateGraph } from "./validate";

function problemsOf(input: unknown): string[] {
  const { graph, problems } = parseGraph(input);
  return (graph ? validateGraph(graph, nodeRegistry) : problems).map(formatProblem);
}

const base = (): GraphInput => structuredClone(builtInTemplates.find((t) => t.id === "x4-chunked")!.graph);
const nodeOf = (graph: GraphInput, id: string) => graph.nodes.find((node) => node.id === id)!;
const paramsOf = (graph: GraphInput, id: string): Record<string, unknown> => (nodeOf(graph, id).params ??= {});

function assertProblem(input: unknown, pattern: RegExp): void {
  const problems = problemsOf(input);
  assert.ok(problems.some((problem) => pattern.test(problem)), `${pattern} in\n${problems.join("\n")}`);
}

test("params named like Object.prototype members are unknown params, named with the node's own", () => {
  for (const name of ["toString", "constructor", "valueOf", "hasOwnProperty", "toLocaleString", "isPrototypeOf"]) {
    const graph = base();
    paramsOf(graph, "stitch")[name] = "x";
    assertProblem(graph, new RegExp(`^node "stitch": unknown param "${name}" \\(stitch params: blend\\)$`));
  }
});

test("a __proto__ param (an own key, as JSON.parse makes one) is refused, not dropped without a word", () => {
  const graph = JSON.parse(JSON.stringify(base()).replace('"params":{"blend":"cosine"}', '"params":{"blend":"cosine","__proto__":{"blend":"crop"}}'));
  assert.ok(Object.hasOwn(graph.nodes[3].params, "__proto__"));
  assert.deepEqual(problemsOf(graph), ['node "stitch": unknown param "__proto__"']);
  assert.throws(() => checkGraph(graph, nodeRegistry), GraphValidationError);
});

test("handles named like Object.prototype members are ports the node does not have", () => {
  const into = base();
  into.edges[0].targetHandle = "toString";
  assertProblem(into, /^edge "e1": "chunk" has no input "toString" \(inputs: image\)$/);
  const out = base();
  out.edges[0].sourceHandle = "constructor";
  assertProblem(out, /^edge "e1": "load" has no output "constructor" \(outputs: image\)$/);
  // Both ends prototype members: their (missing) types used to compare equal, and the edge passed.
  const both = base();
  both.edges.push({ id: "added", source: "stitch", sourceHandle: "valueOf", target: "save", targetHandle: "toString" });
  assertProblem(both, /^edge "added": "stitch" has no output "valueOf"/);
  assertProblem(both, /^edge "added": "save" has no input "toString"/);
  assert.equal(ownPort({ image: { type: "image", label: "Image" } }, "constructor"), undefined);
});

test("node types named like Object.prototype members are unknown types", () => {
  for (const type of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
    const graph = base();
    nodeOf(graph, "stitch").type = type;
    assertProblem(graph, new RegExp(`^node "stitch": unknown node type "${type}"$`));
    assert.equal(nodeRegistry.get(type), undefined);
  }
});

test('"__proto__" cannot name a run input; "constructor" can', () => {
  const graph = base();
  paramsOf(graph, "load").input = "__proto__";
  assertProblem(graph, /^node "load": param input: "__proto__" cannot name a run input$/);
  paramsOf(graph, "load").input = "constructor";
  assert.deepEqual(problemsOf(graph), []);
});

test("ids named like Object.prototype members are only names", () => {
  const graph = base();
  nodeOf(graph, "load").id = "__proto__";
  graph.edges[0].source = "__proto__";
  graph.edges[0].id = "constructor";
  assert.deepEqual(problemsOf(graph), []);
});

test("params must be plain JSON, not nested too deep: each refusal names the node and the param", () => {
  const cases: [unknown, RegExp][] = [
    [10n, /^node "save": param extra: a bigint is not a JSON value$/],
    [new Date(0), /^node "save": param extra: a Date is not a JSON value$/],
    [new Map(), /^node "save": param extra: a Map is not a JSON value$/],
    [[1, NaN], /^node "save": param extra: NaN is not a finite number$/],
    [{ a: () => 1 }, /^node "save": param extra: a function is not a JSON value$/],
    [JSON.parse("[".repeat(20_000) + "]".repeat(20_000)), new RegExp(`^node "save": param extra: nested more than ${MAX_PARAM_DEPTH} levels deep$`)],
  ];
  for (const [value, pattern] of cases) {
    const graph = base();
    paramsOf(graph, "save").extra = value;
    assert.deepEqual(problemsOf(graph).filter((p) => /param extra/.test(p)).length, 1);
    assertProblem(graph, pattern);
  }
  const fine = base();
  paramsOf(fine, "save").format = "png";
  nodeOf(fine, "stitch").params = Object.assign(Object.create(null), { blend: "crop" });
  assert.deepEqual(problemsOf(fine), []);
  // A schema problem without an id still says where: the node's index.
  assert.deepEqual(problemsOf({ version: 1, nodes: [{ id: "", type: "save-image", params: { extra: 10n } }], edges: [] }).filter((p) => /nodes\[0\]: param/.test(p)), [
    "graph: nodes[0]: param extra: a bigint is not a JSON value",
  ]);
});
