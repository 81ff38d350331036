// Live run events, in process: the worker publishes the engine's events and the run's own (queued, started,
// succeeded, failed, canceled, interrupted); the runs subscription relays them (SSE). Executors in other
// processes publish through a relay behind the same subscribe/publish pair: the app's executor child over
// IPC, `tudsr worker` processes over Redis pub/sub (server/runs/bullmq/bridge.ts, with TUDSR_REDIS_URL).
import type { EngineEvent, TileEvent, TileRect } from "../../nodes/graph/events";
import { FINAL_STATUSES, type RunStatus } from "../db/run-statuses";
import { getRun, type RunSummary } from "../db/runs";

export type RunLevelEvent =
  | { type: "run-queued" }
  | { type: "run-started" }
  | {
      type: "run-succeeded";
      outputs: { name: string; artifactId: string; width: number; height: number; format: string }[];
      totalMs: number;
    }
  | { type: "run-failed"; message: string; nodeId: string | null }
  | { type: "run-canceled" }
  | { type: "run-interrupted" };

/**
 * A thumbnail of a node's output for the editor (server/runs/previews.ts): its first image or tiles output,
 * longest side <= 160 px, as a WebP data URL; width and height are the output's real size. At most one per
 * node per run; for a node inside a loop, the last iteration's.
 */
export type NodePreviewEvent = { type: "node-preview"; nodeId: string; port: string; width: number; height: number; dataUrl: string };

/** A finished tile of the tile map: where it lands and a tiny WebP of it (a few hundred bytes). */
export type TilePreview = TileRect & { index: number; dataUrl: string };

/**
 * The progressive tile map of a node computing tiles (server/runs/tile-map.ts), at most a few per second:
 * the tiles finished since the node's previous update, and the tiles being computed now. In a run's history
 * a node's updates are merged into one holding every finished tile, so a late watch draws the whole map.
 * `canvas` is the size of the node's output; a new `iteration` (a loop's next pass) starts a new map.
 */
export type TileMapEvent = {
  type: "tile-map";
  nodeId: string;
  iteration?: number;
  canvas: { width: number; height: number };
  total: number;
  finished: TilePreview[];
  running: (TileRect & { index: number })[];
};

/** The engine's own tile events are not relayed: the run's tile map stands for them, throttled. */
export type RunEvent = (Exclude<EngineEvent, TileEvent> | RunLevelEvent | NodePreviewEvent | TileMapEvent) & { runId: string };

/** First event of `watchRun`: the run as stored when the watch began. */
export type RunSnapshotEvent = { type: "run-snapshot"; runId: string; run: RunSummary };

export type RunListener = (event: RunEvent) => void;

/** How long a watch waits without events before it reads the run's status again. */
const RECHECK_MS = 5000;

const FINAL_EVENTS = new Set<string>(["run-succeeded", "run-failed", "run-canceled", "run-interrupted"]);

/** The last event a run publishes. */
export function isFinalEvent(event: RunEvent): boolean {
  return FINAL_EVENTS.has(event.type);
}

interface Listeners {
  byRun: Map<string, Set<RunListener>>;
  all: Set<RunListener>;
  /** Sends this process's events to the other processes (the distributed queue's Redis bridge), if set. */
  relay?: RunListener;
  /** Each live run's events so far, replayed to a watch that starts mid-run (a reloaded editor, a late stream). */
  history: Map<string, RunEvent[]>;
}

// On globalThis: Next's dev server may load this module twice, and both copies must share the listeners.
const shared = globalThis as typeof globalThis & { __tudsrRunEvents?: Listeners };
const listeners: Listeners = (shared.__tudsrRunEvents ??= { byRun: new Map(), all: new Set(), history: new Map() });

/** Events kept per live run; progress events replace the node's previous one, so this is rarely reached. */
const HISTORY_LIMIT = 5000;

/** How long a finished run's events stay replayable: a run served from the cache can end before its stream opens. */
const KEEP_FINISHED_MS = 60_000;

