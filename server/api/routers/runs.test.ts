import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, it } from "node:test";
import sharp from "sharp";
import { photoPath } from "../../../fixtures/photos";
import { getDb } from "../../db/client";
import { ensureRunWorker, stopRunWorker } from "../../runs/app-worker";
import { rejectsWith } from "../../test-support/api-callers";
import { describeOnEachDatabase } from "../../test-support/databases";
import { createCaller } from "../root";
import { createContext, localContext } from "../trpc";

const fast = [{ nodeId: "generate", param: "model", value: "esrgan-slim-x4" }];

async function photoForm(name: string, crop = 96): Promise<FormData> {
  const bytes = await sharp(await readFile(photoPath(name))).extract({ left: 0, top: 0, width: crop, height: crop }).png().toBuffer();
  const form = new FormData();
  form.set("file", new File([new Uint8Array(bytes)], name.replace(/\.\w+$/, ".png")));
  return form;
}

describeOnEachDatabase("runs and artifacts routers", () => {
  const api = createCaller(localContext());

  before(async () => {
    await getDb();
    await ensureRunWorker({ pollMs: 200 });
  });

  after(async () => {
    await stopRunWorker();
  });

  it("uploads a photo, runs x4-chunked on it with an override, streams its events and stores a 4x output", async () => {
    const input = await api.artifacts.upload(await photoForm("astronaut.png"));
    assert.equal(input.kind, "input");
    assert.deepEqual([input.width, input.height], [96, 96]);
    assert.equal(input.url, `/api/v1/artifacts/${input.id}`);

    const run = await api.runs.start({ template: "x4-chunked", overrides: fast, inputs: { input: input.id } });
    assert.equal(run.trigger, "cli");
    assert.equal(run.templateSlug, "x4-chunked");
    assert.equal(run.graph.nodes.find((node) => node.id === "generate")!.params.model, "esrgan-slim-x4");

    const types: string[] = [];
    for await (const event of await api.runs.events({ id: run.id })) types.push(event.type);
    assert.equal(types[0], "run-snapshot");
    assert.ok(types.includes("node-progress"), types.join(","));
    assert.equal(types.at(-1), "run-succeeded");

    const done = await api.runs.get({ id: run.id });
    assert.equal(done.status, "succeeded");
    assert.equal(done.outputs.length, 1);
    assert.deepEqual([done.outputs[0].width, done.outputs[0].height], [384, 384]);
    const listed = await api.runs.list({ status: "succeeded", template: "x4-chunked" });
    const row = listed.runs.find((candidate) => candidate.id === run.id);
    assert.ok(row);
    assert.equal(row.outputCount, 1);
    assert.equal(row.pipelineName, null);
    assert.deepEqual(row.overrides, fast);
  });

  it("starts a saved pipeline's version and records the trigger of an API key", async () => {
    const input = await api.artifacts.upload(await photoForm("coffee.png", 64));
    const template = (await api.runs.start({ template: "x4-chunked", overrides: fast, inputs: { input: input.id } })).graph;
    const pipeline = await api.pipelines.create({ name: "slim x4", graph: template });
    const key = await api.keys.create({ name: "runs test" });
    const script = createCaller(await createContext({ headers: new Headers({ authorization: `Bearer ${key.secret}` }) }));
    const run = await script.runs.start({ pipelineId: pipeline.id, version: 1, inputs: { input: input.id } });
    assert.equal(run.trigger, "api");
    assert.equal(run.pipelineId, pipeline.id);
    assert.equal(run.pipelineVersion, 1);
    for await (const event of await script.runs.events({ id: run.id })) void event;
    const done = await script.runs.get({ id: run.id });
    assert.equal(done.status, "succeeded");
    assert.equal(done.pipelineName, "slim x4");
    const listed = (await api.runs.list({ pipelineId: pipeline.id })).runs;
    assert.deepEqual(listed.map((row) => [row.id, row.pipelineName, row.outputCount]), [[run.id, "slim x4", 1]]);
  });

  it("cancels a queued run", async () => {
    const input = await api.artifacts.upload(await photoForm("chelsea.png", 128));
    // The first run takes seconds (the thick model on a 256 px crop), so the last is still queued when canceled:
    // runs start at once now that a model's first use measures nothing, and three small ones could all be done.
    const slow = await api.artifacts.upload(await photoForm("astronaut.png", 256));
    const first = await api.runs.start({ template: "x4-chunked", inputs: { input: slow.id } });
    const runs = [first, ...(await Promise.all([0, 1].map(() => api.runs.start({ template: "x4-chunked", overrides: fast, inputs: { input: input.id } }))))];
    const last = runs.at(-1)!;
    const canceled = await api.runs.cancel({ id: last.id });
    assert.ok(["canceled", "canceling"].includes(canceled.result), canceled.result);
    assert.equal(canceled.run.status, "canceled");
    for (const run of runs) for await (const event of await api.runs.events({ id: run.id })) void event;
    assert.equal((await api.runs.get({ id: last.id })).status, "canceled");
  });

  it("answers bad run requests with 400 and unknown ids with 404, creating no run", async () => {
    const input = await api.artifacts.upload(await photoForm("astronaut.png"));
    const before = (await api.runs.list()).runs.length;
    await rejectsWith(api.runs.start({ template: "no-such-template", inputs: { input: input.id } }), "NOT_FOUND", /template "no-such-template"/);
    await rejectsWith(api.runs.start({ pipelineId: "nope", inputs: { input: input.id } }), "NOT_FOUND");
    await rejectsWith(api.runs.start({ template: "x4-chunked", inputs: { input: "nope" } }), "NOT_FOUND", /artifact "nope"/);
    await rejectsWith(api.runs.start({ template: "x4-chunked", inputs: {} }), "BAD_REQUEST", /missing input "input"/);
    await rejectsWith(
      api.runs.start({ template: "x4-chunked", overrides: [{ nodeId: "ghost", param: "model", value: "x" }], inputs: { input: input.id } }),
      "BAD_REQUEST",
      /no node "ghost"/,
    );
    await rejectsWith(
      api.runs.start({ template: "x4-chunked", overrides: [{ nodeId: "chunk", param: "tileSize", value: -3 }], inputs: { input: input.id } }),
      "BAD_REQUEST",
      /node "chunk"/,
    );
    await rejectsWith(api.runs.start({ template: "x4-chunked", pipelineId: "p", inputs: {} }), "BAD_REQUEST", /exactly one/);
    assert.equal((await api.runs.list()).runs.length, before);
    await rejectsWith(api.runs.get({ id: "nope" }), "NOT_FOUND");
    await rejectsWith(api.runs.cancel({ id: "nope" }), "NOT_FOUND");
    await rejectsWith(api.runs.events({ id: "nope" }).then((events) => events[Symbol.asyncIterator]().next()), "NOT_FOUND");
    await rejectsWith(api.artifacts.get({ id: "nope" }), "NOT_FOUND");
  });

  it("refuses uploads that are not images or have path tricks in their name", async () => {
    const text = new FormData();
    text.set("file", new File(["hello"], "notes.png"));
    await rejectsWith(api.artifacts.upload(text), "BAD_REQUEST", /not an image/);
    const tricky = await photoForm("astronaut.png");
    tricky.set("file", new File([await (tricky.get("file") as File).arrayBuffer()], "../../etc/passwd.png"));
    await rejectsWith(api.artifacts.upload(tricky), "BAD_REQUEST", /\.\./);
    await rejectsWith(api.artifacts.upload(new FormData()), "BAD_REQUEST", /field "file"/);
  });
});
