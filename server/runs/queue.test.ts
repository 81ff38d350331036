// The run queue end to end on real photos and real models: rows first, a worker claiming them, outputs stored
// as artifacts, cancel reaching the engine, and no run lost or run twice under competing workers.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import sharp from "sharp";
import { GraphValidationError } from "../../nodes/graph/validate";
import { findTemplate } from "../../nodes/templates/index";
import { readArtifact } from "../db/artifacts";
import { createPipeline } from "../db/pipelines";
import { getRun, listRuns } from "../db/runs";
import { InferenceService } from "../inference/inference-service";
import { BadInputError, NotFoundError } from "../platform/errors";
import { REPO_ROOT } from "../platform/paths";
import { artifactFile, sha256Hex } from "../storage/artifacts";
import { describeOnEachDatabase } from "../test-support/databases";
import { SLIM, TILES_128, uploadCrop, waitForEnd, waitUntil } from "../test-support/runs";
import { ensureRunWorker, stopRunWorker } from "./app-worker";
import { type RunEvent, subscribeAllRuns, watchRun } from "./events";
import type { FromExecutor } from "./executor-process";
import { createRun, requeue, runQueue, submitRun } from "./queue";
import { startRunWorker } from "./worker";

const inference = new InferenceService();

function recordEvents(): { events: RunEvent[]; stop: () => void } {
  const events: RunEvent[] = [];
  return { events, stop: subscribeAllRuns((event) => events.push(event)) };
}

