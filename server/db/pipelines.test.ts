import assert from "node:assert/strict";
import { before, it } from "node:test";
import type { Graph } from "../../nodes/graph/schema";
import { NotFoundError } from "../platform/errors";
import { describeOnEachDatabase } from "../test-support/databases";
import { getDb } from "./client";
import { createPipeline, deletePipeline, duplicatePipeline, getPipeline, listPipelines, listVersions, renamePipeline, restoreVersion, savePipelineVersion } from "./pipelines";

function graph(label: string): Graph {
  return {
    version: 1,
    name: label,
    nodes: [
      { id: "load", type: "load-image", params: {}, position: { x: 0, y: 0 } },
      { id: "save", type: "save-image", params: { format: "png" }, position: { x: 240.5, y: -3 } },
    ],
    edges: [{ id: "e1", source: "load", sourceHandle: "image", target: "save", targetHandle: "image" }],
  };
}

async function storedGraphText(id: string, number: number): Promise<string> {
  const db = await getDb();
  const row = await db.pipelineVersion.findUniqueOrThrow({ where: { pipelineId_number: { pipelineId: id, number } } });
  return row.graph;
}

async function assertNotFound(promise: Promise<unknown>, id: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof NotFoundError, `expected NotFoundError, got ${String(error)}`);
    assert.match(error.message, new RegExp(id));
    return true;
  });
}

describeOnEachDatabase("pipelines repository", () => {
  before(async () => {
    await getDb();
  });

  it("creates a pipeline with version 1, stored as the exact JSON text given", async () => {
    // Key order, unicode and numbers as given: the stored text is JSON.stringify of the caller's object.
    const given = { ...graph("Große Vergrößerung ✓"), description: "x8 – zweimal" } as Graph;
    const created = await createPipeline("first", given);
    assert.equal(created.name, "first");
    assert.equal(created.latestVersion, 1);
    assert.equal(created.version.number, 1);
    assert.deepEqual(created.version.graph, given);
    assert.equal(await storedGraphText(created.id, 1), JSON.stringify(given));
  });

  it("keeps the whole save history: a save adds a version, nothing is overwritten", async () => {
    const created = await createPipeline("history", graph("v1"));
    const second = await savePipelineVersion(created.id, graph("v2"), "second");
    const third = await savePipelineVersion(created.id, graph("v3"));
    assert.deepEqual([second.number, third.number], [2, 3]);

    assert.equal((await getPipeline(created.id)).version.graph.name, "v3");
    assert.equal((await getPipeline(created.id, 1)).version.graph.name, "v1");
    assert.equal((await getPipeline(created.id, 2)).version.graph.name, "v2");
    const versions = await listVersions(created.id);
    assert.deepEqual(
      versions.map((version) => [version.number, version.message]),
      [
        [3, ""],
        [2, "second"],
        [1, "Created"],
      ],
    );
    assert.equal((await getPipeline(created.id)).latestVersion, 3);
  });

  it("20 concurrent saves of one pipeline all keep their own version", async () => {
    const created = await createPipeline("busy", graph("base"));
    const saves = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        savePipelineVersion(created.id, graph(`save ${index}`), `save ${index}`),
      ),
    );
    const numbers = saves.map((saved) => saved.number).sort((a, b) => a - b);
    assert.deepEqual(
      numbers,
      Array.from({ length: 20 }, (_, index) => index + 2),
    );
    // Every save's graph is in the history under the number that save returned; nothing lost or mixed up.
    for (const [index, saved] of saves.entries()) {
      assert.equal(saved.graph.name, `save ${index}`);
      assert.equal(await storedGraphText(created.id, saved.number), JSON.stringify(graph(`save ${index}`)));
    }
    assert.equal((await listVersions(created.id)).length, 21);
  });

  it("restoring a version adds a new version with that graph's exact text", async () => {
    const created = await createPipeline("restore", graph("original"));
    await savePipelineVersion(created.id, graph("changed"));
    const restored = await restoreVersion(created.id, 1);
    assert.equal(restored.number, 3);
    assert.equal(restored.message, "Restored version 1");
    assert.equal(await storedGraphText(created.id, 3), await storedGraphText(created.id, 1));
    assert.equal((await getPipeline(created.id, 2)).version.graph.name, "changed");
    assert.equal((await getPipeline(created.id)).version.graph.name, "original");
  });

  it("renames, duplicates and deletes", async () => {
    const created = await createPipeline("to rename", graph("a"));
    await savePipelineVersion(created.id, graph("b"));
    const renamed = await renamePipeline(created.id, "renamed");
    assert.equal(renamed.name, "renamed");
    assert.equal(renamed.latestVersion, 2);

    const copy = await duplicatePipeline(created.id);
    assert.notEqual(copy.id, created.id);
    assert.equal(copy.name, "renamed (copy)");
    assert.equal(copy.latestVersion, 1);
    assert.equal(copy.version.graph.name, "b");
    assert.equal((await duplicatePipeline(created.id, "named copy")).name, "named copy");

    await deletePipeline(created.id);
    await assertNotFound(getPipeline(created.id), created.id);
    assert.equal((await getPipeline(copy.id)).version.graph.name, "b");
    const db = await getDb();
    assert.equal(await db.pipelineVersion.count({ where: { pipelineId: created.id } }), 0);
  });

  it("lists with a case-insensitive search and three sort orders", async () => {
    // Apart in time, so the orders do not depend on millisecond ties.
    const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
    const alpha = await createPipeline("Alpha upscale", graph("a"));
    await tick();
    const beta = await createPipeline("beta UPSCALE", graph("b"));
    await tick();
    const gamma = await createPipeline("gamma", graph("c"));
    await tick();
    await savePipelineVersion(alpha.id, graph("a2")); // alpha becomes the most recently saved

    const found = await listPipelines({ search: "  upScale " });
    assert.deepEqual(new Set(found.map((pipeline) => pipeline.id)), new Set([alpha.id, beta.id]));

    const ids = [alpha.id, beta.id, gamma.id];
    const order = async (sort: "updated" | "created" | "name") =>
      (await listPipelines({ sort })).map((pipeline) => pipeline.id).filter((id) => ids.includes(id));
    assert.deepEqual(await order("updated"), [alpha.id, gamma.id, beta.id]);
    assert.deepEqual(await order("created"), [gamma.id, beta.id, alpha.id]);
    assert.deepEqual(await order("name"), [alpha.id, beta.id, gamma.id]);
    assert.equal(found.find((pipeline) => pipeline.id === alpha.id)?.latestVersion, 2);
  });

  it("unknown ids and versions throw NotFoundError naming them", async () => {
    const missing = "no-such-pipeline";
    await assertNotFound(getPipeline(missing), missing);
    await assertNotFound(savePipelineVersion(missing, graph("x")), missing);
    await assertNotFound(listVersions(missing), missing);
    await assertNotFound(restoreVersion(missing, 1), missing);
    await assertNotFound(renamePipeline(missing, "x"), missing);
    await assertNotFound(duplicatePipeline(missing), missing);
    await assertNotFound(deletePipeline(missing), missing);

    const created = await createPipeline("versions", graph("v1"));
    await assertNotFound(getPipeline(created.id, 7), `${created.id} v7`);
    await assertNotFound(restoreVersion(created.id, 7), `${created.id} v7`);
  });
});
