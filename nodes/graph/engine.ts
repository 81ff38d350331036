import type { RgbImage } from "../image/types";
import type { NodeCache } from "./cache";
import type { Compiled } from "./compiled-graph";
import type { BodyRunner } from "./context";
import { CanceledError, type InputValues, outputPorts, type OutputValues } from "./define-node";
import type { EngineListener, TileReport } from "./events";
import type { RunHost } from "./host";
import { decisionOf, type PreparedGraph, preparedReaders } from "./prepared-graph";
import { walkScope } from "./scheduler";
import { isStreamed, readsStream, startStream, streamedBytes, waitedMs, wholeValue } from "./stream";
import type { Graph, GraphEdge, GraphNode } from "./schema";
import { ownPort } from "./validate";
import { type PortValue, workMegapixels } from "./values";

export interface EngineOptions {
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
   * listener must only read them, and should not hold them (or do slow work) while the run goes on. A node
   * that hands on a value read part by part (nodes/graph/stream.ts) is told when it hands it on, its parts
   * still to come: watch them with watchParts, never read the value itself (it is its reader's).
   */
  onOutputs?: (nodeId: string, outputs: OutputValues, iteration?: number) => void;
  /**
   * Called with a finished tile's pixels just before its `tile-done` event (for the tile map's previews); as
   * with onOutputs, only read them, at once.
   */
  onTileImage?: (nodeId: string, tile: TileReport, image: RgbImage, iteration?: number) => void;
  /** Every streamed value gathered whole, as before values were streamed (a reference for comparisons). */
  wholeValues?: boolean;
  /** Where a cache is on, the largest streamed value gathered whole to be cached (CACHED_WHOLE_MAX_BYTES). */
  cacheWholeMaxBytes?: number;
}

/**
 * Where a cache is on, a streamed value up to this size is gathered whole so the cache can keep it (a re-run
 * that changes only what follows reuses it); a bigger one is read part by part and its node is not cached:
 * holding, say, an 8192x8192 float image (805 MB) or its tiles whole in the cache is the very memory the
 * streaming saves. 128 MiB is a 3300x3300 image: what the editor's runs usually make stays cached.
 */
const CACHED_WHOLE_MAX_BYTES = 128 * 2 ** 20;

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
 * Runs a prepared graph: nodes in the scheduler's order (up to `concurrency` at once), containers running their
 * body through ctx.body, outputs freed as soon as every consumer has them, cached by signature when a cache
 * is given. Throws NodeRunError (with the node id) or CanceledError.
 */
export async function executeGraph(prepared: PreparedGraph, options: EngineOptions): Promise<EngineResult> {
  const { graph, compiled } = prepared;
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
    // Nodes whose streamed outputs are still coming: the scope is done when they are.
    const finishing: Promise<void>[] = [];
    try {
      const outputs = await walkScope<PortValue>(compiled, scope, seed, {
        concurrency,
        signal: outerSignal,
        visit: (node, inputs, signal) => {
          if (signal.aborted) throw new CanceledError();
          return runNode(node, inputs, signal, iteration, finishing);
        },
      });
      await Promise.all(finishing);
      return outputs;
    } catch (error) {
      await Promise.allSettled(finishing);
      throw outerSignal.aborted ? new CanceledError() : error;
    }
  }

  /**
   * Whether a node's output port has one reader, which reads it part by part, so it may come streamed; not
   * where every value is asked whole, nor where the node's outputs are cached and this one is small enough to
   * keep (onOutputs listeners watch a streamed value's parts: they no longer need it whole).
   */
  const partByPart = (node: GraphNode, port: string, value: PortValue, cacheable: boolean): boolean => {
    if (options.wholeValues || (cacheable && streamedBytes(value) <= (options.cacheWholeMaxBytes ?? CACHED_WHOLE_MAX_BYTES))) return false;
    if ([...compiled.bodyResult.values()].some((source) => source.node === node.id && source.handle === port)) return false;
    const readers: [string, string][] = [];
    for (const [reader, sources] of compiled.sources) {
      for (const [readerPort, source] of sources) if (source.node === node.id && source.handle === port) readers.push([reader, readerPort]);
    }
    return readers.length === 1 && readsStream(compiled.definitions.get(readers[0][0])!, readers[0][1]);
  };

