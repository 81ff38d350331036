// `tudsr worker`: a BullMQ worker of the run queue, on any machine that reaches the database (Postgres), Redis
// and the artifact store. This process only takes jobs, renews their locks, hears cancels and relays events;
// the runs execute in its executor child (server/runs/job-executor.ts), so the engine never holds the event
// loop that keeps the locks alive (a held loop would look like a dead worker and have its runs taken away).
//
// Per job: claim the run row under a fresh owner token (queued -> running, or running -> running when the job
// came back because its previous worker was lost), execute, record under that token (a stale worker records
// nothing), return. Failure handling:
// - SIGTERM / SIGINT: graceful shutdown by HANDING BACK: no new jobs; running runs stop at the next tile, their
//   rows go back to queued and their jobs back to waiting, so another worker runs them from the start (runs are
//   deterministic: the output is the same). Why not finish them: a 2048 x8 run takes minutes, longer than the
//   grace period process managers give (Kubernetes: 30 s), and a run killed half way would be lost work anyway.
// - SIGKILL, a crash, a lost machine: the job's lock expires (TUDSR_WORKER_LOCK_MS); another worker's stalled
//   check puts it back in the queue and it runs again, up to TUDSR_WORKER_MAX_RETRIES times; after that the
//   job fails and the run ends `interrupted` (re-queue it from the studio or the API).
import { type Job, QueueEvents, WaitingError, Worker } from "bullmq";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { hostname } from "node:os";
import path from "node:path";
import { closeDb, getDb } from "../../db/client";
import { claimRunForJob, handBackRun, interruptRun } from "../../db/runs";
import { REPO_ROOT } from "../../platform/paths";
import { artifactStore } from "../../storage/store";
import type { ExecuteResult } from "../executor";
import type { FromJobExecutor, ToJobExecutor } from "../job-executor";
import { closeRedisBridge, redisBridge } from "./bridge";
import { redisOptions, redisUrl, RUN_QUEUE, TILE_QUEUE, workerName, workerSettings } from "./config";
import { closeRunJobs, LOST_MESSAGE, reconcileRuns, type RunJobData } from "./queue";
import type { TileJobData } from "./tiles";

const WORKER_MAIN = path.join(REPO_ROOT, "server", "runs", "worker-main.ts");

export interface WorkerProcessOptions {
  concurrency: number;
  /** Called with one line of JSON per notable thing (ready, stopping, stopped). */
  log?: (record: Record<string, unknown>) => void;
}

export interface RunningWorker {
  name: string;
  /** Hands the running runs back and stops. */
  stop(): Promise<void>;
  /** Resolves when the worker has stopped (by stop(), or because its executor died). */
  stopped: Promise<number>;
}

interface Pending {
  resolve: (result: ExecuteResult) => void;
  reject: (error: Error) => void;
}

