import type { Graph } from "./schema";

export interface ParamOverride {
  nodeId: string;
  param: string;
  value: unknown;
}

/** Parses `nodeId.param=value`; the value is read as JSON when it is JSON (numbers, booleans, arrays), else as text. */
export function parseOverride(text: string): ParamOverride {
  const match = /^([A-Za-z0-9_.-]+?)\.([A-Za-z0-9_]+)=(.*)$/s.exec(text);
  if (!match) throw new Error(`--set "${text}": expected nodeId.param=value`);
  const [, nodeId, param, raw] = match;
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // plain text, e.g. a model id
  }
  return { nodeId, param, value };
}

/** A copy of the graph with the overrides applied; an unknown node id is an error naming the known ones. */
export function applyOverrides(graph: Graph, overrides: ParamOverride[]): Graph {
  const nodes = graph.nodes.map((node) => ({ ...node, params: { ...node.params } }));
  for (const { nodeId, param, value } of overrides) {
    const node = nodes.find((candidate) => candidate.id === nodeId);
    if (!node) throw new Error(`no node "${nodeId}" in this pipeline (nodes: ${nodes.map((n) => n.id).join(", ")})`);
    node.params[param] = value;
  }
  return { ...graph, nodes };
}
