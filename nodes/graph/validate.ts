import type { z } from "zod";
import { type AnyNodeDefinition, inputPorts, outputPorts, type Ports, type PortSpec } from "./define-node";
import { type Graph, type GraphEdge, type GraphNode, graphSchema } from "./schema";

export interface GraphProblem {
  nodeId?: string;
  edgeId?: string;
  message: string;
}

export type NodeRegistry = ReadonlyMap<string, AnyNodeDefinition>;

export class GraphValidationError extends Error {
  constructor(readonly problems: GraphProblem[]) {
    super(`invalid graph: ${problems.map(formatProblem).join("; ")}`);
    this.name = "GraphValidationError";
  }
}

export function formatProblem(problem: GraphProblem): string {
  const where = problem.nodeId ? `node "${problem.nodeId}"` : problem.edgeId ? `edge "${problem.edgeId}"` : "graph";
  return `${where}: ${problem.message}`;
}

/**
 * A port by name, only if the node really has it: `ports[name]` would also find Object.prototype's members
 * ("constructor", "toString", "__proto__"...).
 */
export function ownPort(ports: Ports, name: string): PortSpec | undefined {
  return Object.hasOwn(ports, name) ? ports[name] : undefined;
}

/** Schema check: returns the parsed graph or the problems, each pinned to the node or edge it is about. */
export function parseGraph(input: unknown): { graph?: Graph; problems: GraphProblem[] } {
  const result = graphSchema.safeParse(input);
  const problems = result.success ? [] : result.error.issues.map((issue) => problemFromIssue(input, issue));
  problems.push(...rawParamProblems(input));
  if (result.success && problems.length === 0) return { graph: result.data, problems };
  return { problems };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The raw `nodes[index]` of an input the schema refused (own properties only). */
function rawItem(input: unknown, list: "nodes" | "edges", index: number): unknown {
  const items = isRecord(input) && Object.hasOwn(input, list) ? input[list] : undefined;
  return Array.isArray(items) && Object.hasOwn(items, index) ? items[index] : undefined;
}

/** Params nested deeper than this are refused (a graph is stored as JSON, and nothing real nests so deep). */
export const MAX_PARAM_DEPTH = 32;

/**
 * What the schema cannot see in node params, which it parses as a record of anything: an own "__proto__" key
 * (as JSON.parse makes one; the record parser drops it without a word) and values that are not JSON (bigints,
 * functions, NaN, Dates, Maps... from in-process or superjson callers), or nest too deep to store.
 */
export function rawParamProblems(input: unknown): GraphProblem[] {
  const nodes = isRecord(input) && Object.hasOwn(input, "nodes") ? input.nodes : undefined;
  if (!Array.isArray(nodes)) return [];
  const problems: GraphProblem[] = [];
  nodes.forEach((node: unknown, index) => {
    if (!isRecord(node) || !Object.hasOwn(node, "params") || !isRecord(node.params)) return;
    const where = typeof node.id === "string" && node.id ? { nodeId: node.id } : undefined;
    const problem = (message: string): GraphProblem => (where ? { ...where, message } : { message: `nodes[${index}]: ${message}` });
    for (const key of Object.keys(node.params)) {
      if (key === "__proto__") {
        problems.push(problem(`unknown param "__proto__"`));
        continue;
      }
      const why = notJson(node.params[key], 1);
      if (why) problems.push(problem(`param ${key}: ${why}`));
    }
  });
  return problems;
}

/** Why a value is not plain JSON (or nests deeper than MAX_PARAM_DEPTH), or undefined when it is. */
function notJson(value: unknown, depth: number): string | undefined {
  if (value === null || value === undefined || typeof value === "string" || typeof value === "boolean") return undefined;
  if (typeof value === "number") return Number.isFinite(value) ? undefined : `${value} is not a finite number`;
  if (typeof value !== "object") return `a ${typeof value} is not a JSON value`;
  if (depth > MAX_PARAM_DEPTH) return `nested more than ${MAX_PARAM_DEPTH} levels deep`;
  if (Array.isArray(value)) {
    for (const item of value) {
      const why = notJson(item, depth + 1);
      if (why) return why;
    }
    return undefined;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return `a ${value.constructor?.name ?? "non-plain object"} is not a JSON value`;
  for (const item of Object.values(value)) {
    const why = notJson(item, depth + 1);
    if (why) return why;
  }
  return undefined;
}

function problemFromIssue(input: unknown, issue: z.core.$ZodIssue): GraphProblem {
  const [list, index, ...rest] = issue.path;
  const field = rest.join(".");
  if ((list === "nodes" || list === "edges") && typeof index === "number") {
    const item = rawItem(input, list, index);
    const itemId = isRecord(item) && typeof item.id === "string" && item.id ? item.id : undefined;
    const message = `${field ? `${field}: ` : ""}${issue.message}`;
    if (itemId) return list === "nodes" ? { nodeId: itemId, message } : { edgeId: itemId, message };
    return { message: `${list}[${index}]${field ? `.${field}` : ""}: ${issue.message}` };
  }
  return { message: `${issue.path.join(".") || "graph"}: ${issue.message}` };
}

/** A node's params with defaults filled in; the defaults alone when the given ones are invalid. */
export function resolveParams(definition: AnyNodeDefinition, params: Record<string, unknown>): Record<string, unknown> {
  const parsed = definition.params.safeParse(params);
  return parsed.success ? parsed.data : definition.params.parse({});
}

/** The scope an edge belongs to: the container whose body it wires, or undefined for the top level. */
function edgeScope(edge: GraphEdge, nodes: Map<string, GraphNode>, registry: NodeRegistry): string | undefined | null {
  const source = nodes.get(edge.source);
  const target = nodes.get(edge.target);
  if (!source || !target) return null;
  const sourcePorts = portsOf(source, registry, "out");
  const targetPorts = portsOf(target, registry, "in");
  if (sourcePorts && ownPort(sourcePorts, edge.sourceHandle)?.internal) return source.id;
  if (targetPorts && ownPort(targetPorts, edge.targetHandle)?.internal) return target.id;
  return source.parentId;
}

function portsOf(node: GraphNode, registry: NodeRegistry, side: "in" | "out"): Ports | undefined {
  const definition = registry.get(node.type);
  if (!definition) return undefined;
  const params = resolveParams(definition, node.params);
  return side === "in" ? inputPorts(definition, params) : outputPorts(definition, params);
}

/** Every semantic problem in a schema-valid graph, each with the node or edge it belongs to. */
export function validateGraph(graph: Graph, registry: NodeRegistry): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const nodes = new Map<string, GraphNode>();
  for (const node of graph.nodes) {
    if (nodes.has(node.id)) problems.push({ nodeId: node.id, message: "duplicate node id" });
    nodes.set(node.id, node);
  }
  const edgeIds = new Set<string>();
  for (const edge of graph.edges) {
    if (edgeIds.has(edge.id)) problems.push({ edgeId: edge.id, message: "duplicate edge id" });
    edgeIds.add(edge.id);
  }
  if (graph.nodes.length === 0) problems.push({ message: "the graph has no nodes" });

  for (const node of nodes.values()) {
    const definition = registry.get(node.type);
    if (!definition) {
      problems.push({ nodeId: node.id, message: `unknown node type "${node.type}"` });
      continue;
    }
    const parsed = definition.params.safeParse(node.params);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push({ nodeId: node.id, message: `param ${issue.path.join(".") || "(params)"}: ${issue.message}` });
      }
    }
    const known = Object.keys(definition.params.shape);
    for (const key of Object.keys(node.params)) {
      if (!Object.hasOwn(definition.params.shape, key)) {
        problems.push({ nodeId: node.id, message: `unknown param "${key}" (${node.type} params: ${known.join(", ") || "none"})` });
      }
    }
    if (node.parentId !== undefined) {
      const parent = nodes.get(node.parentId);
      if (!parent) problems.push({ nodeId: node.id, message: `parent "${node.parentId}" does not exist` });
      else if (!registry.get(parent.type)?.container) {
        problems.push({ nodeId: node.id, message: `parent "${node.parentId}" (${parent.type}) is not a container` });
      }
    }
    if (definition.container && ![...nodes.values()].some((child) => child.parentId === node.id)) {
      problems.push({ nodeId: node.id, message: "the loop body is empty: drop nodes into the container" });
    }
  }
  problems.push(...parentCycleProblems(nodes));

  const connected = new Map<string, Set<string>>();
  const consumed = new Map<string, Set<string>>();
  const incoming = new Map<string, string>();
  for (const edge of graph.edges) {
    const source = nodes.get(edge.source);
    const target = nodes.get(edge.target);
    if (!source) problems.push({ edgeId: edge.id, message: `source node "${edge.source}" does not exist` });
    if (!target) problems.push({ edgeId: edge.id, message: `target node "${edge.target}" does not exist` });
    if (!source || !target) continue;
    if (source.id === target.id) {
      problems.push({ edgeId: edge.id, message: `node "${source.id}" is wired to itself` });
      continue;
    }
    const sourcePorts = portsOf(source, registry, "out");
    const targetPorts = portsOf(target, registry, "in");
    if (!sourcePorts || !targetPorts) continue; // unknown type, reported above
    const sourcePort = ownPort(sourcePorts, edge.sourceHandle);
    const targetPort = ownPort(targetPorts, edge.targetHandle);
    if (!sourcePort) {
      problems.push({ edgeId: edge.id, message: `"${source.id}" has no output "${edge.sourceHandle}" (outputs: ${names(sourcePorts)})` });
    }
    if (!targetPort) {
      problems.push({ edgeId: edge.id, message: `"${target.id}" has no input "${edge.targetHandle}" (inputs: ${names(targetPorts)})` });
    }
    if (!sourcePort || !targetPort) continue;
    if (sourcePort.type !== targetPort.type) {
      problems.push({
        edgeId: edge.id,
        message: `cannot connect ${sourcePort.type} output "${source.id}.${edge.sourceHandle}" to ${targetPort.type} input "${target.id}.${edge.targetHandle}"`,
      });
    }
    const scopeProblem = crossScopeProblem(source, sourcePort.internal, target, targetPort.internal);
    if (scopeProblem) problems.push({ edgeId: edge.id, message: scopeProblem });
    const key = `${target.id}\u0000${edge.targetHandle}`;
    const previous = incoming.get(key);
    if (previous) {
      problems.push({ edgeId: edge.id, message: `input "${target.id}.${edge.targetHandle}" is already fed by edge "${previous}"` });
    }
    incoming.set(key, edge.id);
    if (!connected.has(target.id)) connected.set(target.id, new Set());
    connected.get(target.id)!.add(edge.targetHandle);
    if (!consumed.has(source.id)) consumed.set(source.id, new Set());
    consumed.get(source.id)!.add(edge.sourceHandle);
  }

  for (const node of nodes.values()) {
    const definition = registry.get(node.type);
    if (!definition) continue;
    const params = resolveParams(definition, node.params);
    const wired = connected.get(node.id) ?? new Set<string>();
    for (const [name, port] of Object.entries(inputPorts(definition, params))) {
      if (!port.optional && !wired.has(name)) {
        problems.push({ nodeId: node.id, message: `${port.internal ? "loop body output" : "input"} "${name}" (${port.type}) is not connected` });
      }
    }
    for (const message of definition.check?.({ params, connected: wired, consumed: consumed.get(node.id) ?? new Set() }) ?? []) {
      problems.push({ nodeId: node.id, message });
    }
  }

  problems.push(...cycleProblems(graph, nodes, registry));
  return problems;
}

