// A run request (runs.start, runs.plan): its graph found from what was asked (an unsaved graph, a pipeline
// version, a template), prepared (prepare.ts: overrides applied, validated), and its inputs checked, before
// anything is queued.
import { OverrideError, type ParamOverride } from "../../nodes/graph/overrides";
import { type PreparedGraph, prepareGraph } from "../../nodes/graph/prepared-graph";
import type { Graph } from "../../nodes/graph/schema";
import { nodeRegistry } from "../../nodes/index";
import { artifactKinds } from "../db/artifacts";
import { findRunSource, type RunSource } from "../db/runs";
import type { InferenceService } from "../inference/inference-service";
import { BadInputError, NotFoundError } from "../platform/errors";
import { prepareRun } from "./prepare";

/** What a run request names: one of a graph, a pipeline (version) or a template, and its overrides. */
export interface RunRequest {
  /** Graph JSON; when omitted, the graph of the pipeline version or template below. */
  graph?: unknown;
  overrides?: ParamOverride[];
  pipelineId?: string;
  /** Defaults to the pipeline's latest version. */
  pipelineVersion?: number;
  templateSlug?: string;
}

/**
 * The graph a request runs, from its source. With `inference`, prepared to plan or run here; without, only
 * checked (a request about to be queued: the executor that takes it decides on its own machine). Throws
 * GraphValidationError (every problem, with node ids), BadInputError for an override of an unknown node,
 * NotFoundError for an unknown pipeline or template.
 */
export async function resolveRunRequest(run: RunRequest, inference?: InferenceService): Promise<{ prepared: PreparedGraph; source: RunSource }> {
  const source = await findRunSource(run);
  try {
    const { overrides } = run;
    const prepared = inference ? await prepareRun(source.graph, { inference, overrides }) : await prepareGraph(source.graph, { registry: nodeRegistry, overrides });
    return { prepared, source };
  } catch (error) {
    throw error instanceof OverrideError ? new BadInputError(error.message) : error;
  }
}

/** The input names a graph reads (its load-image nodes), each with the ids of the nodes that read it. */
function graphInputNames(graph: Graph): Map<string, string[]> {
  const readers = new Map<string, string[]>();
  for (const node of graph.nodes.filter((candidate) => candidate.type === "load-image")) {
    const name = Object.hasOwn(node.params, "input") && typeof node.params.input === "string" ? node.params.input : "input";
    readers.set(name, [...(readers.get(name) ?? []), node.id]);
  }
  return new Map([...readers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * A run's inputs must be exactly the graph's load-image inputs (own keys only: an input named "constructor"
 * is not given by `{}`), each an uploaded input artifact. The error names each missing input with the node
 * that reads it.
 */
export async function checkRunInputs(graph: Graph, inputs: Record<string, string>): Promise<void> {
  const readers = graphInputNames(graph);
  const wanted = [...readers.keys()];
  const given = Object.keys(inputs).sort();
  const missing = wanted.filter((name) => !Object.hasOwn(inputs, name));
  const unknown = given.filter((name) => !readers.has(name));
  if (missing.length > 0 || unknown.length > 0) {
    const readBy = (name: string) => readers.get(name)!.map((id) => `"${id}"`).join(", ");
    const parts = [
      missing.length > 0 ? `missing input ${missing.map((name) => `"${name}" (read by load-image node ${readBy(name)})`).join(", ")}` : "",
      unknown.length > 0 ? `the graph has no input ${unknown.map((name) => `"${name}"`).join(", ")}` : "",
    ].filter(Boolean);
    throw new BadInputError(`${parts.join("; ")} (the graph reads: ${wanted.join(", ") || "no inputs"})`);
  }
  const ids = [...new Set(Object.values(inputs))];
  const kinds = await artifactKinds(ids);
  for (const id of ids) {
    const kind = kinds.get(id);
    if (!kind) throw new NotFoundError("artifact", id);
    if (kind !== "input") throw new BadInputError(`artifact "${id}" is a run output; upload it as an input first`);
  }
}
