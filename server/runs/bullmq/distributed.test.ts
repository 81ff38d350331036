// The distributed run queue with real processes: Redis (redis-server, started here), Postgres (a fresh database
// on TUDSR_TEST_POSTGRES_URL: SQLite cannot be shared between machines), S3-compatible storage (s3rver, started
// here) for inputs and outputs, and three `tudsr worker` processes, each with its own data folder (nothing is
// shared through the file system). The API (tRPC caller with an API key) queues runs as a script would.
import { Queue, QueueEvents } from "bullmq";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { photoPath } from "../../../fixtures/photos";
import type { ParamOverride } from "../../../nodes/graph/overrides";
import { findTemplate } from "../../../nodes/templates/index";
import { createCaller } from "../../api/root";
import { createContext } from "../../api/trpc";
import { readArtifactContent, storeUpload } from "../../db/artifacts";
import { closeDb, getDb } from "../../db/client";
import { createApiKey } from "../../db/keys";
import { createPipeline, getPipeline, listVersions, savePipelineVersion } from "../../db/pipelines";
import { getRun } from "../../db/runs";
import { InferenceService } from "../../inference/inference-service";
import { artifactStore, type S3ArtifactStore } from "../../storage/store";
import { redisMissing, startRedis, startS3, startWorker, stopWorker, type TestRedis, type TestS3, type WorkerProcess } from "../../test-support/bullmq-services";
import { freshDatabase, type TestDatabase } from "../../test-support/databases";
import { SLIM, TILES_128, waitForEnd, waitUntil } from "../../test-support/runs";
import { type RunEvent, subscribeAllRuns } from "../events";
import { runPipeline } from "../run-pipeline";
import { closeRedisBridge, redisBridge } from "./bridge";
import { redisOptions, TILE_QUEUE } from "./config";
import { closeRunJobs, runJobs } from "./queue";

const skip = process.env.TUDSR_TEST_POSTGRES_URL
  ? redisMissing()
  : "TUDSR_TEST_POSTGRES_URL is not set: workers on several machines share a Postgres database (SQLite cannot be shared); source .ci/postgres.sh";

async function crop(name: string, size: number, left = 0, top = 0): Promise<Buffer> {
  return sharp(photoPath(name)).extract({ left, top, width: size, height: size }).png().toBuffer();
}

