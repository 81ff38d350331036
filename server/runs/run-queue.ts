// The run queue's interface, and the executors of this process a queue reaches directly. The embedded queue
// (queue.ts) and the distributed one (bullmq/queue.ts) implement RunQueue; executors register here.
import type { RunListener } from "./events";

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
