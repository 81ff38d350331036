// A run executor as its own process: `node --import tsx server/runs/worker-main.ts [--no-recover]`.
// It uses the same settings as the app (DATABASE_URL / TUDSR_DATA_DIR, TUDSR_RUN_CONCURRENCY, TUDSR_MAX_PIXELS,
// TUDSR_RUN_POLL_MS). Standalone, it first marks runs left `running` as interrupted (start-up recovery); an
// extra executor started beside a live one must pass --no-recover, or it would interrupt that one's runs.
// With --child it is the app's executor (server/runs/executor-process.ts): the parent recovers, and this
// process takes wake-ups and cancels from the IPC channel, sends its run events back, and stops (its runs
// ending `interrupted`) when told to or when the parent goes away.
// With --jobs it is the executor of a `tudsr worker` (server/runs/bullmq/worker.ts): it claims nothing itself;
// the parent hands it runs it claimed for their BullMQ jobs and it executes them (see ./job-executor.ts).
import { closeDb } from "../db/client";
import { subscribeAllRuns } from "./events";
import type { FromExecutor, ToExecutor } from "./executor-process";
import { recoverRuns } from "./queue";
import { cancelOnExecutors, wakeExecutors } from "./run-queue";
import { startRunWorker } from "./worker";

if (process.argv.includes("--jobs")) {
  await import("./job-executor");
} else {
  await main();
}

async function main(): Promise<void> {
  const asChild = process.argv.includes("--child") && typeof process.send === "function";
  const tell = (message: FromExecutor) => {
    // With a callback, a parent that has just died is an error here (the disconnect handler stops us), not a crash.
    if (process.connected) process.send!(message, undefined, {}, () => {});
  };

  const interrupted = !asChild && !process.argv.includes("--no-recover") ? await recoverRuns() : [];
  if (asChild) subscribeAllRuns((event) => tell({ type: "event", event }));
  const worker = startRunWorker();

  let stopping = false;
  async function shutdown(): Promise<void> {
    if (stopping) return;
    stopping = true;
    await worker.stop();
    await closeDb();
    process.exit(0);
  }

  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void shutdown());
  if (asChild) {
    process.on("message", (message: ToExecutor) => {
      if (message.type === "wake") wakeExecutors();
      else if (message.type === "cancel") void cancelOnExecutors(message.runId);
      else if (message.type === "stop") void shutdown();
    });
    // The app's process went away (crashed or killed): stop too, rather than run on unwatched.
    process.on("disconnect", () => void shutdown());
    tell({ type: "ready", pid: process.pid, concurrency: worker.concurrency });
  } else {
    console.log(JSON.stringify({ worker: "started", pid: process.pid, concurrency: worker.concurrency, interrupted }));
  }
}
