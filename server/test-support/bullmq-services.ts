// Test helpers for the scale-out tests: a Redis server (Debian's redis-server, on a free 127.0.0.1 port, its
// own folder, nothing saved) and an S3-compatible server (s3rver, in this process), both started and stopped by
// the test; `tudsr worker` processes as a user starts them (bin/tudsr.mjs worker).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { REPO_ROOT } from "../platform/paths";

/** Why a scale-out test cannot run here, or false. */
export function redisMissing(): string | false {
  const found = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  return found.error || found.status !== 0 ? "redis-server is not installed (scripts/test-system-packages.sh installs it)" : false;
}

async function freePort(): Promise<number> {
  const server: Server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), "tudsr-redis-"));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "no", "--daemonize", "no"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines = createInterface({ input: child.stdout! });
    const ready = await Promise.race([
      (async () => {
        for await (const line of lines) if (/Ready to accept connections/i.test(line)) return true;
        return false;
      })(),
      once(child, "exit").then(() => false),
      sleep(15_000).then(() => false),
    ]);
    if (ready) {
      lines.on("line", () => {}); // keep draining its output
      return {
        url: `redis://127.0.0.1:${port}`,
        async stop() {
          if (child.exitCode === null) {
            const exited = once(child, "exit");
            child.kill("SIGKILL");
            await exited;
          }
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill("SIGKILL");
    if (attempt >= 3) throw new Error("redis-server did not start");
  }
}

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The environment that points a process at it. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** s3rver in this process, with one bucket; signed requests with fixed test credentials. */
export async function startS3(bucket = "tudsr-test"): Promise<TestS3> {
  const S3rver = createRequire(import.meta.url)("s3rver") as new (options: Record<string, unknown>) => {
    run(): Promise<{ port: number }>;
    httpServer?: Server;
    close(): Promise<void>;
  };
  const dir = await mkdtemp(path.join(tmpdir(), "tudsr-s3-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      TUDSR_S3_ENDPOINT: endpoint,
      TUDSR_S3_BUCKET: bucket,
      TUDSR_S3_REGION: "us-east-1",
      // s3rver's fixed credentials.
      TUDSR_S3_ACCESS_KEY_ID: "S3RVER",
      TUDSR_S3_SECRET_ACCESS_KEY: "S3RVER",
      TUDSR_S3_FORCE_PATH_STYLE: "true",
    },
    async stop() {
      server.httpServer?.closeAllConnections();
      await server.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** host/pid, as on the runs it ran. */
  name: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Its JSON log lines so far. */
  records: Record<string, unknown>[];
}

/** Starts `tudsr worker` (node bin/tudsr.mjs worker ...) and waits for its ready line. */
export async function startWorker(env: Record<string, string | undefined>, args: string[] = []): Promise<WorkerProcess> {
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "bin", "tudsr.mjs"), "worker", ...args], {
    cwd: REPO_ROOT,
    env: merged,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const records: Record<string, unknown>[] = [];
  const exited = once(child, "exit").then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const lines = createInterface({ input: child.stdout! });
  let ready: (record: Record<string, unknown>) => void = () => {};
  const readyRecord = new Promise<Record<string, unknown>>((resolve) => (ready = resolve));
  lines.on("line", (line) => {
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      records.push(record);
      if (record.worker === "ready") ready(record);
    } catch {
      console.log(`[worker ${child.pid}] ${line}`);
    }
  });
  const record = await Promise.race([
    readyRecord,
    exited.then(({ code, signal }) => {
      throw new Error(`tudsr worker exited (${signal ?? code}) before it was ready`);
    }),
    sleep(120_000).then(() => {
      throw new Error("tudsr worker was not ready after 120 s");
    }),
  ]);
  return { child, pid: child.pid!, name: String(record.name), exited, records };
}

/** SIGTERM (hand back and stop), waiting for the exit; SIGKILL after `graceMs`. */
export async function stopWorker(worker: WorkerProcess, graceMs = 60_000): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill("SIGTERM");
  const timer = setTimeout(() => worker.child.kill("SIGKILL"), graceMs);
  await worker.exited;
  clearTimeout(timer);
}