function names(ports: Ports): string {
  return Object.keys(ports).join(", ") || "none";
}

function crossScopeProblem(source: GraphNode, sourceInternal: boolean | undefined, target: GraphNode, targetInternal: boolean | undefined): string | undefined {
  if (sourceInternal && targetInternal) return "a loop's body-in cannot feed a body-out directly";
  if (sourceInternal) {
    return target.parentId === source.id ? undefined : `"${source.id}" body-in can only feed nodes inside that loop`;
  }
  if (targetInternal) {
    return source.parentId === target.id ? undefined : `only nodes inside loop "${target.id}" can feed its body-out`;
  }
  if (source.parentId !== target.parentId) {
    return `"${source.id}" and "${target.id}" sit in different containers; wire values into a loop through its body-in handle`;
  }
  return undefined;
}

function parentCycleProblems(nodes: Map<string, GraphNode>): GraphProblem[] {
  const problems: GraphProblem[] = [];
  for (const node of nodes.values()) {
    const seen = new Set<string>([node.id]);
    for (let parent = node.parentId; parent !== undefined; parent = nodes.get(parent)?.parentId) {
      if (seen.has(parent)) {
        problems.push({ nodeId: node.id, message: "containers are nested inside each other in a circle" });
        break;
      }
      seen.add(parent);
    }
  }
  return problems;
}

