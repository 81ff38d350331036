// The Workers page's data with the embedded queue (no TUDSR_REDIS_URL): the studio's own executor process and
// the database's queue depth. (The distributed queue's is tested in server/runs/bullmq/distributed.test.ts.)
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { after, before, it } from "node:test";
import { getDb } from "../../db/client";
import { ensureRunWorker, stopRunWorker } from "../../runs/app-worker";
import { describeOnEachDatabase } from "../../test-support/databases";
import { createCaller } from "../root";
import { localContext } from "../trpc";

describeOnEachDatabase("workers router (embedded queue)", () => {
  const api = createCaller(localContext());

  before(async () => {
    assert.equal(process.env.TUDSR_REDIS_URL, undefined);
    await getDb();
  });

  after(() => stopRunWorker());

  it("lists the in-app executor process and the queue depth", async () => {
    assert.deepEqual(await api.workers.list(), { mode: "embedded", workers: [], queue: { waiting: 0, active: 0, delayed: 0 } });
    const executor = await ensureRunWorker({ pollMs: 200, concurrency: 2 });
    const listed = await api.workers.list();
    assert.equal(listed.mode, "embedded");
    assert.equal(listed.workers.length, 1);
    const [worker] = listed.workers;
    assert.deepEqual([worker.host, worker.pid, worker.concurrency, worker.name], [hostname(), executor.pid, 2, `${hostname()}/${executor.pid}`]);
    assert.notEqual(worker.pid, process.pid, "the executor is a child process");
    assert.deepEqual(worker.running, []);
    assert.match(worker.store, /^local folder /);
  });
});
