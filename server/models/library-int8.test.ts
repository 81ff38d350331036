// An int8 variant on request (`tudsr models int8 <id>`, models.makeInt8) for an uploaded model: quantized,
// gated against its fp32 parent, recorded in the manifest, run by a pipeline at precision int8, deleted with it.
// One database is enough: what is under test is the models folder.
import assert from "node:assert/strict";
import { access, copyFile, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { wholeImageGraph } from "../../fixtures/graphs";
import { centreCrop } from "../../fixtures/photos";
import { closeDb } from "../db/client";
import { InferenceService } from "../inference/inference-service";
import { NotFoundError } from "../platform/errors";
import { runPipeline } from "../runs/run-pipeline";
import { freshDatabase, type TestDatabase } from "../test-support/databases";
import { INT8_MIN_PSNR_DB } from "./int8-gates";
import { deleteModel, makeModelInt8, uploadModel } from "./library";
import { readModelManifest } from "./manifest";

const REAL_MODELS = path.resolve(import.meta.dirname, "../../models");

describe("int8 variants on request", () => {
  let modelsDir: string;
  let database: TestDatabase;

  before(async () => {
    database = await freshDatabase("sqlite");
    database.use();
    modelsDir = await mkdtemp(path.join(tmpdir(), "tudsr int8 on request "));
    for (const name of await readdir(REAL_MODELS)) {
      if (name.endsWith(".onnx")) await symlink(path.join(REAL_MODELS, name), path.join(modelsDir, name));
    }
    await copyFile(path.join(REAL_MODELS, "manifest.json"), path.join(modelsDir, "manifest.json"));
    process.env.TUDSR_MODELS_DIR = modelsDir;
  });

  after(async () => {
    delete process.env.TUDSR_MODELS_DIR;
    await closeDb();
    await database.drop();
    await rm(modelsDir, { recursive: true, force: true });
  });

  it("quantizes an uploaded model, offers it when it passes the gate, and deletes it with the model", async () => {
    // The thick x8 ESRGAN as an upload: its variant passes the gate with room (43 dB) also on CPUs without
    // VNNI, where weights are 7-bit (psnr-small-x2's falls to 38.7 dB there).
    const uploaded = await uploadModel({ bytes: await readFile(path.join(REAL_MODELS, "esrgan-thick-x8.onnx")), fileName: "my-thick-x8.onnx" });
    assert.deepEqual(uploaded.int8, { offered: false, why: "no int8 variant has been made (the studio makes those of the templates' models in the background; any model's on request: tudsr models int8 <id>)" });

    const lines: string[] = [];
    const model = await makeModelInt8(uploaded.id, (line) => lines.push(line));
    assert.ok(model.int8.offered, `refused: ${"why" in model.int8 ? model.int8.why : ""}`);
    assert.ok(model.int8.psnrDb >= INT8_MIN_PSNR_DB, `${model.int8.psnrDb} dB`);
    assert.ok(model.int8.int8Ms < model.int8.fp32Ms, `${model.int8.int8Ms} vs ${model.int8.fp32Ms} ms`);
    assert.match(lines.join("\n"), /int8 \(int8 trunk|int8 convs/);
    const entry = (await readModelManifest(modelsDir)).models.find((candidate) => candidate.id === uploaded.id)!;
    assert.ok(entry.int8 && "file" in entry.int8);
    const variantFile = path.join(modelsDir, entry.int8.file);
    await access(variantFile);

    // Asked again: kept, not quantized again.
    const again: string[] = [];
    await makeModelInt8(uploaded.id, (line) => again.push(line));
    assert.deepEqual(again, [`${uploaded.id}: the int8 variant is up to date`]);

    // A pipeline runs it at precision int8, and its output is the fp32 one's to within the gate.
    const inference = new InferenceService(modelsDir);
    const input = await centreCrop("chelsea.png", 48);
    const run = (precision: string) => runPipeline(wholeImageGraph(uploaded.id), { inference, inputs: { input }, overrides: [{ nodeId: "generate", param: "precision", value: precision }] });
    const [fp32, int8] = [(await run("fp32")).outputs[0], (await run("int8")).outputs[0]];
    assert.deepEqual([int8.width, int8.height], [384, 384]);
    assert.ok(!fp32.bytes.equals(int8.bytes), "int8 ran a different file than fp32");

    await deleteModel(uploaded.id);
    await assert.rejects(access(variantFile), "the int8 file goes with its model");
    await assert.rejects(makeModelInt8(uploaded.id), NotFoundError);
  });
});
