import {
  type BodyRunner,
  CanceledError,
  type InputValues,
  type OutputValues,
  outputPorts,
  type RunHost,
} from "./define-node";
import type { RgbImage } from "../image/types";
import type { NodeCache } from "./cache";
import type { EngineListener, TileReport } from "./events";
import type { Graph, GraphEdge, GraphNode } from "./schema";
import { checkGraph, type NodeRegistry, ownPort } from "./validate";
import { type Compiled, compileGraph, readersOf, type Source } from "./compiled-graph";
import type { PortValue } from "./values";

export interface EngineOptions {
  registry: NodeRegistry;
  host: RunHost;
  signal?: AbortSignal;
  onEvent?: EngineListener;
  /** Keeps outputs across runs so a re-run only executes what changed. */
  cache?: NodeCache;
  /** How many independent nodes of one scope may run at once. */
  concurrency?: number;
  /**
   * Called with each node's outputs once it has them, also when they come from the cache (`iteration` set
   * inside a container's body). For previews: the values are shared with the graph and the cache, so a
   * listener must only read them, and should not hold them (or do slow work) while the run goes on.
   */
  onOutputs?: (nodeId: string, outputs: OutputValues, iteration?: number) => void;
  /**
   * Called with a finished tile's pixels just before its `tile-done` event (for the tile map's previews); as
   * with onOutputs, only read them, at once.
   */
  onTileImage?: (nodeId: string, tile: TileReport, image: RgbImage, iteration?: number) => void;
}

export interface NodeTiming {
  id: string;
  type: string;
  ms: number;
  cached: boolean;
  runs: number;
  /** For a generate node whose tiles were spread over workers: the tile batches each worker ran. */
  tileWorkers?: Record<string, number>;
}

export interface EngineResult {
  nodes: NodeTiming[];
  totalMs: number;
}

/** A failure inside one node, carrying that node's id. */
export class NodeRunError extends Error {
  constructor(
    readonly nodeId: string,
    readonly nodeType: string,
    message: string,
  ) {
    super(`node "${nodeId}" (${nodeType}): ${message}`);
    this.name = "NodeRunError";
  }
}

/**
 * Runs a validated graph: nodes in dependency order (up to `concurrency` at once), containers running their
 * body through ctx.body, outputs freed as soon as every consumer has them, cached by signature when a cache
 * is given. Throws NodeRunError (with the node id) or CanceledError.
 */
