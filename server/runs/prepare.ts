// A graph made ready to run or plan on this machine, once: parsed, the overrides applied, validated, compiled,
// and each generate node's model, precision and provider decided here (nodes/graph/prepared-graph.ts). The
// executor, the CLI and the planner prepare the graph they run or plan, and hand the prepared graph to the
// engine, the planner, the stamp and the timings. (A run request is checked the same way: request.ts.)
import type { ParamOverride } from "../../nodes/graph/overrides";
import { type PreparedGraph, prepareGraph } from "../../nodes/graph/prepared-graph";
import { nodeRegistry } from "../../nodes/index";
import type { InferenceService } from "../inference/inference-service";
import { MachineModelHost } from "./model-host";

/** Prepares a graph to run or plan on this machine (see prepareGraph for its errors). */
export function prepareRun(graph: unknown, options: { inference: InferenceService; overrides?: readonly ParamOverride[] }): Promise<PreparedGraph> {
  return prepareGraph(graph, { registry: nodeRegistry, host: new MachineModelHost(options.inference), overrides: options.overrides });
}
