// Where a graph's thumbnail draws each node, port and edge: the saved canvas positions (children of a loop are
// relative to it, as in React Flow sub-flows), made absolute, with port types from the node catalogue.
import { type AnyNodeDefinition, inputPorts, outputPorts, type Ports } from "../../nodes/graph/define-node";
import type { Graph, GraphNode } from "../../nodes/graph/schema";
import type { PortType } from "../../nodes/graph/values";
import { nodeRegistry } from "../../nodes/index";

/** A plain node's box on the canvas (the editor's nodes are about this size at zoom 1). */
export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 72;
/** Space around a container's children when it has no saved size. */
const CONTAINER_PADDING = 40;
const MARGIN = 24;

export interface DiagramPort {
  x: number;
  y: number;
  type: PortType;
}

export interface DiagramNode {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
  container: boolean;
  label: string;
  /** A short summary of the params that matter most (model, tile size, ...). */
  detail?: string;
  /** Hover text: title, id and detail. */
  tooltip: string;
  ports: DiagramPort[];
}

export interface DiagramEdge {
  id: string;
  path: string;
  type?: PortType;
}

export interface DiagramLayout {
  viewBox: { x: number; y: number; width: number; height: number };
  /** Containers first (outer before inner), so children and edges draw on top of them. */
  nodes: DiagramNode[];
  edges: DiagramEdge[];
}

/** The node's params with the catalogue's defaults filled in (what the engine would run with). */
export function resolvedParams(definition: AnyNodeDefinition | undefined, node: GraphNode): Record<string, unknown> {
  if (!definition) return node.params;
  const parsed = definition.params.safeParse(node.params);
  return parsed.success ? (parsed.data as Record<string, unknown>) : node.params;
}

function detailOf(type: string, params: Record<string, unknown>): string | undefined {
  switch (type) {
    case "generate":
      return String(params.model);
    case "chunk":
      return `${params.tileSize} px tiles`;
    case "stitch":
      return `${params.blend} blend`;
    case "resize":
      return params.by === "size" ? `to ${params.width || "auto"}x${params.height || "auto"}` : `x${params.factor} ${params.kernel}`;
    case "degrade":
      return params.mode === "bicubic-down" ? `bicubic /${params.scale}` : `${params.mode} /${params.scale}`;
    case "loop":
      return params.mode === "map" ? "map over tiles" : `repeat x${params.times}`;
    case "metrics":
      return String(params.label);
    case "load-image":
      return String(params.input);
    case "save-image":
      return `${params.output}.${params.format === "jpeg" ? "jpg" : params.format}`;
    default:
      return undefined;
  }
}

interface Placed {
  node: GraphNode;
  definition?: AnyNodeDefinition;
  params: Record<string, unknown>;
  x: number;
  y: number;
  width: number;
  height: number;
  depth: number;
  inputs: Ports;
  outputs: Ports;
}

/** Ports of `ports` whose `internal` flag is `internal`, spread evenly down a side. */
function spread(ports: Ports, internal: boolean, x: number, top: number, height: number): Map<string, DiagramPort> {
  const names = Object.keys(ports).filter((name) => Boolean(ports[name].internal) === internal);
  return new Map(names.map((name, index) => [name, { x, y: top + (height * (index + 1)) / (names.length + 1), type: ports[name].type }]));
}

