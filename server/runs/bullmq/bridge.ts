// Redis pub/sub between the web apps and the workers: run events (engine progress, previews, run ends) reach
// every web app's SSE streams, where events.ts keeps replaying them to watches that start mid-run; cancels
// reach the worker holding the run. One bridge per process (a publishing and a subscribed connection).
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { deliverRunEvent, type RunEvent, setRunEventRelay } from "../events";
import { CANCEL_CHANNEL, EVENTS_CHANNEL, redisOptions, redisUrl, WORKER_KEY_PREFIX } from "./config";

interface EventMessage {
  origin: string;
  event: RunEvent;
}

export interface WorkerRecord {
  name: string;
  host: string;
  pid: number;
  concurrency: number;
  /** Run ids it executes now. */
  running: string[];
  startedAt: string;
  heartbeatAt: string;
  /** Where it reads and writes artifacts. */
  store: string;
}

export class RedisBridge {
  readonly origin = randomUUID();
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly cancelHandlers = new Set<(runId: string) => void>();
  private ready: Promise<void>;

  constructor(url: string, private readonly options: { deliverEvents: boolean }) {
    const connection = redisOptions(url);
    this.pub = new Redis({ ...connection, lazyConnect: false });
    this.sub = new Redis({ ...connection, lazyConnect: false });
    for (const client of [this.pub, this.sub]) {
      client.on("error", (error: Error) => console.error(`redis (${url}): ${error.message}`));
    }
    this.sub.on("message", (channel: string, text: string) => this.onMessage(channel, text));
    const channels = options.deliverEvents ? [EVENTS_CHANNEL, CANCEL_CHANNEL] : [CANCEL_CHANNEL];
    this.ready = this.sub.subscribe(...channels).then(() => undefined);
  }

  /** Resolves once the subscriptions are in place. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private onMessage(channel: string, text: string): void {
    try {
      if (channel === EVENTS_CHANNEL && this.options.deliverEvents) {
        const message = JSON.parse(text) as EventMessage;
        if (message.origin !== this.origin) deliverRunEvent(message.event);
      } else if (channel === CANCEL_CHANNEL) {
        const { runId } = JSON.parse(text) as { runId: string };
        for (const handler of this.cancelHandlers) handler(runId);
      }
    } catch (error) {
      console.error(`redis bridge: bad message on ${channel}: ${(error as Error).message}`);
    }
  }

  publishEvent(event: RunEvent): void {
    const message: EventMessage = { origin: this.origin, event };
    this.pub.publish(EVENTS_CHANNEL, JSON.stringify(message)).catch((error: Error) => console.error(`redis bridge: cannot publish a run event: ${error.message}`));
  }

  async publishCancel(runId: string): Promise<void> {
    await this.pub.publish(CANCEL_CHANNEL, JSON.stringify({ runId }));
  }

  onCancel(handler: (runId: string) => void): () => void {
    this.cancelHandlers.add(handler);
    return () => this.cancelHandlers.delete(handler);
  }

  async setWorker(record: WorkerRecord, ttlMs: number): Promise<void> {
    await this.pub.set(WORKER_KEY_PREFIX + record.name, JSON.stringify(record), "PX", ttlMs);
  }

  async removeWorker(name: string): Promise<void> {
    await this.pub.del(WORKER_KEY_PREFIX + name);
  }

  /** The workers whose heartbeat has not expired. */
  async workers(): Promise<WorkerRecord[]> {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await this.pub.scan(cursor, "MATCH", `${WORKER_KEY_PREFIX}*`, "COUNT", 200);
      keys.push(...found);
      cursor = next;
    } while (cursor !== "0");
    if (keys.length === 0) return [];
    const values = await this.pub.mget(...keys);
    return values
      .filter((value): value is string => value !== null)
      .map((value) => JSON.parse(value) as WorkerRecord)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
  }
}

// One per process, on globalThis (Next's dev server may load this module twice).
const shared = globalThis as typeof globalThis & { __tudsrRedisBridge?: RedisBridge };

/**
 * This process's bridge, started on first use. It forwards the events this process publishes; a web app's also
 * delivers the other processes' events to its listeners (a worker's only hears cancels).
 */
export function redisBridge(role: "app" | "worker" = "app"): RedisBridge {
  if (!shared.__tudsrRedisBridge) {
    const url = redisUrl();
    if (!url) throw new Error("TUDSR_REDIS_URL is not set");
    const bridge = new RedisBridge(url, { deliverEvents: role === "app" });
    shared.__tudsrRedisBridge = bridge;
    setRunEventRelay((event) => bridge.publishEvent(event));
  }
  return shared.__tudsrRedisBridge;
}

export async function closeRedisBridge(): Promise<void> {
  const bridge = shared.__tudsrRedisBridge;
  shared.__tudsrRedisBridge = undefined;
  setRunEventRelay(undefined);
  await bridge?.close();
}
