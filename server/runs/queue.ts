// The run queue, as the API sees it: one small interface, two implementations chosen by the environment.
// Embedded (the default): runs are rows first (server/db/runs.ts); executors (server/runs/worker.ts) claim
// queued rows from the database, in this process or in a child process (the app's default,
// server/runs/executor-process.ts): only the wake-up on enqueue, the cancel of a running run and the event
// transport go directly to an executor, and the first two have a database fallback (the worker polls for
// queued runs and for cancels). Distributed (TUDSR_REDIS_URL): each run row also becomes a BullMQ job that
// `tudsr worker` processes on any machine take (server/runs/bullmq/).
import { createRun, markCanceled, markInterrupted, type NewRun, requeueRun, rerunRun, type RunDetail, type RunTrigger } from "../db/runs";
import { publishRunEvent, type RunListener, subscribeRun } from "./events";

/**
 * - `canceled`: it was queued and will never run;
 * - `canceling`: it was running; its engine is being stopped and it ends with a `run-canceled` event;
 * - `not-active`: it had already ended (its status is unchanged).
 */
export type CancelResult = "canceled" | "canceling" | "not-active";

export interface RunQueue {
  /** Hands a queued run row (made by createRun) to the executors. */
  enqueue(runId: string): Promise<void>;
  cancel(runId: string): Promise<CancelResult>;
  /** Live events of one run; returns the unsubscribe function. */
  subscribe(runId: string, listener: RunListener): () => void;
}

/** Why a local run's AbortController was aborted. */
export const ABORT_CANCEL = "cancel";
export const ABORT_SHUTDOWN = "shutdown";
/** A `tudsr worker` shutting down hands its runs back to the distributed queue (they run again elsewhere). */
export const ABORT_HANDBACK = "hand-back";

/**
 * An executor this process can reach directly: an in-process worker, or the handle of an executor child
 * process. Both are only fast paths: a worker also polls the database for queued runs and for cancels.
 */
export interface LocalExecutor {
  /** A run was queued. */
  wake(): void;
  /** Stop this run if it runs here; true when it was running in this process. */
  cancel(runId: string): boolean;
}

// On globalThis: Next's dev server may load this module twice; there is one set of executors per process.
const shared = globalThis as typeof globalThis & { __tudsrRunExecutors?: Set<LocalExecutor> };
const executors: Set<LocalExecutor> = (shared.__tudsrRunExecutors ??= new Set());

/** Registers an executor; returns the function that removes it. */
export function registerExecutor(executor: LocalExecutor): () => void {
  executors.add(executor);
  return () => executors.delete(executor);
}

export function wakeExecutors(): void {
  for (const executor of executors) executor.wake();
}

/** True when an executor of this process was running the run. */
export function cancelOnExecutors(runId: string): boolean {
  let found = false;
  for (const executor of executors) found = executor.cancel(runId) || found;
  return found;
}

/** The embedded queue (the default): executors of this machine claim the rows from the database. */
export const embeddedRunQueue: RunQueue = {
  async enqueue(runId) {
    publishRunEvent({ type: "run-queued", runId });
    wakeExecutors();
  },

  async cancel(runId) {
    // A run executing in this process is stopped before the database hears of it: an in-process worker's
    // event loop is free only between tiles, and each database round trip would wait for one.
    const stoppedHere = cancelOnExecutors(runId);
    const was = await markCanceled(runId);
    if (was === "queued") {
      publishRunEvent({ type: "run-canceled", runId });
      return "canceled";
    }
    if (was === "running" || stoppedHere) {
      // Again: it may have been claimed meanwhile. An executor elsewhere sees the row at its next status check.
      cancelOnExecutors(runId);
      return "canceling";
    }
    return "not-active";
  },

  subscribe: subscribeRun,
};

/** True when TUDSR_REDIS_URL selects the distributed queue (BullMQ on Redis, `tudsr worker` processes). */
export function distributedQueueEnabled(): boolean {
  return Boolean(process.env.TUDSR_REDIS_URL);
}

// Loaded only when configured: without Redis, bullmq and ioredis are never imported.
const distributed = () => import("./bullmq/queue").then((module) => module.distributedRunQueue);

/** The configured queue: the distributed one with TUDSR_REDIS_URL, else the embedded one. */
export const runQueue: RunQueue = {
  enqueue: async (runId) => (distributedQueueEnabled() ? (await distributed()).enqueue(runId) : embeddedRunQueue.enqueue(runId)),
  cancel: async (runId) => (distributedQueueEnabled() ? (await distributed()).cancel(runId) : embeddedRunQueue.cancel(runId)),
  subscribe: subscribeRun,
};

/**
 * Start-up recovery: runs left `running` (the process executing them died) become `interrupted`. Queued runs
 * are left as they are; a worker executes them. Call before the deployment's executor starts: it assumes
 * nothing else is executing runs now. Returns the interrupted run ids.
 */
export async function recoverRuns(): Promise<string[]> {
  const ids = await markInterrupted();
  for (const runId of ids) publishRunEvent({ type: "run-interrupted", runId });
  return ids;
}

/** Creates a queued run (see createRun for its errors) and enqueues it. */
export async function submitRun(run: NewRun, queue: RunQueue = runQueue): Promise<RunDetail> {
  const created = await createRun(run);
  await queue.enqueue(created.id);
  return created;
}

/** Re-queues an interrupted, failed or canceled run as a new run (see requeueRun) and enqueues it. */
export async function requeue(runId: string, trigger?: RunTrigger, queue: RunQueue = runQueue): Promise<RunDetail> {
  const created = await requeueRun(runId, trigger);
  await queue.enqueue(created.id);
  return created;
}

/** Re-runs a run exactly as a new run (see rerunRun: its executor checks the stamp first) and enqueues it. */
export async function rerun(runId: string, options: { force?: boolean; trigger?: RunTrigger }, queue: RunQueue = runQueue): Promise<RunDetail> {
  const created = await rerunRun(runId, options);
  await queue.enqueue(created.id);
  return created;
}
