import assert from "node:assert/strict";
import { it } from "node:test";
import { GraphValidationError } from "../../nodes/graph/validate";
import { builtInTemplates, findTemplate } from "../../nodes/templates/index";
import { BadInputError, NotFoundError } from "../platform/errors";
import { describeOnEachDatabase } from "../test-support/databases";
import { closeDb, getDb } from "./client";
import { createPipeline, getPipeline, savePipelineVersion } from "./pipelines";
import { createPipelineFromTemplate, deleteTemplate, getTemplate, listTemplates, saveTemplate, saveTemplateFromPipeline, slugOf } from "./templates";

describeOnEachDatabase("templates", () => {
  it("lists the seeded built-in templates first, in the repository's order, and finds one by slug or id", async () => {
    const templates = await listTemplates();
    assert.deepEqual(templates.map((template) => template.slug), builtInTemplates.map((template) => template.id));
    assert.ok(templates.every((template) => template.builtIn));
    const bySlug = await getTemplate("x8-twice");
    assert.deepEqual(bySlug.graph, findTemplate("x8-twice")!.graph);
    assert.equal((await getTemplate(bySlug.id)).slug, "x8-twice");
    await assert.rejects(getTemplate("no-such-template"), NotFoundError);
  });

  it("saves a pipeline's graph as a user template (latest or a chosen version), with a unique slug", async () => {
    const base = findTemplate("x4-chunked")!.graph;
    const pipeline = await createPipeline("Große Vergrößerung x4", { ...base, name: "v1" });
    await savePipelineVersion(pipeline.id, { ...base, name: "v2", description: "second save" });

    const latest = await saveTemplateFromPipeline(pipeline.id);
    assert.deepEqual([latest.slug, latest.name, latest.builtIn, latest.graph.name, latest.description], [
      "grosse-vergrosserung-x4",
      "Große Vergrößerung x4",
      false,
      "v2",
      "second save",
    ]);
    const first = await saveTemplateFromPipeline(pipeline.id, { version: 1, name: "First try" });
    assert.deepEqual([first.slug, first.graph.name], ["first-try", "v1"]);
    const again = await saveTemplateFromPipeline(pipeline.id);
    assert.equal(again.slug, "grosse-vergrosserung-x4-2");
    // The slug of a built-in is never taken by a user template.
    assert.equal((await saveTemplate({ name: "x4 chunked", graph: base })).slug, "x4-chunked-2");
    await assert.rejects(saveTemplate({ name: "mine", slug: "x4-chunked", graph: base }), /template slug "x4-chunked" is taken/);
    await assert.rejects(saveTemplate({ name: "mine", slug: "first-try", graph: base }), BadInputError);
    await assert.rejects(saveTemplate({ name: "mine", slug: "Not A Slug", graph: base }), /must be 1 to 60 lowercase/);
    await assert.rejects(saveTemplate({ name: " ", graph: base }), /needs a name/);
    await assert.rejects(saveTemplate({ name: "broken", graph: { ...base, edges: [] } }), GraphValidationError);
    await assert.rejects(saveTemplateFromPipeline("no-such-pipeline"), NotFoundError);

    const slugs = (await listTemplates()).map((template) => template.slug);
    assert.deepEqual(slugs.slice(0, builtInTemplates.length), builtInTemplates.map((template) => template.id));
    assert.deepEqual(slugs.slice(builtInTemplates.length), ["first-try", "grosse-vergrosserung-x4", "grosse-vergrosserung-x4-2", "x4-chunked-2"]);

    // User templates survive the start-up seeding of built-ins.
    await closeDb();
    await getDb();
    assert.equal((await getTemplate("first-try")).graph.name, "v1");
  });

  it("creates a pipeline from a template and deletes user templates only", async () => {
    const pipeline = await createPipelineFromTemplate("eval-x4");
    assert.deepEqual((await getPipeline(pipeline.id)).version.graph, findTemplate("eval-x4")!.graph);
    assert.equal(pipeline.version.message, 'Created from template "eval-x4"');
    const named = await createPipelineFromTemplate("first-try", "from mine");
    assert.equal(named.name, "from mine");

    await deleteTemplate("first-try");
    await assert.rejects(getTemplate("first-try"), NotFoundError);
    await assert.rejects(deleteTemplate("x4-chunked"), /built-in template/);
    await assert.rejects(deleteTemplate("first-try"), NotFoundError);
  });

  it("makes slugs from names", () => {
    assert.equal(slugOf("My x8 Pipeline!"), "my-x8-pipeline");
    assert.equal(slugOf("  ---  "), "template");
    assert.equal(slugOf("a".repeat(80)).length, 50);
  });
});