  async function runNode(node: GraphNode, given: InputValues, signal: AbortSignal, iteration: number | undefined, finishing: Promise<void>[]): Promise<OutputValues> {
    const definition = compiled.definitions.get(node.id)!;
    const params = compiled.params.get(node.id)!;
    // A streamed input reaches a node part by part only where it reads that port so (and it was started so);
    // any other reader gets it whole.
    const inputs: InputValues = {};
    for (const [port, value] of Object.entries(given)) {
      inputs[port] = isStreamed(value) && !readsStream(definition, port) ? await wholeValue(value!) : value;
    }
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
          return wholeValue(bodyOutputs.get(result.node)![result.handle]);
        }
      : undefined;
    let outputs: OutputValues;
    try {
      outputs = await definition.run({
        inputs,
        params,
        decision: decisionOf(prepared, node.id),
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
          readers: preparedReaders(prepared, node.id, options.host),
          body,
        },
      });
      if (signal.aborted) throw new CanceledError();
    } catch (error) {
      if (error instanceof CanceledError || signal.aborted) {
        emit({ type: "node-canceled", nodeId: node.id });
        throw new CanceledError();
      }
      if (error instanceof NodeRunError && error.nodeId !== node.id) {
        // The node whose streamed output this one was reading failed: that node is the run's failure.
        emit({ type: "node-canceled", nodeId: node.id });
        throw error;
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
    const finished = (handed: OutputValues, told = false) => {
      // Its own time: not the time it waited for the parts of streamed inputs.
      const waited = Object.values(inputs).reduce((sum: number, value) => sum + waitedMs(value), 0);
      const ms = Math.max(0, performance.now() - t0 - waited);
      // Streamed values count by their size (a streamed image knows it before its rows come).
      const work = definition.container ? undefined : workMegapixels([...Object.values(inputs), ...Object.values(outputs)]);
      emit({ type: "node-finished", nodeId: node.id, ms, cached: false, iteration, workMegapixels: work });
      record(node, ms, false);
      // A node whose value was read part by part has nothing whole to keep: it is not cached.
      if (signature && !definition.sideEffect && !told) options.cache!.set(signature, handed);
      if (!told) options.onOutputs?.(node.id, handed, iteration);
    };
    const streamed = Object.keys(outputs).filter((port) => isStreamed(outputs[port]));
    if (!streamed.length) {
      finished(outputs);
      return outputs;
    }
    // Streamed outputs: handed on now, the node finishing when their last part is made. A failure while making
    // them is this node's (its readers get its NodeRunError); whole ones are told and cached once complete.
    let failure: Error | undefined;
    const mapError = (error: unknown) =>
      (failure ??=
        error instanceof CanceledError || signal.aborted
          ? new CanceledError()
          : error instanceof NodeRunError
            ? error // a streamed input's producer failed
            : new NodeRunError(node.id, node.type, error instanceof Error ? error.message : String(error)));
    const cacheable = signature !== undefined && !definition.sideEffect;
    const parts = streamed.map((port) => ({ port, whole: !partByPart(node, port, outputs[port], cacheable) }));
    // Told now, while their parts can still be watched (previews sample them as they pass).
    const watched = parts.some(({ whole }) => !whole);
    if (watched) options.onOutputs?.(node.id, outputs, iteration);
    const made = parts.map(({ port, whole }) => startStream(outputs[port], !whole, mapError));
    finishing.push(
      Promise.all(made).then(
        async () => {
          const handed: OutputValues = { ...outputs };
          for (const { port, whole } of parts) {
            if (whole) handed[port] = await wholeValue(outputs[port]);
            else delete handed[port]; // read and let go part by part: nothing whole to tell or keep
          }
          finished(handed, watched);
        },
        (error: unknown) => {
          const mapped = mapError(error);
          if (mapped instanceof CanceledError || (mapped instanceof NodeRunError && mapped.nodeId !== node.id)) {
            emit({ type: "node-canceled", nodeId: node.id });
            throw mapped;
          }
          throw nodeFailed(node, mapped, emit);
        },
      ),
    );
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
