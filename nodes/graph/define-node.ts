import type { z } from "zod";
import type { ModelCost } from "../image/tile-plan";
import type { PlanContext, RunContext } from "./context";
import type { ModelHost } from "./host";
import type { NodePlanResult, PlanValue } from "./plan";
import type { PortType, PortValue, PortValues } from "./values";

export interface PortSpec {
  type: PortType;
  label: string;
  /** An input that may stay unconnected. */
  optional?: boolean;
  /** A container's handle on the inside, wired to the nodes it contains (a loop's body-in / body-out). */
  internal?: boolean;
}
export type Ports = Record<string, PortSpec>;

export type NodeCategory = "Input/Output" | "Degrade" | "Tiling" | "Generate" | "Transform" | "Control" | "Evaluate";

export type InputValues = Partial<Record<string, PortValue>>;
export type OutputValues = Record<string, PortValue>;

/**
 * One node type. `Decision` is what its `prepare` decides once per run, before anything runs (generate: which
 * model file, precision and provider); `plan`, `run` and `tileCost` are given it.
 */
export interface NodeDefinition<Schema extends z.ZodObject = z.ZodObject, Decision = undefined> {
  type: string;
  title: string;
  category: NodeCategory;
  description: string;
  params: Schema;
  inputs: Ports | ((params: z.output<Schema>) => Ports);
  outputs: Ports | ((params: z.output<Schema>) => Ports);
  /** Containers (loop) hold child nodes, run through ctx.body. */
  container?: boolean;
  /** Writes outside the graph (files, metrics): always runs, never served from the cache. */
  sideEffect?: boolean;
  /** Extra identity for the cache signature beyond type, params and inputs (e.g. the content of a run input). */
  identify?: (args: { params: z.output<Schema>; host: RunContext["host"] }) => Promise<string>;
  /** Problems that depend on which inputs are wired, e.g. "connect exactly one of image or tiles". */
  check?: (args: { params: z.output<Schema>; connected: ReadonlySet<string>; consumed: ReadonlySet<string> }) => string[];
  /**
   * Decides once per run what the plan and the run must agree on (a failure is the node's, when it runs).
   * `downstream`: the types of the nodes its outputs reach, later in the graph or around its loop.
   */
  prepare?: (args: { params: z.output<Schema>; host: ModelHost; downstream: ReadonlySet<string> }) => Promise<Decision>;
  /** For a node that runs a model on tiles: what one tile costs here (chunk's `auto` tiles ask its readers). */
  tileCost?: (args: { params: z.output<Schema>; decision: Decision; host: ModelHost }) => Promise<ModelCost>;
  /** The node's output sizes and costs without running it (the plan preview: nodes/graph/plan-graph.ts). */
  plan?: (args: { inputs: Partial<Record<string, PlanValue>>; params: z.output<Schema>; decision: Decision; ctx: PlanContext }) => Promise<NodePlanResult>;
  /** Must not mutate its inputs: they may be shared with the cache and other consumers. */
  run(args: { inputs: InputValues; params: z.output<Schema>; decision: Decision; ctx: RunContext }): Promise<OutputValues>;
}

/** The registry holds definitions of every params schema and decision type. */
export type AnyNodeDefinition = NodeDefinition<z.ZodObject, any>;

export function defineNode<Schema extends z.ZodObject, Decision = undefined>(definition: NodeDefinition<Schema, Decision>): NodeDefinition<Schema, Decision> {
  return definition;
}

export function inputPorts(definition: AnyNodeDefinition, params: Record<string, unknown>): Ports {
  return typeof definition.inputs === "function" ? definition.inputs(params) : definition.inputs;
}

export function outputPorts(definition: AnyNodeDefinition, params: Record<string, unknown>): Ports {
  return typeof definition.outputs === "function" ? definition.outputs(params) : definition.outputs;
}

/** Typed access to an input the engine has checked is present. */
export function requireInput<T extends PortType>(inputs: InputValues, name: string, _type: T): PortValues[T] {
  const value = inputs[name];
  if (value === undefined) throw new Error(`input "${name}" is not connected`);
  return value as PortValues[T];
}

export class CanceledError extends Error {
  constructor() {
    super("run canceled");
    this.name = "CanceledError";
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CanceledError();
}
