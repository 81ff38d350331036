// A graph made ready once per run or plan: parsed, its overrides applied, validated, compiled, and each node's
// own decisions taken (generate: model, precision, provider). The engine, the planner, a run's stamp and its
// timings all read it; nothing parses, validates or decides again.
import { type Compiled, compileGraph, readersOf } from "./compiled-graph";
import type { NodeReader } from "./context";
import type { ModelHost } from "./host";
import { applyOverrides, type ParamOverride } from "./overrides";
import type { Graph } from "./schema";
import { GraphValidationError, type NodeRegistry, parseGraph, rawParamProblems, validateGraph } from "./validate";

/** What a node's `prepare` decided, or why it could not (the node fails with that error when it runs). */
export type Decided = { ok: true; value: unknown } | { ok: false; error: Error };

export interface PreparedGraph {
  /** The graph as it runs: overrides applied, validated. */
  graph: Graph;
  compiled: Compiled;
  /** Node id -> its decision, for the nodes whose type prepares. */
  decisions: ReadonlyMap<string, Decided>;
}

/**
 * Prepares a graph (JSON as stored or sent); without a host only validates and compiles it (no decisions: a
 * run request checked before it is queued). Throws GraphValidationError listing every problem, or the
 * OverrideError of an override naming an unknown node.
 */
export async function prepareGraph(input: unknown, options: { registry: NodeRegistry; host?: ModelHost; overrides?: readonly ParamOverride[] }): Promise<PreparedGraph> {
  const parsed = parseGraph(input);
  if (!parsed.graph) throw new GraphValidationError(parsed.problems);
  let graph = parsed.graph;
  if (options.overrides?.length) {
    graph = applyOverrides(graph, [...options.overrides]);
    // What the schema's parse saw for the stored params, for the values the overrides brought.
    const values = rawParamProblems(graph);
    if (values.length) throw new GraphValidationError(values);
  }
  const problems = validateGraph(graph, options.registry);
  if (problems.length) throw new GraphValidationError(problems);
  const compiled = compileGraph(graph, options.registry);
  return { graph, compiled, decisions: options.host ? await decide(compiled, options.host) : new Map() };
}

/** Each node's `prepare`, for the types that have one; a failure is kept as that node's. */
async function decide(compiled: Compiled, host: ModelHost): Promise<Map<string, Decided>> {
  const decisions = new Map<string, Decided>();
  for (const [nodeId, { prepare }] of compiled.definitions) {
    if (!prepare) continue;
    try {
      decisions.set(nodeId, { ok: true, value: await prepare({ params: compiled.params.get(nodeId)!, host, downstream: downstreamTypes(compiled, nodeId) }) });
    } catch (error) {
      decisions.set(nodeId, { ok: false, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  return decisions;
}

/**
 * The types of the nodes a node's outputs reach. A node inside a loop reaches the loop's whole body (a repeat
 * feeds each pass's result to the next; a map's passes are apart, but which mode a container has is its own
 * business, and reaching too far only makes a decision more careful) and what reads the loop's result.
 */
function downstreamTypes(compiled: Compiled, nodeId: string): Set<string> {
  const readers = new Map<string, string[]>();
  const read = (from: string, to: string) => readers.set(from, [...(readers.get(from) ?? []), to]);
  for (const [target, ports] of compiled.sources) for (const source of ports.values()) read(source.node, target);
  for (const [container, source] of compiled.bodyResult) read(source.node, container);
  for (const [container, members] of compiled.scopes) for (const member of members) if (container) read(member.id, container);
  const types = new Set<string>();
  const seen = new Set<string>();
  const next = [...(readers.get(nodeId) ?? [])];
  while (next.length) {
    const id = next.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    types.add(compiled.nodes.get(id)!.type);
    // A container passes on to its body (each pass) as well as to its own readers.
    next.push(...(readers.get(id) ?? []), ...(compiled.scopes.get(id) ?? []).map((member) => member.id));
  }
  return types;
}

/** A node's decision (undefined for a type that does not prepare); throws the error its preparation met. */
export function decisionOf(prepared: PreparedGraph, nodeId: string): unknown {
  const decided = prepared.decisions.get(nodeId);
  if (decided && !decided.ok) throw decided.error;
  return decided?.value;
}

/** The nodes reading a node's outputs, each that runs a model on tiles with its tile cost on `host`. */
export function preparedReaders(prepared: PreparedGraph, nodeId: string, host: ModelHost): NodeReader[] {
  return readersOf(prepared.compiled, nodeId).map((reader) => {
    const { tileCost } = prepared.compiled.definitions.get(reader.id)!;
    if (!tileCost) return reader;
    return { ...reader, tileCost: async () => tileCost({ params: reader.params, decision: decisionOf(prepared, reader.id), host }) };
  });
}

/**
 * Sets one param of a prepared graph's node (the CLI's `--output x.jpg` choosing its save node's format),
 * validated by the node's schema; a param that decides nothing prepared (not a generate node's model).
 */
export function setParam(prepared: PreparedGraph, nodeId: string, param: string, value: unknown): void {
  const definition = prepared.compiled.definitions.get(nodeId)!;
  const params = definition.params.parse({ ...prepared.compiled.params.get(nodeId), [param]: value }) as Record<string, unknown>;
  prepared.compiled.params.set(nodeId, params);
  const node = prepared.graph.nodes.find((candidate) => candidate.id === nodeId)!;
  node.params = { ...node.params, [param]: value };
}
