// The app's run executor as a child process (server/runs/worker-main.ts --child). ONNX Runtime's session.run
// is synchronous: it holds its thread's event loop for a whole tile, so in the web server's process every
// request and event stream would stall while a run works. The child claims runs from the database like any
// worker; over its IPC channel it gets wake-ups and cancels and sends back run events, which this process
// publishes to its subscribers. If the child dies, its runs are marked interrupted and it is started again.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { REPO_ROOT } from "../platform/paths";
import { publishRunEvent, type RunEvent } from "./events";
import { recoverRuns } from "./queue";
import { registerExecutor } from "./run-queue";
import type { RunWorker } from "./worker";

/** Messages to the executor child. */
export type ToExecutor = { type: "wake" } | { type: "cancel"; runId: string } | { type: "stop" };
/** Messages from the executor child. */
export type FromExecutor = { type: "ready"; pid: number; concurrency: number } | { type: "event"; event: RunEvent };

export interface ExecutorProcessOptions {
  concurrency: number;
  pollMs?: number;
}

const WORKER_MAIN = path.join(REPO_ROOT, "server", "runs", "worker-main.ts");
/** How long a stopping child may take to record its runs as interrupted before it is killed. */
const STOP_GRACE_MS = 15_000;

/** Starts the executor child and resolves once it is ready (rejects if it cannot start). */
export async function startExecutorProcess(options: ExecutorProcessOptions): Promise<RunWorker> {
  let child: ChildProcess | undefined;
  let childPid = 0;
  let stopping = false;
  let restartDelay = 1000;

  const send = (message: ToExecutor) => {
    if (child?.connected) child.send(message);
  };

  function spawnChild(): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env, TUDSR_RUN_CONCURRENCY: String(options.concurrency) };
    if (options.pollMs !== undefined) env.TUDSR_RUN_POLL_MS = String(options.pollMs);
    const current = spawn(process.execPath, ["--import", "tsx", WORKER_MAIN, "--child"], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child = current;
    const startedAt = Date.now();
    let wasReady = false;
    const ready = new Promise<void>((resolve, reject) => {
      current.on("message", (message: FromExecutor) => {
        if (message.type === "event") publishRunEvent(message.event);
        else if (message.type === "ready") {
          wasReady = true;
          childPid = message.pid;
          resolve();
        }
      });
      current.once("error", reject);
      current.once("exit", (code, signal) => reject(new Error(`the run executor process exited (${signal ?? `code ${code}`}) before it was ready`)));
    });
    current.once("exit", (code, signal) => {
      // One that never became ready is reported by `ready` instead (no restart loop on a broken set-up).
      if (stopping || child !== current || !wasReady) return;
      // Up a minute or more: a crash, not a crash loop; start again quickly.
      if (Date.now() - startedAt > 60_000) restartDelay = 1000;
      console.error(`run executor process ${current.pid} exited (${signal ?? `code ${code}`}); its runs become interrupted, restarting in ${restartDelay} ms`);
      const delay = restartDelay;
      restartDelay = Math.min(restartDelay * 2, 30_000);
      void recoverRuns()
        .catch((error: Error) => console.error(`run executor: cannot mark its runs interrupted: ${error.message}`))
        .then(() => new Promise((resolve) => setTimeout(resolve, delay)))
        .then(() => {
          if (!stopping) spawnChild().catch((error: Error) => console.error(`run executor: ${error.message}`));
        });
    });
    return ready;
  }

  await spawnChild();
  const unregister = registerExecutor({
    wake: () => send({ type: "wake" }),
    // Whether the child runs it is not known here; it stops it on this message or at its next status check.
    cancel: (runId) => {
      send({ type: "cancel", runId });
      return false;
    },
  });

  return {
    concurrency: options.concurrency,
    get pid() {
      return childPid;
    },
    async stop() {
      stopping = true;
      unregister();
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = once(current, "exit");
      send({ type: "stop" });
      const timer = setTimeout(() => current.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
