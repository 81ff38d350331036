// A validated graph compiled for walking it: each node's definition and resolved params, where each input comes
// from, the nodes of each scope, and who reads what. The engine runs from it; the planner walks it the same way.
import type { NodeReader } from "./context";
import { type AnyNodeDefinition, inputPorts } from "./define-node";
import type { Graph, GraphNode } from "./schema";
import { type NodeRegistry, ownPort, resolveParams } from "./validate";

export interface Source {
  node: string;
  handle: string;
}

export interface Compiled {
  nodes: Map<string, GraphNode>;
  definitions: Map<string, AnyNodeDefinition>;
  params: Map<string, Record<string, unknown>>;
  /** node id -> input port -> where its value comes from */
  sources: Map<string, Map<string, Source>>;
  /** scope (container id, "" for the top level) -> its nodes */
  scopes: Map<string, GraphNode[]>;
  /** container id -> the source feeding its internal body-out handle */
  bodyResult: Map<string, Source>;
  /** node id -> the output ports something reads */
  consumed: Map<string, Set<string>>;
}

export function compileGraph(graph: Graph, registry: NodeRegistry): Compiled {
  const compiled: Compiled = {
    nodes: new Map(graph.nodes.map((node) => [node.id, node])),
    definitions: new Map(),
    params: new Map(),
    sources: new Map(),
    scopes: new Map(),
    bodyResult: new Map(),
    consumed: new Map(),
  };
  for (const node of graph.nodes) {
    const definition = registry.get(node.type)!;
    compiled.definitions.set(node.id, definition);
    compiled.params.set(node.id, resolveParams(definition, node.params));
    compiled.sources.set(node.id, new Map());
    compiled.consumed.set(node.id, new Set());
    const scope = node.parentId ?? "";
    compiled.scopes.set(scope, [...(compiled.scopes.get(scope) ?? []), node]);
  }
  for (const edge of graph.edges) {
    const target = compiled.nodes.get(edge.target)!;
    const port = ownPort(inputPorts(compiled.definitions.get(target.id)!, compiled.params.get(target.id)!), edge.targetHandle)!;
    const source = { node: edge.source, handle: edge.sourceHandle };
    compiled.consumed.get(edge.source)!.add(edge.sourceHandle);
    if (port.internal) compiled.bodyResult.set(target.id, source);
    else compiled.sources.get(target.id)!.set(edge.targetHandle, source);
  }
  return compiled;
}

/** The nodes that read a node's outputs; a container reading them stands for the body nodes reading its body-in. */
export function readersOf(compiled: Compiled, nodeId: string): NodeReader[] {
  const reading = (source: string) =>
    [...compiled.sources].filter(([, ports]) => [...ports.values()].some((from) => from.node === source)).map(([id]) => compiled.nodes.get(id)!);
  return reading(nodeId).flatMap((reader) =>
    compiled.definitions.get(reader.id)!.container ? reading(reader.id).filter((inner) => inner.parentId === reader.id) : [reader],
  ).map((reader) => ({ id: reader.id, type: reader.type, params: compiled.params.get(reader.id)! }));
}

