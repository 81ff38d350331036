import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { builtInTemplates } from "../../nodes/templates/index";
import { connectionProblem, flowToGraph, freshId, graphToFlow } from "./flow-graph";

const template = (slug: string) => builtInTemplates.find((candidate) => candidate.id === slug)!.graph;

describe("canvas <-> graph", () => {
  it("every built-in template survives the round trip unchanged, parents before children", () => {
    for (const { id, graph } of builtInTemplates) {
      const flow = graphToFlow(graph);
      const back = flowToGraph(flow.nodes, flow.edges, { name: graph.name, description: graph.description });
      assert.deepEqual(back, graph, id);
      const seen = new Set<string>();
      for (const node of flow.nodes) {
        if (node.parentId) assert.ok(seen.has(node.parentId), `${id}: ${node.id} comes after its parent`);
        seen.add(node.id);
      }
    }
  });

  it("edges are coloured by the port type they carry", () => {
    const { edges } = graphToFlow(template("x4-chunked"));
    const types = new Set(edges.map((edge) => edge.data?.portType));
    assert.deepEqual([...types].sort(), ["image", "tiles"]);
    for (const edge of edges) assert.equal(edge.style?.stroke, `var(--port-${edge.data?.portType})`);
  });
});

describe("connectionProblem", () => {
  const { nodes, edges } = graphToFlow(template("x4-chunked"));
  const ids = Object.fromEntries(nodes.map((node) => [node.data.nodeType, node.id]));

  it("refuses a tiles output into an image input, naming both types", () => {
    const problem = connectionProblem({ source: ids.chunk, sourceHandle: "tiles", target: ids["save-image"], targetHandle: "image" }, nodes, edges);
    assert.match(problem ?? "", /\(tiles\) cannot feed .*\(image\)/);
  });

  it("allows a matching connection, replacing the wire an input already has", () => {
    assert.equal(connectionProblem({ source: ids["load-image"], sourceHandle: "image", target: ids["save-image"], targetHandle: "image" }, nodes, edges), undefined);
  });

  it("refuses a connection that closes a cycle and one from a node to itself", () => {
    assert.match(connectionProblem({ source: ids.stitch, sourceHandle: "image", target: ids.chunk, targetHandle: "image" }, nodes, edges) ?? "", /cycle/);
    assert.match(connectionProblem({ source: ids.chunk, sourceHandle: "tiles", target: ids.chunk, targetHandle: "image" }, nodes, edges) ?? "", /itself/);
  });

  it("refuses wiring across a loop's frame except through its body handles", () => {
    const loop = graphToFlow(template("x16-loop"));
    assert.match(connectionProblem({ source: "load", sourceHandle: "image", target: "chunk", targetHandle: "image" }, loop.nodes, loop.edges) ?? "", /different containers/);
    assert.equal(connectionProblem({ source: "loop", sourceHandle: "body-in", target: "chunk", targetHandle: "image" }, loop.nodes, loop.edges), undefined);
  });
});

it("freshId numbers ids the way templates name them", () => {
  assert.equal(freshId("chunk", new Set()), "chunk");
  assert.equal(freshId("chunk", new Set(["chunk", "chunk-2"])), "chunk-3");
});
