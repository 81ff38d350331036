// The editor's canvas (React Flow nodes and edges) and the saved graph (nodes/graph/schema.ts) are two views of
// one thing; these functions convert between them and answer what the canvas asks: which ports a node has,
// which port type a handle carries, and whether a connection may be made (and why not).
import type { Connection, Edge, Node } from "@xyflow/react";
import { type AnyNodeDefinition, inputPorts, outputPorts, type PortSpec, type Ports } from "../../nodes/graph/define-node";
import { GRAPH_VERSION, type Graph, type GraphEdge, type GraphNode } from "../../nodes/graph/schema";
import { type GraphProblem, resolveParams, validateGraph } from "../../nodes/graph/validate";
import type { PortType } from "../../nodes/graph/values";
import { nodeRegistry } from "../../nodes/index";

export interface StudioNodeData extends Record<string, unknown> {
  /** The node type in the registry (load-image, chunk, ...). */
  nodeType: string;
  params: Record<string, unknown>;
  label?: string;
}

export type StudioNode = Node<StudioNodeData>;
export type StudioEdge = Edge<{ portType?: PortType }>;

/** React Flow's renderer per node: containers draw as resizable frames. */
export function rendererOf(nodeType: string): "studio" | "container" {
  return nodeRegistry.get(nodeType)?.container ? "container" : "studio";
}

export const CONTAINER_MIN = { width: 320, height: 180 };

export function definitionOf(nodeType: string): AnyNodeDefinition | undefined {
  return nodeRegistry.get(nodeType);
}

/** A node's ports for its current params (a loop's ports change with its mode). */
export function portsOfNode(data: StudioNodeData): { inputs: Ports; outputs: Ports } {
  const definition = definitionOf(data.nodeType);
  if (!definition) return { inputs: {}, outputs: {} };
  const params = resolveParams(definition, data.params);
  return { inputs: inputPorts(definition, params), outputs: outputPorts(definition, params) };
}

function portOf(nodes: readonly StudioNode[], nodeId: string, handle: string | null | undefined, side: "in" | "out"): PortSpec | undefined {
  const node = nodes.find((candidate) => candidate.id === nodeId);
  if (!node || !handle) return undefined;
  const ports = portsOfNode(node.data);
  return (side === "in" ? ports.inputs : ports.outputs)[handle];
}

/** React Flow wants parents before their children. */
function parentsFirst<T extends { id: string; parentId?: string }>(nodes: readonly T[]): T[] {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const placed = new Set<string>();
  const ordered: T[] = [];
  const place = (node: T, depth = 0) => {
    if (placed.has(node.id) || depth > nodes.length) return;
    const parent = node.parentId ? byId.get(node.parentId) : undefined;
    if (parent) place(parent, depth + 1);
    placed.add(node.id);
    ordered.push(node);
  };
  nodes.forEach((node) => place(node));
  return ordered;
}

export function edgeStyle(portType: PortType | undefined): StudioEdge["style"] {
  return { stroke: portType ? `var(--port-${portType})` : "var(--border-strong)", strokeWidth: 2 };
}

export function graphToFlow(graph: Graph): { nodes: StudioNode[]; edges: StudioEdge[] } {
  const nodes: StudioNode[] = parentsFirst(graph.nodes).map((node) => {
    const container = rendererOf(node.type) === "container";
    return {
      id: node.id,
      type: rendererOf(node.type),
      position: { ...node.position },
      ...(node.parentId ? { parentId: node.parentId } : {}),
      ...(container
        ? { width: node.width ?? 560, height: node.height ?? 220, style: { zIndex: -1 } }
        : {}),
      data: { nodeType: node.type, params: { ...node.params }, ...(node.label ? { label: node.label } : {}) },
    };
  });
  const edges = graph.edges.map((edge) => flowEdge(edge, nodes));
  return { nodes, edges };
}

export function flowEdge(edge: GraphEdge, nodes: readonly StudioNode[]): StudioEdge {
  const portType = portOf(nodes, edge.source, edge.sourceHandle, "out")?.type;
  return { ...edge, data: { portType }, style: edgeStyle(portType) };
}