function remember(event: RunEvent): void {
  let events = listeners.history.get(event.runId);
  if (!events) listeners.history.set(event.runId, (events = []));
  if (events.length > 0 && isFinalEvent(events[events.length - 1])) return;
  if (isFinalEvent(event)) {
    events.push(event);
    setTimeout(() => listeners.history.get(event.runId) === events && listeners.history.delete(event.runId), KEEP_FINISHED_MS).unref();
    return;
  }
  let kept = event;
  if (event.type === "node-progress" || event.type === "node-preview" || event.type === "tile-map") {
    const { type, nodeId } = event;
    const index = events.findLastIndex((old) => old.type === type && "nodeId" in old && old.nodeId === nodeId);
    if (index >= 0) {
      const [old] = events.splice(index, 1);
      if (event.type === "tile-map") kept = mergeTileMaps(old as TileMapEvent & { runId: string }, event);
    }
  }
  if (events.length < HISTORY_LIMIT) events.push(kept);
}

/** One tile-map event with the finished tiles of both (the same pass), or the newer one (a new pass). */
function mergeTileMaps(old: TileMapEvent & { runId: string }, next: TileMapEvent & { runId: string }): TileMapEvent & { runId: string } {
  if (old.iteration !== next.iteration) return next;
  const fresh = new Set(next.finished.map((tile) => tile.index));
  return { ...next, finished: [...old.finished.filter((tile) => !fresh.has(tile.index)), ...next.finished] };
}

export function publishRunEvent(event: RunEvent): void {
  deliverRunEvent(event);
  listeners.relay?.(event);
}

/** Sets (or, with undefined, removes) the relay that forwards published events to other processes. */
export function setRunEventRelay(relay: RunListener | undefined): void {
  listeners.relay = relay;
}

/** An event published by another process (the relay's receiving end): to this process's listeners only. */
export function deliverRunEvent(event: RunEvent): void {
  remember(event);
  for (const listener of [...(listeners.byRun.get(event.runId) ?? []), ...listeners.all]) {
    try {
      listener(event);
    } catch (error) {
      console.error(`run event listener failed: ${(error as Error).message}`);
    }
  }
}

/** Events of one run; returns the unsubscribe function. */
export function subscribeRun(runId: string, listener: RunListener): () => void {
  let set = listeners.byRun.get(runId);
  if (!set) listeners.byRun.set(runId, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0 && listeners.byRun.get(runId) === set) listeners.byRun.delete(runId);
  };
}

/** Events of every run (e.g. a live runs list). */
export function subscribeAllRuns(listener: RunListener): () => void {
  listeners.all.add(listener);
  return () => listeners.all.delete(listener);
}

/**
 * A run's live events for a subscription: first a snapshot of the stored run, then the events it published
 * before the watch began (kept for a minute after it ends), then every event until the run ends (or `signal`
 * aborts). A run that has already ended yields its snapshot only. Unknown id: NotFoundError.
 */
export async function* watchRun(runId: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<RunEvent | RunSnapshotEvent> {
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  // Subscribed before the snapshot is read, so nothing between the two is lost; what the run did before the
  // watch began is replayed first (taken in the same tick as the subscription: no gap, no duplicate).
  const pending: RunEvent[] = [...(listeners.history.get(runId) ?? [])];
  const unsubscribe = subscribeRun(runId, (event) => {
    pending.push(event);
    notify();
  });
  options.signal?.addEventListener("abort", notify);
  try {
    let run: RunSummary = await getRun(runId);
    yield { type: "run-snapshot", runId, run: summaryOf(run) };
    while (!options.signal?.aborted) {
      const event = pending.shift();
      if (event) {
        yield event;
        if (isFinalEvent(event)) return;
        continue;
      }
      if (isFinal(run.status)) return;
      const quiet = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), RECHECK_MS);
        wake = () => {
          clearTimeout(timer);
          resolve(false);
        };
      });
      if (!quiet) continue;
      // No event for a while: the run may have ended where this process cannot hear it (another process).
      run = await getRun(runId);
      if (isFinal(run.status)) yield { type: "run-snapshot", runId, run: summaryOf(run) };
    }
  } finally {
    unsubscribe();
    options.signal?.removeEventListener("abort", notify);
  }
}

function isFinal(status: RunStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

function summaryOf(run: RunSummary): RunSummary {
  const { id, status, trigger, pipelineId, pipelineVersion, templateSlug, error, errorNodeId, createdAt, startedAt, finishedAt, worker } = run;
  return { id, status, trigger, pipelineId, pipelineVersion, templateSlug, error, errorNodeId, createdAt, startedAt, finishedAt, worker };
}
