// createRun's checks of a run's graph, overrides and inputs, for names that Object.prototype already has.
import assert from "node:assert/strict";
import { before, it } from "node:test";
import sharp from "sharp";
import { photoPath } from "../../fixtures/photos";
import { GraphValidationError } from "../../nodes/graph/validate";
import { storeUpload } from "../db/artifacts";
import { getDb } from "../db/client";
import { listRuns } from "../db/runs";
import { BadInputError } from "../platform/errors";
import { describeOnEachDatabase } from "../test-support/databases";
import { createRun } from "./queue";

describeOnEachDatabase("runs repository: run inputs and overrides", () => {
  let artifact: string;

  before(async () => {
    await getDb();
    const bytes = await sharp(photoPath("coffee.png")).extract({ left: 0, top: 0, width: 32, height: 32 }).png().toBuffer();
    artifact = (await storeUpload({ bytes, fileName: "coffee.png" })).id;
  });

  const refuses = async (run: Parameters<typeof createRun>[0], check: (error: Error) => boolean, why: string) => {
    await assert.rejects(createRun(run), (error: unknown) => error instanceof Error && check(error), why);
  };

  it("a load-image input named like an Object.prototype member must be given: {} does not give it", async () => {
    const before = (await listRuns()).runs.length;
    for (const name of ["constructor", "toString", "hasOwnProperty"]) {
      const overrides = [{ nodeId: "load", param: "input", value: name }];
      await refuses(
        { templateSlug: "x4-chunked", overrides, inputs: {}, trigger: "api" },
        (error) => error instanceof BadInputError && error.message === `missing input "${name}" (read by load-image node "load") (the graph reads: ${name})`,
        name,
      );
      const run = await createRun({ templateSlug: "x4-chunked", overrides, inputs: { [name]: artifact }, trigger: "api" });
      assert.deepEqual(Object.keys(run.inputs), [name]);
    }
    assert.equal((await listRuns()).runs.length, before + 3, "only the runs given their input were created");
  });

  it("an input the graph does not read is refused, also when its name is an Object.prototype member", async () => {
    await refuses(
      { templateSlug: "x4-chunked", inputs: { input: artifact, constructor: artifact }, trigger: "api" },
      (error) => error instanceof BadInputError && /^the graph has no input "constructor" \(the graph reads: input\)$/.test(error.message),
      "constructor",
    );
  });

  it("overrides of params named like Object.prototype members are unknown params; an unknown node is a BadInputError", async () => {
    for (const param of ["__proto__", "constructor", "toString"]) {
      await refuses(
        { templateSlug: "x4-chunked", overrides: [{ nodeId: "stitch", param, value: { blend: "crop" } }], inputs: { input: artifact }, trigger: "api" },
        (error) => error instanceof GraphValidationError && error.problems.some((p) => p.nodeId === "stitch" && p.message.startsWith(`unknown param "${param}"`)),
        param,
      );
    }
    await refuses(
      { templateSlug: "x4-chunked", overrides: [{ nodeId: "__proto__", param: "tileSize", value: 64 }], inputs: { input: artifact }, trigger: "api" },
      (error) => error instanceof BadInputError && /^no node "__proto__" in this pipeline/.test(error.message),
      "unknown node",
    );
    await refuses(
      { templateSlug: "x4-chunked", overrides: [{ nodeId: "chunk", param: "tileSize", value: 10n }], inputs: { input: artifact }, trigger: "api" },
      (error) => error instanceof GraphValidationError && /node "chunk": param tileSize: a bigint is not a JSON value/.test(error.message),
      "bigint",
    );
  });
});