export async function executeGraph(input: unknown, options: EngineOptions): Promise<EngineResult> {
  const graph = checkGraph(input, options.registry);
  const compiled = compileGraph(graph, options.registry);
  const started = performance.now();
  const timings = new Map<string, NodeTiming>();
  const emit: EngineListener = options.onEvent ?? (() => {});
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const signatures = options.cache ? await computeSignatures(graph, compiled, options.host, emit) : undefined;

  const record = (node: GraphNode, ms: number, cached: boolean) => {
    const timing = timings.get(node.id) ?? { id: node.id, type: node.type, ms: 0, cached: true, runs: 0 };
    timing.ms += ms;
    timing.cached &&= cached;
    timing.runs += 1;
    timings.set(node.id, timing);
  };

  async function runScope(scope: string, seed: PortValue | undefined, iteration: number | undefined, outerSignal: AbortSignal): Promise<Map<string, OutputValues>> {
    const members = compiled.scopes.get(scope) ?? [];
    const memberIds = new Set(members.map((node) => node.id));
    const outputs = new Map<string, OutputValues>();
    // node -> the nodes of this scope it reads from (the container's body-in is not one of them)
    const upstream = new Map(
      members.map((node) => [node.id, new Set([...compiled.sources.get(node.id)!.values()].map((s) => s.node).filter((id) => memberIds.has(id)))]),
    );
    const waitingOn = new Map(members.map((node) => [node.id, upstream.get(node.id)!.size]));
    const consumers = new Map<string, string[]>();
    for (const [nodeId, sources] of upstream) {
      for (const source of sources) consumers.set(source, [...(consumers.get(source) ?? []), nodeId]);
    }
    const unreadBy = new Map(members.map((node) => [node.id, consumers.get(node.id)?.length ?? 0]));
    const keep = scope ? compiled.bodyResult.get(scope)?.node : undefined;

    const failure = new AbortController();
    const signal = AbortSignal.any([outerSignal, failure.signal]);
    const valueOf = (source: Source): PortValue => {
      if (source.node === scope) return seed!;
      return outputs.get(source.node)![source.handle];
    };

    const runOne = async (node: GraphNode) => {
      if (signal.aborted) throw new CanceledError();
      const inputs: InputValues = {};
      for (const [port, source] of compiled.sources.get(node.id)!) inputs[port] = valueOf(source);
      outputs.set(node.id, await runNode(node, inputs, signal, iteration));
      for (const source of upstream.get(node.id)!) {
        const left = unreadBy.get(source)! - 1;
        unreadBy.set(source, left);
        if (left === 0 && source !== keep) outputs.delete(source);
      }
      if (unreadBy.get(node.id) === 0 && node.id !== keep) outputs.delete(node.id);
    };

    const ready = members.filter((node) => waitingOn.get(node.id) === 0);
    const running = new Map<string, Promise<string>>();
    let firstError: unknown;
    while ((ready.length && firstError === undefined) || running.size) {
      while (ready.length && running.size < concurrency && firstError === undefined) {
        const node = ready.shift()!;
        running.set(
          node.id,
          runOne(node).then(
            () => node.id,
            (error) => {
              firstError ??= error;
              failure.abort();
              return node.id;
            },
          ),
        );
      }
      const finished = await Promise.race(running.values());
      running.delete(finished);
      if (firstError !== undefined) continue;
      for (const consumer of consumers.get(finished) ?? []) {
        const left = waitingOn.get(consumer)! - 1;
        waitingOn.set(consumer, left);
        if (left === 0) ready.push(compiled.nodes.get(consumer)!);
      }
    }
    if (firstError !== undefined) throw outerSignal.aborted ? new CanceledError() : firstError;
    return outputs;
  }

  async function runNode(node: GraphNode, inputs: InputValues, signal: AbortSignal, iteration: number | undefined): Promise<OutputValues> {
    const definition = compiled.definitions.get(node.id)!;
    const params = compiled.params.get(node.id)!;
    const signature = iteration === undefined ? signatures?.get(node.id) : undefined;
    if (signature && !definition.sideEffect) {
      const hit = options.cache!.get(signature);
      if (hit) {
        emit({ type: "node-finished", nodeId: node.id, ms: 0, cached: true });
        record(node, 0, true);
        options.onOutputs?.(node.id, hit, iteration);
        return hit;
      }
    }
    emit({ type: "node-started", nodeId: node.id, nodeType: node.type, iteration });
    const t0 = performance.now();
    const body: BodyRunner | undefined = definition.container
      ? async (value, bodyIteration, bodySignal) => {
          const result = compiled.bodyResult.get(node.id)!;
          const bodyOutputs = await runScope(node.id, value, bodyIteration, bodySignal);
          return bodyOutputs.get(result.node)![result.handle];
        }
      : undefined;
    let outputs: OutputValues;
    try {
      outputs = await definition.run({
        inputs,
        params,
        ctx: {
          nodeId: node.id,
          iteration,
          host: options.host,
          signal,
          progress: (done, total) => emit({ type: "node-progress", nodeId: node.id, done, total }),
          tileStarted: (report) => emit({ type: "tile-started", nodeId: node.id, iteration, ...report }),
          tileDone: (report, image) => {
            options.onTileImage?.(node.id, report, image, iteration);
            emit({ type: "tile-done", nodeId: node.id, iteration, ...report });
          },
          log: (message) => emit({ type: "node-log", nodeId: node.id, message }),
          readers: readersOf(compiled, node.id),
          body,
        },
      });
      if (signal.aborted) throw new CanceledError();
    } catch (error) {
      if (error instanceof CanceledError || signal.aborted) {
        emit({ type: "node-canceled", nodeId: node.id });
        throw new CanceledError();
      }
      throw nodeFailed(node, error, emit);
    }
    for (const name of compiled.consumed.get(node.id)!) {
      if (!ownPort(outputPorts(definition, params), name)!.internal && (!Object.hasOwn(outputs, name) || outputs[name] === undefined)) {
        const error = new NodeRunError(node.id, node.type, `produced no value for output "${name}"`);
        emit({ type: "node-failed", nodeId: node.id, message: error.message });
        throw error;
      }
    }
    const ms = performance.now() - t0;
    emit({ type: "node-finished", nodeId: node.id, ms, cached: false, iteration });
    record(node, ms, false);
    if (signature && !definition.sideEffect) options.cache!.set(signature, outputs);
    options.onOutputs?.(node.id, outputs, iteration);
    return outputs;
  }

  await runScope("", undefined, undefined, options.signal ?? new AbortController().signal);
  return {
    nodes: graph.nodes.filter((node) => timings.has(node.id)).map((node) => timings.get(node.id)!),
    totalMs: performance.now() - started,
  };
}

/** The NodeRunError for a node's failure (reported as a node-failed event), carrying its id. */
function nodeFailed(node: GraphNode, error: unknown, emit: EngineListener): NodeRunError {
  const message = error instanceof Error ? error.message : String(error);
  emit({ type: "node-failed", nodeId: node.id, message });
  return error instanceof NodeRunError ? error : new NodeRunError(node.id, node.type, message);
}

/**
 * Top-level signatures: a node's type, params and identity, its inputs' signatures, and a container's body.
 * A node whose identity cannot be read (a run input that is missing or unreadable) fails here, named.
 */
async function computeSignatures(graph: Graph, compiled: Compiled, host: RunHost, emit: EngineListener): Promise<Map<string, string>> {
  const signatures = new Map<string, string>();
  const bodyOf = (containerId: string): unknown => {
    const members = compiled.scopes.get(containerId) ?? [];
    const ids = new Set(members.map((node) => node.id));
    return {
      nodes: members.map((node) => ({ id: node.id, type: node.type, params: compiled.params.get(node.id), body: compiled.definitions.get(node.id)!.container ? bodyOf(node.id) : undefined })),
      edges: graph.edges.filter((edge: GraphEdge) => ids.has(edge.source) || ids.has(edge.target)).map((edge) => [edge.source, edge.sourceHandle, edge.target, edge.targetHandle]),
    };
  };
  const visit = async (node: GraphNode): Promise<string> => {
    const known = signatures.get(node.id);
    if (known) return known;
    const definition = compiled.definitions.get(node.id)!;
    const params = compiled.params.get(node.id)!;
    const inputs: Record<string, string> = {};
    for (const [port, source] of compiled.sources.get(node.id)!) {
      inputs[port] = `${await visit(compiled.nodes.get(source.node)!)}:${source.handle}`;
    }
    let identity: string | undefined;
    try {
      identity = definition.identify ? await definition.identify({ params, host }) : undefined;
    } catch (error) {
      throw nodeFailed(node, error, emit);
    }
    const body = definition.container ? bodyOf(node.id) : undefined;
    const signature = await sha256(JSON.stringify({ type: node.type, params, inputs, identity, body }));
    signatures.set(node.id, signature);
    return signature;
  };
  for (const node of compiled.scopes.get("") ?? []) await visit(node);
  return signatures;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