export async function startWorkerProcess(options: WorkerProcessOptions): Promise<RunningWorker> {
  const url = redisUrl();
  if (!url) throw new Error("tudsr worker needs TUDSR_REDIS_URL (e.g. redis://127.0.0.1:6379): the queue it takes runs from");
  const log = options.log ?? ((record) => console.log(JSON.stringify(record)));
  const settings = workerSettings();
  const name = workerName();
  const startedAt = new Date().toISOString();
  const store = artifactStore();
  await getDb();
  const bridge = redisBridge("worker");
  await bridge.whenReady();
  const reconciled = await reconcileRuns();

  // The executor child.
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", WORKER_MAIN, "--jobs"], {
    cwd: REPO_ROOT,
    env: process.env,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pending = new Map<string, Pending>();
  const tilesPending = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  const send = (message: ToJobExecutor) => {
    if (child.connected) child.send(message);
  };
  await new Promise<void>((resolve, reject) => {
    child.on("message", (message: FromJobExecutor) => {
      if (message.type === "ready") resolve();
      else if (message.type === "event") bridge.publishEvent(message.event);
      else if (message.type === "finished") {
        const waiting = pending.get(message.runId);
        pending.delete(message.runId);
        if (message.result === "error") waiting?.reject(new Error(message.message ?? "the executor failed"));
        else waiting?.resolve(message.result);
      } else if (message.type === "tile-done") {
        const waiting = tilesPending.get(message.jobId);
        tilesPending.delete(message.jobId);
        if (message.error) waiting?.reject(new Error(message.error));
        else waiting?.resolve();
      }
    });
    child.once("exit", (code, signal) => reject(new Error(`the executor process exited (${signal ?? `code ${code}`}) before it was ready`)));
  });

  let stopping = false;
  let resolveStopped: (code: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => (resolveStopped = resolve));
  const running = new Set<string>();

  async function processJob(job: Job<RunJobData>, token?: string): Promise<{ result: ExecuteResult | "skipped" }> {
    const { runId } = job.data;
    const owner = `a${job.attemptsStarted}-${randomBytes(4).toString("hex")}`;
    const handBack = async () => {
      await job.moveToWait(token);
      throw new WaitingError();
    };
    if (stopping) return handBack();
    const run = await claimRunForJob(runId, owner, name);
    if (!run) return { result: "skipped" }; // canceled while queued, or already recorded
    if (stopping) {
      await handBackRun(runId, owner);
      return handBack();
    }
    running.add(runId);
    try {
      const result = await new Promise<ExecuteResult>((resolve, reject) => {
        pending.set(runId, { resolve, reject });
        send({ type: "execute", run, claim: { owner, worker: name } });
      });
      if (result === "handed-back") return handBack();
      return { result };
    } finally {
      running.delete(runId);
    }
  }

  const worker = new Worker<RunJobData>(RUN_QUEUE, processJob, {
    connection: redisOptions(url),
    concurrency: options.concurrency,
    lockDuration: settings.lockMs,
    stalledInterval: settings.stalledIntervalMs,
    maxStalledCount: settings.maxRetries,
    name,
  });
  worker.on("error", (error: Error) => console.error(`tudsr worker ${name}: ${error.message}`));

  // Tile batches of distributed generate nodes (./tiles.ts), one at a time by default: they are CPU-bound in the
  // same executor. A batch is short, so a stopping worker finishes the one it has rather than handing it back.
  const tileWorker = new Worker<TileJobData>(
    TILE_QUEUE,
    async (job) => {
      if (job.name === "fan-in") return { batches: Object.keys(await job.getChildrenValues()).length };
      await new Promise<void>((resolve, reject) => {
        tilesPending.set(job.id!, { resolve, reject });
        send({ type: "tile", jobId: job.id!, data: job.data });
      });
      return { output: job.data.output, worker: name, attempt: job.attemptsStarted };
    },
    {
      connection: redisOptions(url),
      concurrency: Number(process.env.TUDSR_TILE_CONCURRENCY) || 1,
      lockDuration: settings.lockMs,
      stalledInterval: settings.stalledIntervalMs,
      maxStalledCount: settings.maxRetries,
      name,
    },
  );
  tileWorker.on("error", (error: Error) => console.error(`tudsr worker ${name} (tiles): ${error.message}`));

  // A job that failed (its workers were lost more often than the retry limit, or an error outside the run,
  // such as the database being unreachable) leaves its run `running`: it ends interrupted, re-queueable.
  const events = new QueueEvents(RUN_QUEUE, { connection: redisOptions(url) });
  events.on("failed", ({ jobId, failedReason }) => {
    void interruptRun(jobId, `${LOST_MESSAGE}: ${failedReason}`)
      .then((done) => done && bridge.publishEvent({ type: "run-interrupted", runId: jobId }))
      .catch((error: Error) => console.error(`tudsr worker ${name}: cannot mark run ${jobId} interrupted: ${error.message}`));
  });
  events.on("error", (error: Error) => console.error(`tudsr worker ${name} (queue events): ${error.message}`));

  const unsubscribeCancel = bridge.onCancel((runId) => {
    if (running.has(runId)) send({ type: "cancel", runId });
  });

  const heartbeat = async () => {
    try {
      await bridge.setWorker(
        {
          name,
          host: hostname(),
          pid: process.pid,
          concurrency: options.concurrency,
          running: [...running],
          startedAt,
          heartbeatAt: new Date().toISOString(),
          store: store.description,
        },
        settings.heartbeatMs * 3,
      );
    } catch (error) {
      console.error(`tudsr worker ${name}: heartbeat failed: ${(error as Error).message}`);
    }
  };
  await heartbeat();
  const heartbeatTimer = setInterval(() => void heartbeat(), settings.heartbeatMs);

  async function shutdown(code: number): Promise<void> {
    if (stopping) return stopped.then(() => undefined);
    stopping = true;
    log({ worker: "stopping", name, handingBack: [...running] });
    clearInterval(heartbeatTimer);
    unsubscribeCancel();
    send({ type: "hand-back" });
    await Promise.all([worker.close(), tileWorker.close()]); // waits for the processors: each hands its run back
    for (const { reject } of pending.values()) reject(new Error("the worker stopped"));
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await events.close();
    await bridge.removeWorker(name).catch(() => undefined);
    await closeRunJobs();
    await closeRedisBridge();
    await closeDb();
    log({ worker: "stopped", name });
    resolveStopped(code);
  }

  child.once("exit", (code, signal) => {
    if (stopping) return;
    // The engine's process died (e.g. out of memory): this worker stops without recording anything, as if
    // its machine had gone; its runs' locks expire and other workers run them again.
    console.error(`tudsr worker ${name}: the executor process exited (${signal ?? `code ${code}`}); stopping`);
    process.exit(1);
  });

  log({ worker: "ready", name, pid: process.pid, concurrency: options.concurrency, store: store.description, ...reconciled });
  return { name, stop: () => shutdown(0), stopped };
}

/** `tudsr worker`: runs until SIGTERM / SIGINT, then hands its runs back; the exit code. */
export async function workerCommand(options: WorkerProcessOptions): Promise<number> {
  const running = await startWorkerProcess(options);
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => void running.stop());
  return running.stopped;
}
