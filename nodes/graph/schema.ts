import { z } from "zod";

export const GRAPH_VERSION = 1;

const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, "ids use letters, digits, '_', '-' and '.' only");

export const graphNodeSchema = z.object({
  id,
  type: z.string().min(1).max(64),
  params: z.record(z.string(), z.unknown()).default({}),
  position: z.object({ x: z.number().finite(), y: z.number().finite() }).default({ x: 0, y: 0 }),
  /** The loop container this node sits in (React Flow's sub-flow parentId). */
  parentId: id.optional(),
  label: z.string().max(120).optional(),
  /** Size of a container on the canvas. */
  width: z.number().positive().optional(),
  height: z.number().positive().optional(),
});

export const graphEdgeSchema = z.object({
  id,
  source: id,
  sourceHandle: z.string().min(1).max(64),
  target: id,
  targetHandle: z.string().min(1).max(64),
});

/** A pipeline graph as saved, exported, imported and sent to the API: close to React Flow's own shape. */
export const graphSchema = z.object({
  version: z.literal(GRAPH_VERSION),
  name: z.string().max(200).optional(),
  description: z.string().max(2000).optional(),
  nodes: z.array(graphNodeSchema).max(500),
  edges: z.array(graphEdgeSchema).max(2000),
});

export type GraphNode = z.output<typeof graphNodeSchema>;
export type GraphEdge = z.output<typeof graphEdgeSchema>;
export type Graph = z.output<typeof graphSchema>;
export type GraphInput = z.input<typeof graphSchema>;
