// Crashes and restarts with real processes: the app's run side (fixtures/run-server.ts: recovery, then the
// executor child process) is killed mid-run in three ways. Runs that were running end `interrupted`, queued
// runs still complete, saved pipelines and versions are intact, and no executor outlives its server.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { after, before, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Graph } from "../../nodes/graph/schema";
import { findTemplate } from "../../nodes/templates/index";
import { createPipeline, getPipeline, listVersions, savePipelineVersion } from "../db/pipelines";
import { getRun, INTERRUPTED_MESSAGE } from "../db/runs";
import { REPO_ROOT } from "../platform/paths";
import { describeOnEachDatabase } from "../test-support/databases";
import { SLIM, TILES_128, uploadCrop, waitForEnd, waitUntil } from "../test-support/runs";
import { requeue, runQueue, submitRun } from "./queue";

interface Server {
  process: ChildProcess;
  pid: number;
}

/** Starts fixtures/run-server.ts in its own process group and waits for its ready line. */
async function startServer(env: Record<string, string | undefined>): Promise<Server> {
  const merged: NodeJS.ProcessEnv = { ...process.env, TUDSR_RUN_POLL_MS: "200", TUDSR_RUN_CONCURRENCY: "1" };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "fixtures", "run-server.ts")], {
    cwd: REPO_ROOT,
    env: merged,
    detached: true,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, "exit").then(([code, signal]) => {
    throw new Error(`run server exited (${signal ?? code}) before it was ready`);
  });
  const ready = (async () => {
    for await (const line of lines) if (line.includes('"ready":true')) return;
    throw new Error("run server closed its output before it was ready");
  })();
  await Promise.race([ready, exited]);
  exited.catch(() => {});
  return { process: child, pid: child.pid! };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Executor processes (worker-main.ts) started by `pid`, from /proc (no `ps` needed). */
async function executorsOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid !== pid) continue;
    const command = await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "");
    if (command.includes("worker-main.ts")) found.push(Number(name));
  }
  return found;
}

async function executorOf(server: Server): Promise<number> {
  let pids: number[] = [];
  await waitUntil("the executor process", async () => (pids = await executorsOf(server.pid)).length === 1, 30_000);
  return pids[0];
}

/** A thick x4 run in 128 px tiles of a 256x256 crop: 9 tiles, several seconds each, long enough to kill mid-run. */
async function startSlowRun(left: number): Promise<string> {
  const input = await uploadCrop("chelsea.png", 256, left, 20);
  return (await submitRun({ templateSlug: "x4-chunked", overrides: TILES_128, inputs: { input }, trigger: "api" })).id;
}

async function waitMidRun(runId: string): Promise<void> {
  await waitUntil("the run to be running", async () => (await getRun(runId)).status === "running", 60_000);
  await sleep(1500); // inside the generate node's tiles
}

async function startQuickRun(): Promise<string> {
  const input = await uploadCrop("coffee.png", 32, 300, 200);
  return (await submitRun({ templateSlug: "x4-chunked", overrides: SLIM, inputs: { input }, trigger: "api" })).id;
}

async function assertInterrupted(runId: string): Promise<void> {
  const run = await getRun(runId);
  assert.equal(run.status, "interrupted");
  assert.ok(run.finishedAt);
  assert.match(run.error ?? "", /stopped/);
  assert.deepEqual(run.outputs, []);
}

async function assertSucceeded(runId: string): Promise<void> {
  const run = await waitForEnd(runId, 90_000);
  assert.equal(run.status, "succeeded", run.error ?? "");
  assert.deepEqual([run.outputs[0].width, run.outputs[0].height], [128, 128]);
}

async function stopServer(server: Server): Promise<void> {
  if (!alive(server.pid)) return;
  const exited = once(server.process, "exit");
  process.kill(server.pid, "SIGTERM");
  const [code] = await exited;
  assert.equal(code, 0, "a stopped server exits cleanly");
}

describeOnEachDatabase("run recovery with real processes", ({ database }) => {
  let pipelineId: string;
  const graphs: Graph[] = [];
  let server: Server | undefined;

  before(async () => {
    const base = findTemplate("x4-chunked")!.graph;
    graphs.push(base, { ...base, name: "saved twice" }, { ...base, name: "saved three times" });
    const pipeline = await createPipeline("kept across crashes", graphs[0]);
    pipelineId = pipeline.id;
    await savePipelineVersion(pipelineId, graphs[1], "second");
    await savePipelineVersion(pipelineId, graphs[2], "third");
  });

  after(async () => {
    if (server) await stopServer(server).catch(() => process.kill(-server!.pid, "SIGKILL"));
  });

  async function assertPipelinesIntact(): Promise<void> {
    assert.equal((await listVersions(pipelineId)).length, 3);
    for (const [index, graph] of graphs.entries()) assert.deepEqual((await getPipeline(pipelineId, index + 1)).version.graph, graph);
  }

  it("a crash of the server and its executor (SIGKILL to both): after restart the run is interrupted, queued runs complete", async () => {
    server = await startServer(database().env);
    const executor = await executorOf(server);
    const slow = await startSlowRun(0);
    await waitMidRun(slow);
    const quick = await startQuickRun(); // queued behind the slow run (concurrency 1)

    process.kill(-server.pid, "SIGKILL"); // the whole process group: nothing gets to clean up
    await waitUntil("both processes to die", () => !alive(server!.pid) && !alive(executor), 10_000);
    assert.equal((await getRun(slow)).status, "running", "nothing recorded the crash");
    assert.equal((await getRun(quick)).status, "queued");

    const started = performance.now();
    server = await startServer(database().env);
    await assertInterrupted(slow);
    assert.equal((await getRun(slow)).error, INTERRUPTED_MESSAGE);
    await assertSucceeded(quick);
    console.log(`after the crash: restarted, recovered and ran the queued run in ${(performance.now() - started).toFixed(0)} ms`);
    await assertPipelinesIntact();

    // One call re-queues the interrupted run, as a new run with the same graph and inputs.
    const again = await requeue(slow);
    assert.equal(again.requeuedFrom, slow);
    assert.deepEqual([again.graph, again.inputs], [(await getRun(slow)).graph, (await getRun(slow)).inputs]);
    await runQueue.cancel(again.id);
    assert.equal((await waitForEnd(again.id)).status, "canceled");
  });

  it("the executor process dies alone: the server marks its run interrupted and starts a new executor", async () => {
    const executor = await executorOf(server!);
    const slow = await startSlowRun(40);
    await waitMidRun(slow);
    process.kill(executor, "SIGKILL");
    await waitUntil("the run to be interrupted", async () => (await getRun(slow)).status === "interrupted", 20_000);
    await assertInterrupted(slow);
    const quick = await startQuickRun();
    await assertSucceeded(quick);
    const replacement = await executorOf(server!);
    assert.notEqual(replacement, executor);
    await assertPipelinesIntact();
  });

  it("the server is killed alone: its executor stops by itself, recording its run as interrupted", async () => {
    const executor = await executorOf(server!);
    const slow = await startSlowRun(80);
    await waitMidRun(slow);
    process.kill(server!.pid, "SIGKILL");
    await waitUntil("the orphaned executor to exit", () => !alive(executor), 30_000);
    await assertInterrupted(slow);
    server = undefined;
    await assertPipelinesIntact();
  });
});
