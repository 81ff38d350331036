import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeRegistry } from "../index";
import { builtInTemplates } from "../templates/index";
import { applyOverrides, OverrideError, parseOverride } from "./overrides";
import { checkGraph, GraphValidationError } from "./validate";

const x4 = () => checkGraph(builtInTemplates.find((t) => t.id === "x4-chunked")!.graph, nodeRegistry);

test("overrides replace params in a copy; an unknown node is an OverrideError naming the known ones", () => {
  const graph = x4();
  const changed = applyOverrides(graph, [parseOverride("chunk.tileSize=96"), parseOverride("generate.model=esrgan-slim-x4")]);
  assert.equal(changed.nodes.find((n) => n.id === "chunk")!.params.tileSize, 96);
  assert.equal(changed.nodes.find((n) => n.id === "generate")!.params.model, "esrgan-slim-x4");
  assert.equal(graph.nodes.find((n) => n.id === "chunk")!.params.tileSize, "auto", "the original is untouched");
  assert.throws(
    () => applyOverrides(graph, [{ nodeId: "constructor", param: "tileSize", value: 1 }]),
    (error: unknown) => error instanceof OverrideError && /^no node "constructor" in this pipeline \(nodes: load, chunk, generate, stitch, save\)$/.test(error.message),
  );
});

test("an override of a param named like an Object.prototype member sets an own param, which validation refuses", () => {
  for (const param of ["__proto__", "constructor", "toString"]) {
    const changed = applyOverrides(x4(), [{ nodeId: "stitch", param, value: { blend: "crop" } }]);
    const params = changed.nodes.find((n) => n.id === "stitch")!.params;
    assert.ok(Object.hasOwn(params, param), param);
    assert.equal(Object.getPrototypeOf(params), Object.prototype, `${param}: the params' prototype is unchanged`);
    assert.throws(
      () => checkGraph(changed, nodeRegistry),
      (error: unknown) => error instanceof GraphValidationError && error.problems.some((p) => p.nodeId === "stitch" && p.message.startsWith(`unknown param "${param}"`)),
      param,
    );
  }
});