export function flowToGraph(nodes: readonly StudioNode[], edges: readonly StudioEdge[], meta: { name?: string; description?: string } = {}): Graph {
  return {
    version: GRAPH_VERSION,
    ...(meta.name ? { name: meta.name } : {}),
    ...(meta.description ? { description: meta.description } : {}),
    nodes: nodes.map((node): GraphNode => {
      const container = node.type === "container";
      return {
        id: node.id,
        type: node.data.nodeType,
        params: node.data.params,
        position: { x: Math.round(node.position.x), y: Math.round(node.position.y) },
        ...(node.parentId ? { parentId: node.parentId } : {}),
        ...(node.data.label ? { label: node.data.label } : {}),
        ...(container
          ? { width: Math.round(node.width ?? node.measured?.width ?? 560), height: Math.round(node.height ?? node.measured?.height ?? 220) }
          : {}),
      };
    }),
    edges: edges.map(({ id, source, sourceHandle, target, targetHandle }) => ({
      id,
      source,
      sourceHandle: sourceHandle ?? "",
      target,
      targetHandle: targetHandle ?? "",
    })),
  };
}

/** The first id `prefix`, `prefix-2`, `prefix-3`... not taken. */
export function freshId(prefix: string, taken: ReadonlySet<string>): string {
  if (!taken.has(prefix)) return prefix;
  for (let n = 2; ; n++) if (!taken.has(`${prefix}-${n}`)) return `${prefix}-${n}`;
}

/** Why `connection` may not be made, or undefined when it may. An occupied input is replaced, not refused. */
export function connectionProblem(connection: Connection, nodes: readonly StudioNode[], edges: readonly StudioEdge[]): string | undefined {
  const { source, target, sourceHandle, targetHandle } = connection;
  if (source === target) return "a node cannot feed itself";
  const from = portOf(nodes, source, sourceHandle, "out");
  const to = portOf(nodes, target, targetHandle, "in");
  if (!from || !to) return "unknown port";
  if (from.type !== to.type) return `${from.label} (${from.type}) cannot feed ${to.label} (${to.type}): the types differ`;
  const candidate: StudioEdge = { id: "\u0000candidate", source, target, sourceHandle, targetHandle };
  const rest = edges.filter((edge) => !(edge.target === target && edge.targetHandle === targetHandle));
  const before = new Set(validateGraph(flowToGraph(nodes, rest), nodeRegistry).map(problemKey));
  const after = validateGraph(flowToGraph(nodes, [...rest, candidate]), nodeRegistry);
  const added = after.filter((problem) => !before.has(problemKey(problem)));
  const edgeProblem = added.find((problem) => problem.edgeId === candidate.id);
  if (edgeProblem) return edgeProblem.message;
  const cycle = added.find((problem) => problem.nodeId !== undefined && problem.message.startsWith("sits on a cycle"));
  return cycle ? "this connection would make a cycle; to repeat work, put it inside a loop container" : undefined;
}

function problemKey(problem: GraphProblem): string {
  return `${problem.nodeId ?? ""}|${problem.edgeId ?? ""}|${problem.message}`;
}

/** Problems per node and per edge, and those that belong to neither (e.g. "the graph has no nodes"). */
export function groupProblems(problems: readonly GraphProblem[]): {
  byNode: Map<string, string[]>;
  byEdge: Map<string, string[]>;
  general: string[];
} {
  const byNode = new Map<string, string[]>();
  const byEdge = new Map<string, string[]>();
  const general: string[] = [];
  for (const problem of problems) {
    if (problem.nodeId) byNode.set(problem.nodeId, [...(byNode.get(problem.nodeId) ?? []), problem.message]);
    else if (problem.edgeId) byEdge.set(problem.edgeId, [...(byEdge.get(problem.edgeId) ?? []), problem.message]);
    else general.push(problem.message);
  }
  return { byNode, byEdge, general };
}

/** Absolute canvas position of a node (children store positions relative to their container). */
export function absolutePosition(node: StudioNode, nodes: readonly StudioNode[]): { x: number; y: number } {
  let { x, y } = node.position;
  for (let parent = nodes.find((n) => n.id === node.parentId); parent; parent = nodes.find((n) => n.id === parent!.parentId)) {
    x += parent.position.x;
    y += parent.position.y;
  }
  return { x, y };
}
