import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, it } from "node:test";
import { findTemplate } from "../../../nodes/templates/index";
import { getDb } from "../../db/client";
import { modelsDir } from "../../models/manifest";
import { rejectsWith } from "../../test-support/api-callers";
import { describeOnEachDatabase } from "../../test-support/databases";
import { createCaller } from "../root";
import { localContext } from "../trpc";

function form(bytes: Uint8Array | string, name: string, fields: Record<string, string> = {}): FormData {
  const data = new FormData();
  data.set("file", new File([typeof bytes === "string" ? bytes : new Uint8Array(bytes)], name));
  for (const [field, value] of Object.entries(fields)) data.set(field, value);
  return data;
}

describeOnEachDatabase("templates and models routers", () => {
  let models: string;
  const previousModels = process.env.TUDSR_MODELS_DIR;
  const api = createCaller(localContext());

  before(async () => {
    // Uploads go to a copy of the models folder, never into the repository's.
    models = await mkdtemp(path.join(os.tmpdir(), "tudsr-models-"));
    await cp(modelsDir(), models, { recursive: true });
    process.env.TUDSR_MODELS_DIR = models;
    await getDb();
  });

  after(async () => {
    if (previousModels === undefined) delete process.env.TUDSR_MODELS_DIR;
    else process.env.TUDSR_MODELS_DIR = previousModels;
    await rm(models, { recursive: true, force: true });
  });

  it("lists the built-in templates, makes a pipeline from one and saves a pipeline as a template", async () => {
    const templates = await api.templates.list();
    assert.equal(templates[0].slug, "x4-chunked");
    assert.deepEqual((await api.templates.get({ id: "x4-chunked" })).graph, findTemplate("x4-chunked")!.graph);
    const pipeline = await api.templates.createPipeline({ id: "x8-twice", name: "My x8" });
    assert.equal(pipeline.name, "My x8");
    assert.deepEqual(pipeline.version.graph, findTemplate("x8-twice")!.graph);
    const saved = await api.templates.saveFromPipeline({ pipelineId: pipeline.id, name: "House x8", description: "ours" });
    assert.equal(saved.slug, "house-x8");
    assert.equal(saved.builtIn, false);
    assert.ok((await api.templates.list()).some((template) => template.slug === "house-x8"));
    await rejectsWith(api.templates.delete({ id: "x4-chunked" }), "BAD_REQUEST", /built-in/);
    await api.templates.delete({ id: "house-x8" });
    await rejectsWith(api.templates.get({ id: "house-x8" }), "NOT_FOUND");
    await rejectsWith(api.templates.createPipeline({ id: "nope" }), "NOT_FOUND");
    await rejectsWith(api.templates.create({ name: "broken", graph: { version: 1, nodes: [{ id: "g", type: "nope" }], edges: [] } }), "BAD_REQUEST", /node "g"/);
  });

  it("lists models, uploads a real .onnx (probed), refuses a bad one, deletes the upload", async () => {
    const builtIn = await api.models.list();
    assert.ok(builtIn.some((model) => model.id === "esrgan-slim-x4" && model.builtIn));
    const bytes = await readFile(path.join(models, "esrgan-slim-x2.onnx"));
    const uploaded = await api.models.upload(form(bytes, "my-slim-x2.onnx", { title: "My slim x2" }));
    assert.equal(uploaded.id, "my-slim-x2");
    assert.equal(uploaded.scale, 2);
    assert.equal(uploaded.builtIn, false);
    assert.ok((await api.models.list()).some((model) => model.id === "my-slim-x2"));
    await rejectsWith(api.models.upload(form("not a model", "fake.onnx")), "BAD_REQUEST", /fake\.onnx/);
    await rejectsWith(api.models.upload(form(bytes, "model.bin")), "BAD_REQUEST", /not a \.onnx file/);
    await rejectsWith(api.models.upload(form(bytes, "../x.onnx")), "BAD_REQUEST", /\.\./);
    await rejectsWith(api.models.delete({ id: "esrgan-slim-x4" }), "BAD_REQUEST", /built-in/);
    await api.models.delete({ id: "my-slim-x2" });
    await rejectsWith(api.models.get({ id: "my-slim-x2" }), "NOT_FOUND");
  });
});
