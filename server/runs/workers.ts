// What the Workers page shows: the processes executing runs and the queue's depth. Distributed queue: the
// `tudsr worker` processes whose heartbeat is live (Redis) and BullMQ's job counts. Embedded: this app's own
// executor and the database's queued/running counts.
import { hostname } from "node:os";
import { getDb } from "../db/client";
import { artifactStore } from "../storage/store";
import { currentRunWorker } from "./app-worker";
import { workerName } from "./bullmq/config";
import { distributedQueueEnabled } from "./queue";

export interface WorkerInfo {
  /** host/pid: what the runs it ran show. */
  name: string;
  host: string;
  pid: number;
  concurrency: number;
  /** Run ids it executes now. */
  running: string[];
  startedAt: string | null;
  heartbeatAt: string;
  /** Where it keeps artifacts. */
  store: string;
}

export interface WorkersOverview {
  mode: "embedded" | "distributed";
  workers: WorkerInfo[];
  queue: { waiting: number; active: number; delayed: number };
}

export async function listWorkers(): Promise<WorkersOverview> {
  if (distributedQueueEnabled()) {
    const [{ redisBridge }, { runQueueDepth }] = await Promise.all([import("./bullmq/bridge"), import("./bullmq/queue")]);
    const [workers, queue] = await Promise.all([redisBridge().workers(), runQueueDepth()]);
    return { mode: "distributed", workers, queue };
  }
  const db = await getDb();
  const [waiting, active, running] = await Promise.all([
    db.run.count({ where: { status: "queued" } }),
    db.run.count({ where: { status: "running" } }),
    db.run.findMany({ where: { status: "running" }, select: { id: true }, orderBy: { startedAt: "asc" } }),
  ]);
  const executor = await currentRunWorker()?.catch(() => undefined);
  const workers: WorkerInfo[] = executor
    ? [
        {
          name: workerName(executor.pid),
          host: hostname(),
          pid: executor.pid,
          concurrency: executor.concurrency,
          running: executor.running ? [...executor.running] : running.map((run) => run.id),
          startedAt: null,
          heartbeatAt: new Date().toISOString(),
          store: artifactStore().description,
        },
      ]
    : [];
  return { mode: "embedded", workers, queue: { waiting, active, delayed: 0 } };
}