describe("distributed run queue: BullMQ on Redis, three tudsr worker processes, Postgres, S3", { skip }, () => {
  let database: TestDatabase;
  let redis: TestRedis;
  let s3: TestS3;
  const dirs: string[] = [];
  const workers: WorkerProcess[] = [];
  const saved: Record<string, string | undefined> = {};
  const events: RunEvent[] = [];
  let stopEvents = () => {};
  let api: ReturnType<typeof createCaller>;
  let workerEnv: Record<string, string | undefined>;

  function setEnv(env: Record<string, string | undefined>): void {
    for (const [name, value] of Object.entries(env)) {
      if (!(name in saved)) saved[name] = process.env[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }

  async function newWorker(args: string[] = []): Promise<WorkerProcess> {
    const dir = await mkdtemp(path.join(tmpdir(), "tudsr-worker-"));
    dirs.push(dir);
    const worker = await startWorker({ ...workerEnv, TUDSR_DATA_DIR: dir }, args);
    workers.push(worker);
    return worker;
  }

  before(async () => {
    database = await freshDatabase("postgresql");
    [redis, s3] = await Promise.all([startRedis(), startS3()]);
    const dir = await mkdtemp(path.join(tmpdir(), "tudsr-app-"));
    dirs.push(dir);
    workerEnv = {
      ...database.env,
      ...s3.env,
      TUDSR_REDIS_URL: redis.url,
      // Fast failure detection for the test (defaults: 30 s lock, 5 s heartbeat).
      TUDSR_WORKER_LOCK_MS: "4000",
      TUDSR_WORKER_HEARTBEAT_MS: "500",
      TUDSR_RUN_POLL_MS: "500",
      TUDSR_NODE_CACHE_MB: "0",
    };
    // This process is the web app: same database, Redis and store, its own data folder.
    setEnv({ ...workerEnv, TUDSR_DATA_DIR: dir });
    await getDb();
    await redisBridge("app").whenReady();
    stopEvents = subscribeAllRuns((event) => events.push(event));
    const key = await createApiKey("distributed test");
    api = createCaller(await createContext({ headers: new Headers({ authorization: `Bearer ${key.secret}` }) }));
    // Three workers, one of them taking two runs at a time.
    await Promise.all([newWorker(["--concurrency", "2"]), newWorker(), newWorker()]);
  });

  after(async () => {
    stopEvents();
    await Promise.all(workers.map((worker) => stopWorker(worker, 20_000)));
    await closeRunJobs();
    await closeRedisBridge();
    await closeDb();
    await database?.drop();
    await Promise.all([redis?.stop(), s3?.stop()]);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    setEnv(Object.fromEntries(Object.keys(saved).map((name) => [name, saved[name]])));
  });

  async function upload(bytes: Buffer, name: string): Promise<string> {
    return (await storeUpload({ bytes, fileName: name })).id;
  }

  /** The same graph in this process, as a single-machine run: its output bytes. */
  async function singleMachine(template: string, overrides: ParamOverride[], input: Buffer): Promise<Buffer> {
    const result = await runPipeline(findTemplate(template)!.graph, { inference: new InferenceService(), inputs: { input }, overrides });
    return result.outputs.find((output) => output.name === "output")!.bytes;
  }

  it("runs 20 API runs queued at once: all succeeded, each exactly once, on every worker; outputs in S3", async () => {
    const inputs: string[] = [];
    for (let i = 0; i < 20; i++) inputs.push(await upload(await crop("grace_hopper.jpg", 16, 20 + (i % 5) * 60, 20 + Math.floor(i / 5) * 80), `hopper-${i}.png`));
    const runs = await Promise.all(inputs.map((input) => api.runs.start({ template: "x4-chunked", overrides: SLIM, inputs: { input } })));
    assert.ok(runs.every((run) => run.trigger === "api" && run.status === "queued"));
    const done = await Promise.all(runs.map((run) => waitForEnd(run.id, 240_000)));

    assert.deepEqual(done.map((run) => run.status), Array(20).fill("succeeded"));
    const names = new Set(workers.map((worker) => worker.name));
    const perWorker = new Map<string, number>();
    for (const run of done) {
      const mine = events.filter((event) => event.runId === run.id);
      assert.equal(mine.filter((event) => event.type === "run-started").length, 1, `run ${run.id} started once`);
      assert.equal(mine.filter((event) => event.type === "node-started" && event.nodeId === "load").length, 1, `engine ran ${run.id} once`);
      assert.equal(mine.filter((event) => event.type === "run-succeeded").length, 1);
      assert.ok(run.worker && names.has(run.worker), `run ${run.id} ran on ${run.worker}`);
      perWorker.set(run.worker!, (perWorker.get(run.worker!) ?? 0) + 1);
      assert.equal(run.outputs.length, 1);
      assert.deepEqual([run.outputs[0].width, run.outputs[0].height], [64, 64]);
      // The output is in the S3 store (this process's data folder holds none), readable through the API's path.
      const { bytes } = await readArtifactContent(run.outputs[0].id);
      assert.deepEqual([(await sharp(bytes).metadata()).width, bytes.length], [64, run.outputs[0].sizeBytes]);
      const job = await runJobs().getJob(run.id);
      assert.equal(job?.attemptsStarted, 1, "one job per run, taken once");
    }
    assert.equal(new Set(done.map((run) => run.outputs[0].id)).size, 20);
    console.log(`20 runs over 3 workers: ${[...perWorker].map(([name, count]) => `${name}: ${count}`).join(", ")}`);
    assert.equal(perWorker.size, 3, "each worker ran some");

    // The Workers page's data: three live workers, an empty queue.
    const listed = await api.workers.list();
    assert.equal(listed.mode, "distributed");
    assert.deepEqual(listed.workers.map((worker) => worker.name).sort(), [...names].sort());
    assert.deepEqual(listed.queue, { waiting: 0, active: 0, delayed: 0 });
  });

  it("cancels a run on a remote worker from the API: it stops within one tile", async () => {
    // 256x256 in 128 px tiles with the thick model: 9 tiles of a second or more each.
    const input = await upload(await crop("chelsea.png", 256, 60, 20), "chelsea-256.png");
    const run = await api.runs.start({ template: "x4-chunked", overrides: TILES_128, inputs: { input } });
    await waitUntil(
      "two tiles done",
      () => events.some((event) => event.runId === run.id && event.type === "node-progress" && event.nodeId === "generate" && event.done >= 2),
      180_000,
    );
    const doneAtCancel = Math.max(...events.filter((e) => e.runId === run.id && e.type === "node-progress").map((e) => ("done" in e ? e.done : 0)));
    const answer = await api.runs.cancel({ id: run.id });
    assert.equal(answer.result, "canceling");
    await waitUntil("run-canceled", () => events.some((event) => event.runId === run.id && event.type === "run-canceled"), 60_000);
    const stored = await getRun(run.id);
    assert.equal(stored.status, "canceled");
    assert.deepEqual(stored.outputs, []);
    const last = Math.max(...events.filter((e) => e.runId === run.id && e.type === "node-progress" && e.nodeId === "generate").map((e) => ("done" in e ? e.done : 0)));
    assert.ok(last <= doneAtCancel + 1, `tiles done: ${doneAtCancel} at the cancel, ${last} at the end (of 9)`);
    assert.ok(stored.nodes.some((node) => node.id === "chunk"), "the timings of what ran are kept");
    console.log(`cancel on worker ${stored.worker}: ${doneAtCancel} tiles done at the request, ${last} when it stopped (of 9)`);
  });

  it("SIGKILL of the worker holding a run: the run succeeds on another worker, byte-identical, pipelines intact", async () => {
    const graph = findTemplate("x4-chunked")!.graph;
    const pipeline = await createPipeline("kept through a worker crash", graph);
    await savePipelineVersion(pipeline.id, graph, "second version");
    const before = { pipeline: await getPipeline(pipeline.id), versions: await listVersions(pipeline.id) };

    // The thick model on 128 px in 64 px tiles: 9 tiles, several seconds in all.
    const bytes = await crop("astronaut.png", 128, 200, 120);
    const overrides: ParamOverride[] = [{ nodeId: "chunk", param: "tileSize", value: 64 }];
    const input = await upload(bytes, "astronaut-128.png");
    const run = await api.runs.start({ pipelineId: pipeline.id, overrides, inputs: { input } });
    await waitUntil("a tile done", () => events.some((e) => e.runId === run.id && e.type === "node-progress" && e.nodeId === "generate" && e.done >= 1), 180_000);
    const runningOn = (await getRun(run.id)).worker;
    const victim = workers.find((worker) => worker.name === runningOn);
    assert.ok(victim, `the run is on a worker of this test (${runningOn})`);
    victim.child.kill("SIGKILL");
    await victim.exited;

    const done = await waitForEnd(run.id, 300_000);
    assert.equal(done.status, "succeeded", done.error ?? "");
    assert.notEqual(done.worker, victim.name, "another worker finished it");
    assert.equal(done.outputs.length, 1, "recorded once");
    const job = await runJobs().getJob(run.id);
    assert.equal(job?.attemptsStarted, 2, "its job ran again once");
    const reference = await singleMachine("x4-chunked", overrides, bytes);
    const { bytes: output } = await readArtifactContent(done.outputs[0].id);
    assert.ok(output.equals(reference), "the output bytes equal a single-machine run's");
    assert.equal((await getRun(run.id)).outputs.length, 1);
    assert.deepEqual({ pipeline: await getPipeline(pipeline.id), versions: await listVersions(pipeline.id) }, before);
    console.log(`SIGKILL of ${victim.name} mid-run: finished on ${done.worker}, output identical to a single-machine run`);
    workers.splice(workers.indexOf(victim), 1);
  });

  it("spreads a generate node's tiles over the workers (distribute: auto): the output bytes equal a single-machine run's", async () => {
    const tileEvents = new QueueEvents(TILE_QUEUE, { connection: redisOptions(process.env.TUDSR_REDIS_URL!) });
    await tileEvents.waitUntilReady();
    const tileWorkers: string[] = [];
    tileEvents.on("completed", ({ returnvalue }) => {
      const value = returnvalue as unknown as { worker?: string };
      if (value?.worker) tileWorkers.push(value.worker);
    });
    try {
      const bytes = await crop("rocket.jpg", 96, 150, 200);
      const overrides: ParamOverride[] = [...SLIM, { nodeId: "chunk", param: "tileSize", value: 32 }];
      const input = await upload(bytes, "rocket-96.png");
      const run = await api.runs.start({ template: "x4-chunked", overrides: [...overrides, { nodeId: "generate", param: "distribute", value: "auto" }], inputs: { input } });
      const done = await waitForEnd(run.id, 240_000);
      assert.equal(done.status, "succeeded", done.error ?? "");
      const progress = events.filter((e) => e.runId === run.id && e.type === "node-progress" && e.nodeId === "generate");
      const total = progress.length > 0 && "total" in progress[0] ? progress[0].total : 0;
      await waitUntil("every batch's completion event", () => tileWorkers.length >= total, 10_000);
      const { bytes: output } = await readArtifactContent(done.outputs[0].id);
      assert.ok(output.equals(await singleMachine("x4-chunked", overrides, bytes)), "same bytes as one machine running every tile");
      const spread = new Map<string, number>();
      for (const worker of tileWorkers) spread.set(worker, (spread.get(worker) ?? 0) + 1);
      console.log(`fan-out of ${total} tile batches: ${[...spread].map(([worker, count]) => `${worker}: ${count}`).join(", ")}`);
      assert.ok(spread.size >= 2, "the batches ran on more than one worker");
      // The run page's record: the generate node's batches by worker, as they ran.
      const generate = (await getRun(run.id)).nodes.find((node) => node.id === "generate")!;
      assert.deepEqual(generate.tileWorkers, Object.fromEntries(spread));
      assert.deepEqual(await (artifactStore() as S3ArtifactStore).list(`tiles/${run.id}/`), [], "the tiles are cleaned up");
    } finally {
      await tileEvents.close();
    }
  });

  it("a worker lost in the middle of a fan-out: its tile batch runs again on another worker; the output is unchanged", async () => {
    while (workers.length < 3) await newWorker();
    const tileEvents = new QueueEvents(TILE_QUEUE, { connection: redisOptions(process.env.TUDSR_REDIS_URL!) });
    const tileQueue = new Queue(TILE_QUEUE, { connection: redisOptions(process.env.TUDSR_REDIS_URL!) });
    await tileEvents.waitUntilReady();
    const completed = new Map<string, { worker: string; attempt: number }>();
    tileEvents.on("completed", ({ jobId, returnvalue }) => {
      const value = returnvalue as unknown as { worker?: string; attempt?: number };
      if (value?.worker) completed.set(jobId, { worker: value.worker, attempt: value.attempt ?? 0 });
    });
    try {
      // The thick model on 192 px in 64 px tiles: 16 batches of a second or more each.
      const bytes = await crop("chelsea.png", 192, 100, 40);
      const overrides: ParamOverride[] = [{ nodeId: "chunk", param: "tileSize", value: 64 }];
      const input = await upload(bytes, "chelsea-192.png");
      const run = await api.runs.start({ template: "x4-chunked", overrides: [...overrides, { nodeId: "generate", param: "distribute", value: "auto" }], inputs: { input } });
      await waitUntil("the run has started", async () => (await getRun(run.id)).worker !== null, 120_000);
      const holder = (await getRun(run.id)).worker;
      // A worker that is not the run's, caught holding a tile batch.
      let lost: { worker: WorkerProcess; jobId: string } | undefined;
      await waitUntil(
        "a tile batch on a worker that does not hold the run",
        async () => {
          for (const job of await tileQueue.getActive()) {
            const worker = workers.find((candidate) => candidate.name === job.processedBy && candidate.name !== holder);
            if (worker && job.name === "tiles") lost = { worker, jobId: job.id! };
          }
          return lost !== undefined;
        },
        180_000,
      );
      lost!.worker.child.kill("SIGKILL");
      await lost!.worker.exited;
      workers.splice(workers.indexOf(lost!.worker), 1);

      const done = await waitForEnd(run.id, 300_000);
      assert.equal(done.status, "succeeded", done.error ?? "");
      await waitUntil("the lost batch's completion", () => completed.has(lost!.jobId), 30_000);
      const rerun = completed.get(lost!.jobId)!;
      assert.notEqual(rerun.worker, lost!.worker.name, "another worker ran the lost batch");
      assert.equal(rerun.attempt, 2, "under the same job id, a second time");
      const { bytes: output } = await readArtifactContent(done.outputs[0].id);
      assert.ok(output.equals(await singleMachine("x4-chunked", overrides, bytes)), "same bytes as one machine running every tile");
      console.log(`fan-out: ${lost!.worker.name} killed holding ${lost!.jobId}; it ran again on ${rerun.worker}; output identical`);
    } finally {
      await tileEvents.close();
      await tileQueue.close();
    }
  });

  it("SIGTERM of the worker holding a run hands it back: it runs again elsewhere and succeeds; the worker exits 0", async () => {
    while (workers.length < 3) await newWorker();
    const bytes = await crop("coffee.png", 128, 100, 50);
    const overrides: ParamOverride[] = [{ nodeId: "chunk", param: "tileSize", value: 64 }];
    const input = await upload(bytes, "coffee-128.png");
    const run = await api.runs.start({ template: "x4-chunked", overrides, inputs: { input } });
    await waitUntil("a tile done", () => events.some((e) => e.runId === run.id && e.type === "node-progress" && e.nodeId === "generate" && e.done >= 1), 180_000);
    const owner = (await getRun(run.id)).worker;
    const stopping = workers.find((worker) => worker.name === owner)!;
    assert.ok(stopping, `the run is on a worker of this test (${owner})`);
    await stopWorker(stopping);
    assert.deepEqual(await stopping.exited, { code: 0, signal: null });
    assert.ok(stopping.records.some((record) => record.worker === "stopping" && (record.handingBack as string[]).includes(run.id)));
    workers.splice(workers.indexOf(stopping), 1);

    const done = await waitForEnd(run.id, 300_000);
    assert.equal(done.status, "succeeded", done.error ?? "");
    assert.notEqual(done.worker, stopping.name);
    assert.equal(done.outputs.length, 1);
    assert.ok((await readArtifactContent(done.outputs[0].id)).bytes.equals(await singleMachine("x4-chunked", overrides, bytes)));
    assert.ok(events.some((event) => event.runId === run.id && event.type === "run-queued" && events.indexOf(event) > 0));
  });
});
