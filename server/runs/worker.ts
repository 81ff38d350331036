// The embedded queue's worker: claims queued run rows from the database (never two workers the same run)
// and executes them (executor.ts), up to its concurrency at once; stops runs canceled elsewhere.
import { type ClaimedRun, claimNextRun, runStatuses } from "../db/runs";
import { workerName } from "./bullmq/config";
import { createRunExecutor, type RunExecutorOptions } from "./executor";
import { ABORT_CANCEL, ABORT_SHUTDOWN, registerExecutor } from "./run-queue";

export interface RunWorkerOptions extends Omit<RunExecutorOptions, "fanOutTiles"> {
  /** Runs executed at once; default $TUDSR_RUN_CONCURRENCY, else 1. */
  concurrency?: number;
  /** How often the database is polled for queued runs and for cancels made elsewhere; default $TUDSR_RUN_POLL_MS, else 1000 ms. */
  pollMs?: number;
}

export interface RunWorker {
  readonly concurrency: number;
  /** The process executing the runs (this one, or the executor child); its name on runs is host/pid. */
  readonly pid: number;
  /** Runs executing now (in this process; undefined when they run in a child process). */
  readonly running?: readonly string[];
  /** Stops claiming runs; runs in progress are stopped and end `interrupted` (re-queue them to run again). */
  stop(): Promise<void>;
}

export function runConcurrency(): number {
  const text = process.env.TUDSR_RUN_CONCURRENCY;
  if (!text) return 1;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`TUDSR_RUN_CONCURRENCY must be a whole number >= 1, got "${text}"`);
  return value;
}

export function startRunWorker(options: RunWorkerOptions = {}): RunWorker {
  const concurrency = options.concurrency ?? runConcurrency();
  const pollMs = options.pollMs ?? (Number(process.env.TUDSR_RUN_POLL_MS) || 1000);
  const executor = createRunExecutor(options);
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let stopped = false;
  let pumping: Promise<void> | undefined;
  let again = false;

  /** Claims queued runs while a slot is free. A call during a pass (a wake-up) asks for one more pass. */
  function pump(): Promise<void> {
    if (pumping) {
      again = true;
      return pumping;
    }
    pumping = (async () => {
      try {
        do {
          again = false;
          while (!stopped && running.size < concurrency) {
            const run = await claimNextRun(workerName());
            if (!run) break;
            start(run);
          }
        } while (again && !stopped);
      } catch (error) {
        console.error(`run worker: cannot claim runs (retrying in ${pollMs} ms): ${(error as Error).message}`);
      }
    })().finally(() => (pumping = undefined));
    return pumping;
  }

  function start(run: ClaimedRun): void {
    const controller = new AbortController();
    // Claimed while the worker was stopping: it ends at once, interrupted, and can be re-queued.
    if (stopped) controller.abort(ABORT_SHUTDOWN);
    const done = executor
      .execute(run, controller.signal)
      .then(() => undefined)
      .catch((error: Error) => console.error(`run worker: run ${run.id} could not be recorded: ${error.message}`))
      .finally(() => {
        running.delete(run.id);
        void pump();
      });
    running.set(run.id, { controller, done });
  }

  /** Runs canceled in the database by another process (or interrupted by a recovery) are stopped here too. */
  async function checkCanceled(): Promise<void> {
    if (running.size === 0) return;
    try {
      const statuses = await runStatuses([...running.keys()]);
      // Only runs the query saw: one claimed while it ran is not in `statuses` yet.
      for (const [runId, status] of statuses) {
        if (status !== "running") running.get(runId)?.controller.abort(ABORT_CANCEL);
      }
    } catch (error) {
      console.error(`run worker: cannot check run statuses: ${(error as Error).message}`);
    }
  }

  const unregister = registerExecutor({
    wake: () => void pump(),
    cancel: (runId) => {
      const entry = running.get(runId);
      entry?.controller.abort(ABORT_CANCEL);
      return entry !== undefined;
    },
  });
  const timer = setInterval(() => {
    void pump();
    void checkCanceled();
  }, pollMs);
  void pump();

  return {
    concurrency,
    pid: process.pid,
    get running() {
      return [...running.keys()];
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      unregister();
      await pumping;
      for (const { controller } of running.values()) controller.abort(ABORT_SHUTDOWN);
      await Promise.all([...running.values()].map((entry) => entry.done));
    },
  };
}