/** Kahn's algorithm per scope: whatever is left unsorted sits on a cycle. */
function cycleProblems(graph: Graph, nodes: Map<string, GraphNode>, registry: NodeRegistry): GraphProblem[] {
  const pending = new Map<string, number>();
  const next = new Map<string, string[]>();
  for (const node of nodes.values()) pending.set(node.id, 0);
  for (const edge of graph.edges) {
    const scope = edgeScope(edge, nodes, registry);
    if (scope === null || scope === edge.source || scope === edge.target) continue; // container wiring is not a dependency inside the scope
    pending.set(edge.target, (pending.get(edge.target) ?? 0) + 1);
    next.set(edge.source, [...(next.get(edge.source) ?? []), edge.target]);
  }
  const ready = [...pending].filter(([, count]) => count === 0).map(([nodeId]) => nodeId);
  while (ready.length) {
    const nodeId = ready.pop()!;
    pending.delete(nodeId);
    for (const target of next.get(nodeId) ?? []) {
      const count = pending.get(target)! - 1;
      pending.set(target, count);
      if (count === 0) ready.push(target);
    }
  }
  return [...pending.keys()].map((nodeId) => ({
    nodeId,
    message: "sits on a cycle; to repeat work, put it inside a loop container instead",
  }));
}

/** Parses and validates; throws one error listing every problem. */
export function checkGraph(input: unknown, registry: NodeRegistry): Graph {
  const { graph, problems } = parseGraph(input);
  if (!graph) throw new GraphValidationError(problems);
  const semantic = validateGraph(graph, registry);
  if (semantic.length) throw new GraphValidationError(semantic);
  return graph;
}
