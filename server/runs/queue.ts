// The run queue as the API sees it: one small interface (run-queue.ts), two implementations chosen by configuration.
// Embedded (the default): runs are rows first (server/db/runs.ts); executors (server/runs/worker.ts) claim
// queued rows from the database, in this process or in a child process (the app's default,
// server/runs/executor-process.ts): only the wake-up on enqueue, the cancel of a running run and the event
// transport go directly to an executor, and the first two have a database fallback (the worker polls for
// queued runs and for cancels). Distributed (TUDSR_REDIS_URL): each run row also becomes a BullMQ job that
// `tudsr worker` processes on any machine take (server/runs/bullmq/).
import { prepareGraph } from "../../nodes/graph/prepared-graph";
import { nodeRegistry } from "../../nodes/index";
import type { RunTrigger } from "../db/run-statuses";
import { getRunStamp, insertRerun, insertRun, markCanceled, markInterrupted, requeueRun, type RunDetail } from "../db/runs";
import { publishRunEvent, subscribeRun } from "./events";
import { checkRunInputs, resolveRunRequest, type RunRequest } from "./request";
import { cancelOnExecutors, type RunQueue, wakeExecutors } from "./run-queue";

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

/** A run request with what it runs on and who asked. */
export interface RunSubmission extends RunRequest {
  /** load-image input name -> id of an uploaded (input) artifact. */
  inputs: Record<string, string>;
  trigger: RunTrigger;
}

/**
 * Creates a queued run, checked first (nothing is stored for a bad request): GraphValidationError (every
 * problem, with node ids) for a bad graph, BadInputError for an override of an unknown node or inputs that do
 * not match the graph's load-image nodes, NotFoundError for an unknown pipeline, template or artifact.
 */
export async function createRun(run: RunSubmission): Promise<RunDetail> {
  const { prepared, source } = await resolveRunRequest(run);
  await checkRunInputs(prepared.graph, run.inputs);
  return insertRun({ graph: prepared.graph, overrides: run.overrides ?? [], inputs: run.inputs, trigger: run.trigger, pipelineVersionId: source.pipelineVersionId, templateId: source.templateId });
}

/** Creates a queued run (see createRun for its errors) and enqueues it. */
export async function submitRun(run: RunSubmission, queue: RunQueue = runQueue): Promise<RunDetail> {
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

/**
 * Re-runs a run exactly, as a new run of the graph its stamp recorded (its executor compares the stamp of its
 * machine with the recorded one first), and enqueues it. BadInputError for a run without a stamp.
 */
export async function rerun(runId: string, options: { force?: boolean; trigger?: RunTrigger }, queue: RunQueue = runQueue): Promise<RunDetail> {
  const stamp = await getRunStamp(runId);
  const { graph } = await prepareGraph(JSON.parse(stamp.graph.canonical), { registry: nodeRegistry });
  const created = await insertRerun(runId, graph, options);
  await queue.enqueue(created.id);
  return created;
}
