// The run queue on BullMQ (TUDSR_REDIS_URL set): a run is still a row first (server/db/runs.ts), then one job
// whose id is the run id, so a run is never queued twice (adding an existing job id is a no-op). Workers
// (`tudsr worker`, ./worker.ts) take the jobs; cancels go to them over Redis pub/sub, their events come back
// the same way (./bridge.ts).
import { Queue } from "bullmq";
import { interruptRun, markCanceled, runIdsWithStatus } from "../../db/runs";
import { publishRunEvent, subscribeRun } from "../events";
import type { CancelResult, RunQueue } from "../run-queue";
import { redisBridge } from "./bridge";
import { redisOptions, redisUrl, RUN_QUEUE } from "./config";

export interface RunJobData {
  runId: string;
}

/** Kept in Redis after they end: enough to look at, then cleaned up by BullMQ. */
const JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: { age: 24 * 3600, count: 5000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
};

const shared = globalThis as typeof globalThis & { __tudsrRunJobs?: Queue<RunJobData> };

/** This process's handle on the BullMQ queue of runs. */
export function runJobs(): Queue<RunJobData> {
  if (!shared.__tudsrRunJobs) {
    const url = redisUrl();
    if (!url) throw new Error("TUDSR_REDIS_URL is not set");
    const queue = new Queue<RunJobData>(RUN_QUEUE, { connection: redisOptions(url) });
    queue.on("error", (error: Error) => console.error(`run queue (redis): ${error.message}`));
    shared.__tudsrRunJobs = queue;
  }
  return shared.__tudsrRunJobs;
}

export async function closeRunJobs(): Promise<void> {
  const queue = shared.__tudsrRunJobs;
  shared.__tudsrRunJobs = undefined;
  await queue?.close();
}

export async function addRunJob(runId: string): Promise<void> {
  await runJobs().add("run", { runId }, { ...JOB_OPTIONS, jobId: runId });
}

export const distributedRunQueue: RunQueue = {
  async enqueue(runId) {
    publishRunEvent({ type: "run-queued", runId });
    await addRunJob(runId);
  },

  async cancel(runId): Promise<CancelResult> {
    const was = await markCanceled(runId);
    if (was === "queued") {
      // The job may already be taken; its worker then finds the row canceled and skips it.
      await runJobs()
        .remove(runId)
        .catch(() => undefined);
      publishRunEvent({ type: "run-canceled", runId });
      return "canceled";
    }
    if (was === "running") {
      // To every worker; the one holding the run aborts its engine (the others ignore it). A worker that
      // misses the message sees the row canceled at its next status check.
      await redisBridge().publishCancel(runId);
      return "canceling";
    }
    return "not-active";
  },

  subscribe: subscribeRun,
};

export const LOST_MESSAGE = "its worker was lost more often than TUDSR_WORKER_MAX_RETRIES allows";

/**
 * Makes the rows and the jobs agree (web app and worker start): a queued run without a job (the app stopped
 * between the row and the job) gets its job; a running run whose job has ended or is gone (Redis lost it)
 * ends `interrupted`, re-queueable. Runs whose jobs are alive are left to their workers. Returns what it did.
 */
export async function reconcileRuns(): Promise<{ enqueued: number; interrupted: string[] }> {
  const queue = runJobs();
  const queued = await runIdsWithStatus("queued");
  for (const runId of queued) await addRunJob(runId);
  const interrupted: string[] = [];
  for (const runId of await runIdsWithStatus("running")) {
    const job = await queue.getJob(runId);
    const state = job ? await job.getState() : "unknown";
    if (state === "active" || state === "waiting" || state === "delayed" || state === "prioritized" || state === "waiting-children") continue;
    if (await interruptRun(runId, `${LOST_MESSAGE} (its job is ${state})`)) {
      publishRunEvent({ type: "run-interrupted", runId });
      interrupted.push(runId);
    }
  }
  return { enqueued: queued.length, interrupted };
}

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
}

export async function runQueueDepth(): Promise<QueueDepth> {
  const counts = await runJobs().getJobCounts("waiting", "active", "delayed", "prioritized");
  return {
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
  };
}
