// The app's executor: one per process, started on first use, in a child process (the default) or in-process.
import { startExecutorProcess } from "./executor-process";
import { recoverRuns } from "./queue";
import { runConcurrency, type RunWorker, type RunWorkerOptions, startRunWorker } from "./worker";

// One executor per process for the app, shared across module copies like the database client.
const shared = globalThis as typeof globalThis & { __tudsrRunWorker?: Promise<RunWorker> };

export interface AppWorkerOptions extends RunWorkerOptions {
  /**
   * Where runs execute: "process" (default) in a child process this one starts and watches (ONNX Runtime's
   * session.run blocks its event loop for a whole tile, about 1.6 s with the thick x4 model on 128 px, which
   * would stall every request of the web server), or "in-process". Default: $TUDSR_RUN_EXECUTOR, else "process".
   * `inference` is used in-process only.
   */
  executor?: "process" | "in-process";
}

/** Recovers (see recoverRuns) and starts this process's executor, once; later calls return the same one. */
export function ensureRunWorker(options: AppWorkerOptions = {}): Promise<RunWorker> {
  if (!shared.__tudsrRunWorker) {
    const executor = options.executor ?? (process.env.TUDSR_RUN_EXECUTOR === "in-process" ? "in-process" : "process");
    const starting = recoverRuns().then(() =>
      executor === "in-process" ? startRunWorker(options) : startExecutorProcess({ ...options, concurrency: options.concurrency ?? runConcurrency() }),
    );
    shared.__tudsrRunWorker = starting;
    starting.catch(() => {
      if (shared.__tudsrRunWorker === starting) shared.__tudsrRunWorker = undefined;
    });
  }
  return shared.__tudsrRunWorker;
}

/** The executor ensureRunWorker started in this process, if it has started (the Workers page). */
export function currentRunWorker(): Promise<RunWorker> | undefined {
  return shared.__tudsrRunWorker;
}

/** Stops the executor ensureRunWorker started, if any (tests, shutdown). */
export async function stopRunWorker(): Promise<void> {
  const starting = shared.__tudsrRunWorker;
  shared.__tudsrRunWorker = undefined;
  const worker = await starting?.catch(() => undefined);
  await worker?.stop();
}
