// How much bigger than its input a graph's saved outputs come out, read off the graph alone (no run): each
// node's effect on the size, followed from every save-image back to the image it was loaded from.
import type { Graph, GraphNode } from "../../nodes/graph/schema";
import { nodeRegistry } from "../../nodes/index";
import { resolvedParams } from "../ui/graph-diagram-layout";

/** A model's scale by id; undefined when unknown (then the graph's scale is too). */
export type ModelScale = (modelId: string) => number | undefined;

/**
 * The distinct output/input size ratios of the graph's save-image nodes, largest first; undefined when the
 * graph saves nothing or any saved size depends on something not known here (a resize to a fixed size, an
 * unknown model or node type, a missing wire).
 */
export function outputScales(graph: Graph, modelScale: ModelScale): number[] | undefined {
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const feeding = (nodeId: string, handle: string) => graph.edges.find((edge) => edge.target === nodeId && edge.targetHandle === handle);

  // The scale of what node `nodeId` puts out on `handle`, relative to the loaded image. `bodyIn` gives the
  // value of a loop's inside handle while its body is measured; `visiting` stops at a cycle.
  const scaleOf = (nodeId: string, handle: string, bodyIn: Map<string, number>, visiting: Set<string>): number | undefined => {
    const node = byId.get(nodeId);
    if (!node || visiting.has(`${nodeId}:${handle}`)) return undefined;
    const seen = new Set(visiting).add(`${nodeId}:${handle}`);
    const params = resolvedParams(nodeRegistry.get(node.type), node);
    const input = (name: string) => {
      const edge = feeding(nodeId, name);
      return edge ? scaleOf(edge.source, edge.sourceHandle, bodyIn, seen) : undefined;
    };
    return nodeScale(node, handle, params, input, bodyIn, modelScale, (loopId) => {
      const edge = feeding(loopId, "body-out");
      return edge ? scaleOf(edge.source, edge.sourceHandle, new Map(bodyIn).set(loopId, 1), seen) : undefined;
    });
  };

  const saves = graph.nodes.filter((node) => node.type === "save-image");
  if (!saves.length) return undefined;
  const scales: number[] = [];
  for (const save of saves) {
    const edge = feeding(save.id, "image");
    const scale = edge ? scaleOf(edge.source, edge.sourceHandle, new Map(), new Set()) : undefined;
    if (scale === undefined || !Number.isFinite(scale)) return undefined;
    const rounded = Math.round(scale * 1e6) / 1e6;
    if (!scales.includes(rounded)) scales.push(rounded);
  }
  return scales.sort((a, b) => b - a);
}

function nodeScale(
  node: GraphNode,
  handle: string,
  params: Record<string, unknown>,
  input: (name: string) => number | undefined,
  bodyIn: Map<string, number>,
  modelScale: ModelScale,
  bodyScale: (loopId: string) => number | undefined,
): number | undefined {
  const times = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a * b);
  switch (node.type) {
    case "load-image":
      return 1;
    case "degrade":
      return times(input("image"), 1 / Number(params.scale));
    case "resize":
      return params.by === "factor" ? times(input("image"), Number(params.factor)) : undefined;
    case "chunk":
      return input("image");
    case "stitch":
      return input("tiles");
    case "generate":
      return times(input("tiles") ?? input("image"), modelScale(String(params.model)));
    case "loop": {
      if (handle === "body-in") return bodyIn.get(node.id);
      const body = bodyScale(node.id);
      if (params.mode === "map") return times(input("tiles"), body);
      return times(input("image"), body === undefined ? undefined : body ** Number(params.times));
    }
    default:
      return undefined;
  }
}

/** "x4", "x8 and x1" (several outputs); 1 reads "same size". */
export function formatScales(scales: number[]): string {
  return scales.map((scale) => (scale === 1 ? "same size" : `x${Number(scale.toFixed(3))}`)).join(" and ");
}

/**
 * A model's scale from its id ("esrgan-thick-x4", "realesrgan-x4plus", "realesrgan-x4plus-anime" -> 4,
 * "realcugan-up2x-conservative" -> 2), for models the list does not know yet: the last "x<n>" or "<n>x" word part.
 */
export function scaleFromModelId(id: string): number | undefined {
  const matches = [...id.matchAll(/(?:^|[-_.])(?:x(\d+)[a-z]*|(?:up)?(\d+)x)(?=$|[-_.])/g)];
  const last = matches.at(-1);
  return last ? Number(last[1] ?? last[2]) : undefined;
}