describeOnEachDatabase("run queue", () => {
  it("runs a queued x4 run of a real photo to succeeded, with a 4x PNG output artifact and node timings", async () => {
    const input = await uploadCrop("coffee.png", 48, 200, 120);
    const recorder = recordEvents();
    const queued = await submitRun({ templateSlug: "x4-chunked", inputs: { input }, trigger: "api" });
    assert.equal(queued.status, "queued");
    assert.equal(queued.templateSlug, "x4-chunked");
    assert.deepEqual(queued.graph, findTemplate("x4-chunked")!.graph);

    const worker = startRunWorker({ inference, pollMs: 200 });
    const run = await waitForEnd(queued.id);
    await worker.stop();
    recorder.stop();

    assert.equal(run.status, "succeeded", run.error ?? "");
    assert.ok(run.startedAt && run.finishedAt && run.finishedAt >= run.startedAt);
    assert.equal(run.outputs.length, 1);
    const [output] = run.outputs;
    assert.deepEqual([output.name, output.kind, output.runId, output.format, output.width, output.height], ["output", "output", run.id, "png", 192, 192]);
    const { file } = await readArtifact(output.id);
    const bytes = await readFile(file);
    assert.equal(sha256Hex(bytes), output.sha256);
    assert.equal(bytes.length, output.sizeBytes);
    const meta = await sharp(bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["png", 192, 192]);

    assert.deepEqual(run.nodes.map((node) => node.id), ["load", "chunk", "generate", "stitch", "save"]);
    assert.ok(run.nodes.find((node) => node.id === "generate")!.ms > 0);
    assert.ok(run.totalMs! > 0);

    const types = recorder.events.filter((event) => event.runId === run.id).map((event) => event.type);
    assert.equal(types[0], "run-queued");
    assert.equal(types[1], "run-started");
    assert.ok(types.includes("node-progress"));
    assert.equal(types.at(-1), "run-succeeded");
    const succeeded = recorder.events.find((event) => event.runId === run.id && event.type === "run-succeeded");
    assert.deepEqual(succeeded && "outputs" in succeeded ? succeeded.outputs.map((o) => o.artifactId) : [], [output.id]);

    // A watch of a run that has just finished yields its snapshot, then replays the run's events (progress
    // collapsed to the last per node) up to its final one, and ends.
    const watched = [];
    for await (const event of watchRun(run.id)) watched.push(event);
    assert.equal(watched[0].type, "run-snapshot");
    assert.equal(watched.at(-1)?.type, "run-succeeded");
    assert.ok(watched.slice(1).every((event) => (types as string[]).includes(event.type)));
    assert.ok(watched.length <= types.length + 1);
  });

  it("cancels a running run (in-process worker) before its next tile: canceled, no output artifact, timings of what ran", async () => {
    // 256x256 in 128 px tiles with the thick model: 9 tiles of about 1.6 s each, far longer than the cancel.
    // In-process, the request is handled between tiles (session.run holds the event loop); the executor
    // process test below cancels from a free event loop, in the middle of a tile.
    const input = await uploadCrop("chelsea.png", 256, 60, 20);
    const run = await submitRun({ templateSlug: "x4-chunked", overrides: TILES_128, inputs: { input }, trigger: "ui" });
    const live: string[] = [];
    let ended: () => void = () => {};
    const end = new Promise<void>((resolve) => (ended = resolve));
    let progressed: () => void = () => {};
    const progress = new Promise<void>((resolve) => (progressed = resolve));
    const unsubscribe = runQueue.subscribe(run.id, (event) => {
      live.push(event.type);
      if (event.type === "node-progress" && event.nodeId === "generate" && event.done >= 1) progressed();
      if (event.type === "run-canceled") ended();
    });
    const worker = startRunWorker({ inference, pollMs: 200 });
    await progress;
    const started = performance.now();
    assert.equal(await runQueue.cancel(run.id), "canceling");
    await end;
    const ms = performance.now() - started;
    unsubscribe();
    await worker.stop();

    const stored = await getRun(run.id);
    assert.equal(stored.status, "canceled");
    assert.ok(ms < 5000, `canceled after ${ms.toFixed(0)} ms`);
    assert.deepEqual(stored.outputs, []);
    await assert.rejects(access(artifactFile(`artifacts/runs/${run.id}`)), /ENOENT/);
    assert.ok(stored.nodes.some((node) => node.id === "chunk" && node.runs === 1));
    assert.ok(!live.includes("run-succeeded"));
    assert.equal(await runQueue.cancel(run.id), "not-active");
    console.log(`cancel of a running run: canceled ${ms.toFixed(0)} ms after the request`);
  });

  it("cancels a queued run without running it, and re-queues it as a new run that succeeds", async () => {
    const input = await uploadCrop("astronaut.png", 32, 180, 60);
    const recorder = recordEvents();
    const run = await submitRun({ templateSlug: "x4-chunked", overrides: SLIM, inputs: { input }, trigger: "cli" });
    assert.equal(await runQueue.cancel(run.id), "canceled");
    const worker = startRunWorker({ inference, pollMs: 50 });
    await sleep(300);
    const canceled = await getRun(run.id);
    assert.equal(canceled.status, "canceled");
    assert.equal(canceled.startedAt, null);
    assert.ok(!recorder.events.some((event) => event.runId === run.id && event.type === "run-started"));

    const again = await requeue(run.id);
    assert.notEqual(again.id, run.id);
    assert.equal(again.requeuedFrom, run.id);
    assert.deepEqual([again.graph, again.inputs, again.trigger, again.templateSlug], [canceled.graph, canceled.inputs, "cli", "x4-chunked"]);
    const done = await waitForEnd(again.id);
    await worker.stop();
    recorder.stop();
    assert.equal(done.status, "succeeded");
    assert.equal((await getRun(run.id)).status, "canceled", "the old run stays as it was");
    await assert.rejects(requeue(done.id), BadInputError);
  });

  it("records a failed run with its error and node id", async () => {
    const input = await uploadCrop("rocket.jpg", 24, 100, 100);
    const run = await submitRun({
      templateSlug: "x4-chunked",
      overrides: [{ nodeId: "generate", param: "model", value: "no-such-model" }],
      inputs: { input },
      trigger: "api",
    });
    const worker = startRunWorker({ inference, pollMs: 100 });
    const failed = await waitForEnd(run.id);
    await worker.stop();
    assert.equal(failed.status, "failed");
    assert.equal(failed.errorNodeId, "generate");
    assert.match(failed.error ?? "", /unknown model "no-such-model"/);
    assert.deepEqual(failed.outputs, []);
    assert.deepEqual(failed.nodes.map((node) => node.id).slice(0, 2), ["load", "chunk"]);
  });

  it("runs 20 runs submitted at once, each exactly once, with two executor processes competing for them", async () => {
    const inputs: string[] = [];
    for (let i = 0; i < 20; i++) inputs.push(await uploadCrop("grace_hopper.jpg", 16, 20 + (i % 5) * 60, 20 + Math.floor(i / 5) * 80));
    assert.equal(new Set(inputs).size, 20);
    // Two executors as the app starts them (worker-main --child), each taking 2 runs at a time; their events
    // come back over IPC, tagged here with the process that sent them.
    const events: { pid: number; event: RunEvent }[] = [];
    const executors = await Promise.all(
      [0, 1].map(async () => {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "server", "runs", "worker-main.ts"), "--child"], {
          cwd: REPO_ROOT,
          env: { ...process.env, TUDSR_RUN_CONCURRENCY: "2", TUDSR_RUN_POLL_MS: "100" },
          stdio: ["ignore", "inherit", "inherit", "ipc"],
        });
        await new Promise<void>((resolve, reject) => {
          child.on("message", (message: FromExecutor) => {
            if (message.type === "ready") resolve();
            else events.push({ pid: child.pid!, event: message.event });
          });
          child.once("exit", () => reject(new Error("executor exited before it was ready")));
        });
        return child;
      }),
    );
    const started = performance.now();
    const runs = await Promise.all(
      inputs.map((input) => submitRun({ templateSlug: "x4-chunked", overrides: SLIM, inputs: { input }, trigger: "api" })),
    );
    const done = await Promise.all(runs.map((run) => waitForEnd(run.id, 120_000)));
    const ms = performance.now() - started;
    await Promise.all(
      executors.map((child) => {
        const exited = once(child, "exit");
        child.send({ type: "stop" });
        return exited;
      }),
    );

    assert.deepEqual(done.map((run) => run.status), Array(20).fill("succeeded"));
    for (const run of done) {
      const mine = events.filter(({ event }) => event.runId === run.id).map(({ event }) => event);
      assert.equal(mine.filter((event) => event.type === "run-started").length, 1, `run ${run.id} started once`);
      assert.equal(mine.filter((event) => event.type === "node-started" && event.nodeId === "load").length, 1, `engine ran ${run.id} once`);
      assert.equal(run.outputs.length, 1);
      assert.deepEqual([run.outputs[0].width, run.outputs[0].height], [64, 64]);
    }
    assert.equal(new Set(done.map((run) => run.outputs[0].id)).size, 20);
    const perProcess = executors.map((child) => events.filter(({ pid, event }) => pid === child.pid && event.type === "run-started").length);
    console.log(`20 runs (slim x4, 16x16), 2 executor processes x concurrency 2: all succeeded once in ${ms.toFixed(0)} ms; runs per process: ${perProcess.join(" + ")}`);
  });

  it("runs in the app's executor process: events relayed here, a cancel stops it within the tile, this event loop stays free", async () => {
    await ensureRunWorker({ pollMs: 200 });
    try {
      const quickInput = await uploadCrop("rocket.jpg", 32, 200, 300);
      const quick = await submitRun({ templateSlug: "x4-chunked", overrides: SLIM, inputs: { input: quickInput }, trigger: "api" });
      const relayed: string[] = [];
      const finished = new Promise<void>((resolve) =>
        runQueue.subscribe(quick.id, (event) => {
          relayed.push(event.type);
          if (event.type === "run-succeeded") resolve();
        }),
      );
      await finished;
      assert.equal((await getRun(quick.id)).status, "succeeded");
      assert.ok(relayed.includes("run-started") && relayed.includes("node-finished"), relayed.join(","));

      const slowInput = await uploadCrop("chelsea.png", 256, 0, 0);
      const slow = await submitRun({ templateSlug: "x4-chunked", overrides: TILES_128, inputs: { input: slowInput }, trigger: "api" });
      let longestGap = 0;
      let last = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        longestGap = Math.max(longestGap, now - last);
        last = now;
      }, 10);
      const tiles: number[] = [];
      let canceledAt = 0;
      const ended = new Promise<number>((resolve) =>
        runQueue.subscribe(slow.id, (event) => {
          if (event.type === "node-progress" && event.nodeId === "generate") tiles.push(performance.now());
          if (event.type === "run-canceled") resolve(performance.now());
        }),
      );
      await waitUntil("two tiles", () => tiles.length >= 2, 60_000);
      const tileMs = tiles[1] - tiles[0];
      await sleep(tileMs / 3); // in the middle of the next tile
      canceledAt = performance.now();
      assert.equal(await runQueue.cancel(slow.id), "canceling");
      const latency = (await ended) - canceledAt;
      clearInterval(ticker);
      assert.equal((await getRun(slow.id)).status, "canceled");
      assert.deepEqual((await getRun(slow.id)).outputs, []);
      assert.ok(latency < tileMs + 1000, `canceled ${latency.toFixed(0)} ms after the request; a tile takes ${tileMs.toFixed(0)} ms`);
      assert.ok(longestGap < 500, `this process's event loop was held for ${longestGap.toFixed(0)} ms`);
      console.log(
        `executor process: cancel mid-tile took ${latency.toFixed(0)} ms (a tile: ${tileMs.toFixed(0)} ms); ` +
          `longest event-loop gap here ${longestGap.toFixed(0)} ms`,
      );
    } finally {
      await stopRunWorker();
    }
  });

  it("refuses runs that cannot run: every graph problem, bad overrides, missing or unknown inputs and ids", async () => {
    const input = await uploadCrop("coffee.png", 16);
    const graph = findTemplate("x4-chunked")!.graph;
    await assert.rejects(
      createRun({ graph: { ...graph, edges: [] }, inputs: { input }, trigger: "api" }),
      (error: unknown) => error instanceof GraphValidationError && error.problems.length >= 3,
    );
    await assert.rejects(
      createRun({ graph, overrides: [{ nodeId: "nope", param: "x", value: 1 }], inputs: { input }, trigger: "api" }),
      (error: unknown) => error instanceof BadInputError && /no node "nope"/.test(error.message),
    );
    await assert.rejects(
      createRun({ graph, overrides: [{ nodeId: "chunk", param: "tileSize", value: -5 }], inputs: { input }, trigger: "api" }),
      GraphValidationError,
    );
    await assert.rejects(createRun({ graph, inputs: {}, trigger: "api" }), /missing input "input"/);
    await assert.rejects(createRun({ graph, inputs: { input, extra: input }, trigger: "api" }), /the graph has no input "extra"/);
    await assert.rejects(createRun({ graph, inputs: { input: "no-such-artifact" }, trigger: "api" }), NotFoundError);
    await assert.rejects(createRun({ templateSlug: "no-such-template", inputs: { input }, trigger: "api" }), NotFoundError);
    await assert.rejects(createRun({ pipelineId: "no-such-pipeline", inputs: { input }, trigger: "api" }), NotFoundError);
    await assert.rejects(createRun({ inputs: { input }, trigger: "api" }), BadInputError);
    await assert.rejects(getRun("no-such-run"), NotFoundError);
    await assert.rejects(runQueue.cancel("no-such-run"), NotFoundError);
  });

  it("lists runs newest first with filters and pages; a pipeline run records its version", async () => {
    const input = await uploadCrop("coffee.png", 16, 50, 50);
    const pipeline = await createPipeline("listed", findTemplate("x4-chunked")!.graph);
    const fromPipeline = await createRun({ pipelineId: pipeline.id, overrides: SLIM, inputs: { input }, trigger: "ui" });
    assert.deepEqual([fromPipeline.pipelineId, fromPipeline.pipelineVersion, fromPipeline.templateSlug], [pipeline.id, 1, null]);
    const byPipeline = await listRuns({ pipelineId: pipeline.id });
    assert.deepEqual(byPipeline.runs.map((run) => run.id), [fromPipeline.id]);

    const all = await listRuns({ limit: 200 });
    const times = all.runs.map((run) => run.createdAt.getTime());
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
    const pages: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listRuns({ limit: 7, cursor });
      pages.push(...page.runs.map((run) => run.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.deepEqual(pages, all.runs.map((run) => run.id));
    assert.ok((await listRuns({ status: "failed" })).runs.every((run) => run.status === "failed"));
    assert.ok((await listRuns({ status: ["canceled", "queued"] })).runs.length >= 3);
    assert.ok((await listRuns({ trigger: "cli" })).runs.every((run) => run.trigger === "cli"));
    assert.ok((await listRuns({ templateSlug: "x4-chunked" })).runs.length >= 25);
    await runQueue.cancel(fromPipeline.id);
  });
});
