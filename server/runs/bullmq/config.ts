// Settings of the distributed run queue (BullMQ on Redis), all from the environment. TUDSR_REDIS_URL turns it
// on; without it nothing here is loaded and runs execute in the app's own executor, as before.
import { hostname } from "node:os";

/** The BullMQ queue of runs (one job per run, job id = run id). */
export const RUN_QUEUE = "tudsr-runs";
/** Tile fan-out (generate nodes with distribute: auto): a flow per node execution, one child job per batch. */
export const TILE_QUEUE = "tudsr-tiles";
/** Redis pub/sub channels: run events to the web apps' streams, cancels to the workers. */
export const EVENTS_CHANNEL = "tudsr:run-events";
export const CANCEL_CHANNEL = "tudsr:run-cancel";
/** Each live worker's heartbeat record: `tudsr:worker:<name>`, expiring unless refreshed. */
export const WORKER_KEY_PREFIX = "tudsr:worker:";

export function redisUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.TUDSR_REDIS_URL || undefined;
}

/** ioredis options for a redis:// or rediss:// URL (BullMQ makes its own connections from them). */
export function redisOptions(url: string) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`TUDSR_REDIS_URL is not a URL: "${url}" (e.g. redis://127.0.0.1:6379)`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new Error(`TUDSR_REDIS_URL must start with redis:// or rediss://, got "${parsed.protocol}//..."`);
  }
  const db = parsed.pathname.replace(/^\//, "");
  return {
    host: parsed.hostname || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
    // BullMQ's workers block on Redis: they must wait for a reconnect, not fail a command after N retries.
    maxRetriesPerRequest: null,
  };
}

function positiveInteger(name: string, fallback: number, min = 1): number {
  const text = process.env[name];
  if (!text) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be a whole number >= ${min}, got "${text}"`);
  return value;
}

export interface WorkerSettings {
  /** The job lock's duration; a worker silent this long (dead, or its machine gone) loses its run. */
  lockMs: number;
  /** How often workers look for stalled jobs (runs whose worker stopped renewing the lock). */
  stalledIntervalMs: number;
  /** How many times a run whose worker was lost runs again before it ends `interrupted`. */
  maxRetries: number;
  /** How often a worker refreshes its heartbeat record (it expires after 3 of these). */
  heartbeatMs: number;
}

/** TUDSR_WORKER_LOCK_MS (30000), TUDSR_WORKER_MAX_RETRIES (2), TUDSR_WORKER_HEARTBEAT_MS (5000). */
export function workerSettings(): WorkerSettings {
  const lockMs = positiveInteger("TUDSR_WORKER_LOCK_MS", 30_000, 1000);
  return {
    lockMs,
    stalledIntervalMs: lockMs,
    maxRetries: positiveInteger("TUDSR_WORKER_MAX_RETRIES", 2, 0),
    heartbeatMs: positiveInteger("TUDSR_WORKER_HEARTBEAT_MS", 5000, 100),
  };
}

/** How a worker is named on the Workers page and on the runs it ran: host/pid. */
export function workerName(pid = process.pid): string {
  return `${hostname()}/${pid}`;
}
