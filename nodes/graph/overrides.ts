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

/** An override the graph cannot take (a node it does not have): the caller's mistake. */
export class OverrideError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OverrideError";
  }
}

/**
 * A copy of the graph with the overrides applied; an unknown node id is an OverrideError naming the known ones.
 * Each param is set as an own property, whatever its name ("__proto__", "constructor"...), so validating the
 * result reports a param the node does not have instead of the override changing the params' prototype.
 */
export function applyOverrides(graph: Graph, overrides: ParamOverride[]): Graph {
  const nodes = graph.nodes.map((node) => ({ ...node, params: { ...node.params } }));
  for (const { nodeId, param, value } of overrides) {
    const node = nodes.find((candidate) => candidate.id === nodeId);
    if (!node) throw new OverrideError(`no node "${nodeId}" in this pipeline (nodes: ${nodes.map((n) => n.id).join(", ")})`);
    Object.defineProperty(node.params, param, { value, enumerable: true, writable: true, configurable: true });
  }
  return { ...graph, nodes };
}
