// The executor child of a `tudsr worker` (worker-main.ts --jobs): ONNX Runtime's session.run holds its
// thread's event loop for a whole tile, so the worker's own process, which renews its BullMQ job locks and
// hears cancels, never runs the engine. Over IPC it gets runs the parent has claimed for their jobs, cancels
// and hand-backs (shutdown), and sends back each run's events and how each execution ended.
import { closeDb } from "../db/client";
import type { ClaimedRun } from "../db/runs";
import { runStatuses } from "../db/runs";
import { InferenceService } from "../inference/inference-service";
import { modelsDir } from "../models/manifest";
import { closeTileClients, runTileJob, tileFanOut, type TileJobData } from "./bullmq/tiles";
import { type RunEvent, subscribeAllRuns } from "./events";
import { createRunExecutor, type ExecuteResult, type RunClaim } from "./executor";
import { ABORT_CANCEL, ABORT_HANDBACK } from "./run-queue";

/** Messages to a job executor. */
export type ToJobExecutor =
  | { type: "execute"; run: ClaimedRun; claim: RunClaim }
  | { type: "cancel"; runId: string }
  /** Abort every run with ABORT_HANDBACK: each ends `handed-back` (queued again). */
  | { type: "hand-back" }
  /** One tile batch of a distributed generate node (a child job of a fan-out). */
  | { type: "tile"; jobId: string; data: TileJobData }
  | { type: "stop" };

/** Messages from a job executor. */
export type FromJobExecutor =
  | { type: "ready"; pid: number }
  | { type: "event"; event: RunEvent }
  | { type: "finished"; runId: string; result: ExecuteResult | "error"; message?: string }
  | { type: "tile-done"; jobId: string; error?: string };

const tell = (message: FromJobExecutor) => {
  if (process.connected) process.send!(message, undefined, {}, () => {});
};

// TUDSR_INTRA_OP_THREADS: ONNX Runtime threads per session (default: every core of the machine).
const threads = Number(process.env.TUDSR_INTRA_OP_THREADS) || undefined;
const inference = new InferenceService(modelsDir(), threads);
const executor = createRunExecutor({ inference, fanOutTiles: tileFanOut });
const running = new Map<string, AbortController>();
const pollMs = Number(process.env.TUDSR_RUN_POLL_MS) || 1000;

subscribeAllRuns((event) => tell({ type: "event", event }));

function execute(run: ClaimedRun, claim: RunClaim): void {
  const controller = new AbortController();
  running.set(run.id, controller);
  executor
    .execute(run, controller.signal, claim)
    .then((result) => tell({ type: "finished", runId: run.id, result }))
    .catch((error: Error) => tell({ type: "finished", runId: run.id, result: "error", message: error.message }))
    .finally(() => running.delete(run.id));
}

// A fallback for cancels whose pub/sub message this worker missed: the row says canceled.
const timer = setInterval(async () => {
  if (running.size === 0) return;
  try {
    for (const [runId, status] of await runStatuses([...running.keys()])) {
      if (status !== "running") running.get(runId)?.abort(ABORT_CANCEL);
    }
  } catch (error) {
    console.error(`job executor: cannot check run statuses: ${(error as Error).message}`);
  }
}, pollMs);

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  for (const controller of running.values()) controller.abort(ABORT_HANDBACK);
  while (running.size > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  await closeTileClients();
  await closeDb();
  process.exit(code);
}

process.on("message", (message: ToJobExecutor) => {
  if (message.type === "execute") execute(message.run, message.claim);
  else if (message.type === "tile") {
    runTileJob(message.data, inference)
      .then(() => tell({ type: "tile-done", jobId: message.jobId }))
      .catch((error: Error) => tell({ type: "tile-done", jobId: message.jobId, error: error.message }));
  }
  else if (message.type === "cancel") running.get(message.runId)?.abort(ABORT_CANCEL);
  else if (message.type === "hand-back") for (const controller of running.values()) controller.abort(ABORT_HANDBACK);
  else if (message.type === "stop") void stop(0);
});
// Its worker is gone (killed): stop at once, recording nothing; the worker's jobs stall and run elsewhere.
process.on("disconnect", () => process.exit(1));
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => {});
tell({ type: "ready", pid: process.pid });
