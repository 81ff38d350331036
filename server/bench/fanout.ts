// Tile fan-out bench (run by `npm run bench`, or alone: node --import tsx server/bench/fanout.ts [--json]):
// one x8-twice 256->2048 run with `distribute: auto` on one `tudsr worker` (one intra-op thread), then the same
// run on two such workers; the two outputs must be byte-identical, and the speed ratio is printed. Starts its own
// Redis (redis-server) and uses a fresh SQLite database and data folder shared by the workers of this machine.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { centreCrop } from "../../fixtures/photos";
import type { ParamOverride } from "../../nodes/graph/overrides";
import { readArtifactContent, storeUpload } from "../db/artifacts";
import { closeDb, getDb } from "../db/client";
import { getRun } from "../db/runs";
import { closeRedisBridge, redisBridge } from "../runs/bullmq/bridge";
import { closeRunJobs } from "../runs/bullmq/queue";
import { submitRun } from "../runs/queue";
import { redisMissing, startRedis, startWorker, stopWorker, type WorkerProcess } from "../test-support/bullmq-services";
import { waitForEnd } from "../test-support/runs";

export interface FanOutResult {
  oneWorkerMs: number;
  twoWorkersMs: number;
  speedup: number;
  identical: boolean;
  tileBatches: number;
  threadsPerWorker: number;
}

// Fixed 128 px tiles (9 then 81): the template's auto tiles would take this input in a tile or two per stage.
const DISTRIBUTE: ParamOverride[] = [
  { nodeId: "generate1", param: "distribute", value: "auto" },
  { nodeId: "generate2", param: "distribute", value: "auto" },
  ...["chunk1", "chunk2"].flatMap((nodeId): ParamOverride[] => [
    { nodeId, param: "tileSize", value: 128 },
    { nodeId, param: "overlap", value: 16 },
  ]),
];

export async function fanOutBench(log: (line: string) => void = console.log): Promise<FanOutResult> {
  const missing = redisMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(path.join(os.tmpdir(), "tudsr-fanout-bench-"));
  const redis = await startRedis();
  const env = { TUDSR_DATA_DIR: dir, DATABASE_URL: undefined, TUDSR_REDIS_URL: redis.url, TUDSR_INTRA_OP_THREADS: "1", TUDSR_NODE_CACHE_MB: "0" };
  const saved = { ...process.env };
  Object.assign(process.env, { TUDSR_DATA_DIR: dir, TUDSR_REDIS_URL: redis.url });
  delete process.env.DATABASE_URL;
  delete process.env.TUDSR_S3_BUCKET;
  const workers: WorkerProcess[] = [];
  try {
    await getDb();
    await redisBridge("app").whenReady();
    const upload = async (bytes: Buffer, name: string) => (await storeUpload({ bytes, fileName: name })).id;
    const run = async (input: string): Promise<{ ms: number; bytes: Buffer }> => {
      const queued = await submitRun({ templateSlug: "x8-twice", overrides: DISTRIBUTE, inputs: { input }, trigger: "cli" });
      const done = await waitForEnd(queued.id, 1_800_000);
      if (done.status !== "succeeded") throw new Error(`fan-out bench run ${done.id} ${done.status}: ${done.error}`);
      const stored = await getRun(done.id);
      return { ms: stored.finishedAt!.getTime() - stored.startedAt!.getTime(), bytes: (await readArtifactContent(stored.outputs[0].id)).bytes };
    };
    const warmInput = await upload(await centreCrop("coffee.png", 160), "warm-up.png");
    const input = await upload(await centreCrop("rocket.jpg", 256), "rocket-256.png");

    workers.push(await startWorker(env));
    await run(warmInput); // loads both models
    const one = await run(input);
    log(`fan-out x8-twice 256->2048, 1 worker x 1 thread:  ${one.ms} ms`);

    workers.push(await startWorker(env));
    await run(warmInput); // the second worker takes some of the warm-up's tiles: its models load
    const two = await run(input);
    log(`fan-out x8-twice 256->2048, 2 workers x 1 thread: ${two.ms} ms`);
    const identical = one.bytes.equals(two.bytes);
    const speedup = Number((one.ms / two.ms).toFixed(2));
    log(`fan-out speed-up ${speedup}x; outputs ${identical ? "byte-identical" : "DIFFER"} (${one.bytes.length} bytes)`);
    return { oneWorkerMs: one.ms, twoWorkersMs: two.ms, speedup, identical, tileBatches: 9 + 81, threadsPerWorker: 1 };
  } finally {
    await Promise.all(workers.map((worker) => stopWorker(worker, 30_000)));
    await closeRunJobs();
    await closeRedisBridge();
    await closeDb();
    await redis.stop();
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const json = process.argv.includes("--json");
  const result = await fanOutBench(json ? () => {} : console.log);
  if (json) console.log(JSON.stringify(result));
  if (!result.identical) process.exitCode = 1;
}