export function layoutGraph(graph: Graph): DiagramLayout {
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const placed = new Map<string, Placed>();

  // Absolute positions: a child's position is relative to its parent; a missing parent or a parent cycle
  // (an invalid graph can still be saved as a draft) counts as the canvas.
  const origin = (node: GraphNode, seen: Set<string>): { x: number; y: number; depth: number } => {
    const parent = node.parentId ? byId.get(node.parentId) : undefined;
    if (!parent || seen.has(parent.id)) return { x: node.position.x, y: node.position.y, depth: 0 };
    seen.add(parent.id);
    const base = origin(parent, seen);
    return { x: base.x + node.position.x, y: base.y + node.position.y, depth: base.depth + 1 };
  };
  for (const node of graph.nodes) {
    const definition = nodeRegistry.get(node.type);
    const params = resolvedParams(definition, node);
    const { x, y, depth } = origin(node, new Set([node.id]));
    placed.set(node.id, {
      node,
      definition,
      params,
      x,
      y,
      depth,
      width: node.width ?? NODE_WIDTH,
      height: node.height ?? NODE_HEIGHT,
      inputs: definition ? inputPorts(definition, params) : {},
      outputs: definition ? outputPorts(definition, params) : {},
    });
  }

  // A container without a saved size wraps its children; the deepest first, so an outer one wraps inner ones.
  const isContainer = (entry: Placed) => Boolean(entry.definition?.container) || graph.nodes.some((node) => node.parentId === entry.node.id);
  for (const entry of [...placed.values()].sort((a, b) => b.depth - a.depth)) {
    if (!isContainer(entry) || (entry.node.width && entry.node.height)) continue;
    const children = [...placed.values()].filter((child) => child.node.parentId === entry.node.id);
    if (!children.length) continue;
    const right = Math.max(...children.map((child) => child.x + child.width));
    const bottom = Math.max(...children.map((child) => child.y + child.height));
    entry.width = entry.node.width ?? Math.max(NODE_WIDTH, right + CONTAINER_PADDING - entry.x);
    entry.height = entry.node.height ?? Math.max(NODE_HEIGHT, bottom + CONTAINER_PADDING - entry.y);
  }

  // Outside handles on the outer walls (inputs left, outputs right); a container's inside handles on the same
  // walls, so a value reads as flowing through the wall into the body and back out.
  const inPorts = new Map<string, Map<string, DiagramPort>>();
  const outPorts = new Map<string, Map<string, DiagramPort>>();
  for (const entry of placed.values()) {
    const left = entry.x;
    const right = entry.x + entry.width;
    inPorts.set(entry.node.id, new Map([...spread(entry.inputs, false, left, entry.y, entry.height), ...spread(entry.inputs, true, right, entry.y, entry.height)]));
    outPorts.set(entry.node.id, new Map([...spread(entry.outputs, false, right, entry.y, entry.height), ...spread(entry.outputs, true, left, entry.y, entry.height)]));
  }

  const edges: DiagramEdge[] = [];
  // Where the curves reach: a wire looping back to an earlier column bulges past the nodes it joins.
  const curvePoints: { x: number; y: number }[] = [];
  for (const edge of graph.edges) {
    const source = placed.get(edge.source);
    const target = placed.get(edge.target);
    if (!source || !target) continue;
    const from = outPorts.get(edge.source)!.get(edge.sourceHandle);
    const to = inPorts.get(edge.target)!.get(edge.targetHandle);
    const start = from ?? { x: source.x + source.width, y: source.y + source.height / 2 };
    const end = to ?? { x: target.x, y: target.y + target.height / 2 };
    const bend = Math.max(40, Math.abs(end.x - start.x) / 2);
    for (let t = 0.1; t < 1; t += 0.1) {
      const [a, b, c, d] = [(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3];
      curvePoints.push({
        x: a * start.x + b * (start.x + bend) + c * (end.x - bend) + d * end.x,
        y: a * start.y + b * start.y + c * end.y + d * end.y,
      });
    }
    edges.push({
      id: edge.id,
      path: `M ${start.x} ${start.y} C ${start.x + bend} ${start.y}, ${end.x - bend} ${end.y}, ${end.x} ${end.y}`,
      type: from?.type ?? to?.type,
    });
  }

  const nodes: DiagramNode[] = [...placed.values()]
    .sort((a, b) => Number(isContainer(b)) - Number(isContainer(a)) || a.depth - b.depth)
    .map((entry) => {
      const title = entry.definition?.title ?? `unknown node type "${entry.node.type}"`;
      const detail = entry.definition ? detailOf(entry.node.type, entry.params) : undefined;
      const ports = [...inPorts.get(entry.node.id)!.values(), ...outPorts.get(entry.node.id)!.values()];
      return {
        id: entry.node.id,
        x: entry.x,
        y: entry.y,
        width: entry.width,
        height: entry.height,
        container: isContainer(entry),
        label: entry.node.label ?? entry.node.type,
        detail,
        tooltip: [`${title} (${entry.node.id})`, detail].filter(Boolean).join(": "),
        ports,
      };
    });

  const xs = [...nodes.flatMap((node) => [node.x, node.x + node.width]), ...curvePoints.map((point) => point.x)];
  const ys = [...nodes.flatMap((node) => [node.y, node.y + node.height]), ...curvePoints.map((point) => point.y)];
  const viewBox = nodes.length
    ? {
        x: Math.min(...xs) - MARGIN,
        y: Math.min(...ys) - MARGIN,
        width: Math.max(...xs) - Math.min(...xs) + 2 * MARGIN,
        height: Math.max(...ys) - Math.min(...ys) + 2 * MARGIN,
      }
    : { x: 0, y: 0, width: NODE_WIDTH, height: NODE_HEIGHT };
  return { viewBox, nodes, edges };
}

/** `text` cut with an ellipsis to what fits `width` at `fontSize` (an average glyph is ~0.55 em wide). */
export function fitText(text: string, width: number, fontSize: number): string {
  const max = Math.max(1, Math.floor(width / (fontSize * 0.55)));
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}
