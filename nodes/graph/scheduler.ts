// The order a scope of a graph is walked in, shared by the engine (running it) and the planner (predicting it):
// a node is released once every node of its scope it reads from has finished (ComfyUI's counting of unfinished
// inputs), up to `concurrency` at once, and a node's outputs are let go once every reader in the scope has them
// (chaiNNer's reference counts), except the node whose output is the scope's result.
import type { Compiled, Source } from "./compiled-graph";
import type { GraphNode } from "./schema";

export interface ScopeWalk<V> {
  /** Runs (or plans) one node with its inputs; `signal` aborts when another node of the walk failed. */
  visit(node: GraphNode, inputs: Partial<Record<string, V>>, signal: AbortSignal): Promise<Record<string, V>>;
  /** A node's outputs that nothing in the scope reads any more. */
  release?(nodeId: string, outputs: Record<string, V>): void;
  /** How many nodes may run at once (default 1). */
  concurrency?: number;
  signal?: AbortSignal;
}

/**
 * Walks the nodes of one scope (a container's id, "" for the top level) whose container's body-in gives `seed`.
 * Returns the outputs still held (the scope's result among them). The first failure stops the walk: nodes
 * running then are aborted and awaited, and that failure is thrown.
 */
export async function walkScope<V>(compiled: Compiled, scope: string, seed: V | undefined, walk: ScopeWalk<V>): Promise<Map<string, Record<string, V>>> {
  const members = compiled.scopes.get(scope) ?? [];
  const memberIds = new Set(members.map((node) => node.id));
  const outputs = new Map<string, Record<string, V>>();
  // node -> the nodes of this scope it reads from (the container's body-in is not one of them)
  const upstream = new Map(
    members.map((node) => [node.id, new Set([...compiled.sources.get(node.id)!.values()].map((source) => source.node).filter((id) => memberIds.has(id)))]),
  );
  const waitingOn = new Map(members.map((node) => [node.id, upstream.get(node.id)!.size]));
  const consumers = new Map<string, string[]>();
  for (const [nodeId, sources] of upstream) for (const source of sources) consumers.set(source, [...(consumers.get(source) ?? []), nodeId]);
  const unreadBy = new Map(members.map((node) => [node.id, consumers.get(node.id)?.length ?? 0]));
  const keep = scope ? compiled.bodyResult.get(scope)?.node : undefined;
  const failure = new AbortController();
  const signal = walk.signal ? AbortSignal.any([walk.signal, failure.signal]) : failure.signal;
  const valueOf = (source: Source): V => (source.node === scope ? seed! : outputs.get(source.node)![source.handle]);
  const release = (nodeId: string) => {
    walk.release?.(nodeId, outputs.get(nodeId)!);
    outputs.delete(nodeId);
  };

  const visitOne = async (node: GraphNode) => {
    const inputs: Partial<Record<string, V>> = {};
    for (const [port, source] of compiled.sources.get(node.id)!) inputs[port] = valueOf(source);
    outputs.set(node.id, await walk.visit(node, inputs, signal));
    for (const source of upstream.get(node.id)!) {
      const left = unreadBy.get(source)! - 1;
      unreadBy.set(source, left);
      if (left === 0 && source !== keep) release(source);
    }
    if (unreadBy.get(node.id) === 0 && node.id !== keep) release(node.id);
  };

  const concurrency = Math.max(1, walk.concurrency ?? 1);
  const ready = members.filter((node) => waitingOn.get(node.id) === 0);
  const running = new Map<string, Promise<string>>();
  let firstError: { error: unknown } | undefined;
  while ((ready.length && !firstError) || running.size) {
    while (ready.length && running.size < concurrency && !firstError) {
      const node = ready.shift()!;
      const done = visitOne(node).then(
        () => node.id,
        (error: unknown) => {
          firstError ??= { error };
          failure.abort();
          return node.id;
        },
      );
      running.set(node.id, done);
    }
    const finished = await Promise.race(running.values());
    running.delete(finished);
    if (firstError) continue;
    for (const consumer of consumers.get(finished) ?? []) {
      const left = waitingOn.get(consumer)! - 1;
      waitingOn.set(consumer, left);
      if (left === 0) ready.push(compiled.nodes.get(consumer)!);
    }
  }
  if (firstError) throw firstError.error;
  return outputs;
}
