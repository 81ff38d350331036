// Live run events, in process: the worker publishes the engine's events and the run's own (queued, started,
// succeeded, failed, canceled, interrupted); the runs subscription relays them (SSE). Executors in other
// processes would publish through another transport behind the same subscribe/publish pair.
import type { EngineEvent } from "../../nodes/graph/events";
import { FINAL_STATUSES, getRun, type RunStatus, type RunSummary } from "../db/runs";

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

export type RunEvent = (EngineEvent | RunLevelEvent | NodePreviewEvent) & { runId: string };

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
}

// On globalThis: Next's dev server may load this module twice, and both copies must share the listeners.
const shared = globalThis as typeof globalThis & { __tudsrRunEvents?: Listeners };
const listeners: Listeners = (shared.__tudsrRunEvents ??= { byRun: new Map(), all: new Set() });

export function publishRunEvent(event: RunEvent): void {
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
 * A run's live events for a subscription: first a snapshot of the stored run, then every event until the run
 * ends (or `signal` aborts). A run that has already ended yields its snapshot only. Unknown id: NotFoundError.
 */
export async function* watchRun(runId: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<RunEvent | RunSnapshotEvent> {
  const pending: RunEvent[] = [];
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  // Subscribed before the snapshot is read, so nothing between the two is lost.
  const unsubscribe = subscribeRun(runId, (event) => {
    pending.push(event);
    notify();
  });
  options.signal?.addEventListener("abort", notify);
  try {
    let run: RunSummary = await getRun(runId);
    yield { type: "run-snapshot", runId, run: summaryOf(run) };
    while (!isFinal(run.status) && !options.signal?.aborted) {
      const event = pending.shift();
      if (event) {
        yield event;
        if (isFinalEvent(event)) return;
        continue;
      }
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
  const { id, status, trigger, pipelineId, pipelineVersion, templateSlug, error, errorNodeId, createdAt, startedAt, finishedAt } = run;
  return { id, status, trigger, pipelineId, pipelineVersion, templateSlug, error, errorNodeId, createdAt, startedAt, finishedAt };
}
