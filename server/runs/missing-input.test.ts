// A run whose input artifact's file was deleted from the data folder after the upload fails in the load-image
// node that reads it (the run's errorNodeId), with or without the worker's node cache.
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { it } from "node:test";
import { StubHost } from "../../fixtures/fuzz-graphs";
import { readArtifact } from "../db/artifacts";
import type { InferenceService } from "../inference/inference-service";
import { describeOnEachDatabase } from "../test-support/databases";
import { uploadCrop, waitForEnd } from "../test-support/runs";
import { submitRun } from "./queue";
import { startRunWorker } from "./worker";

const inference = new StubHost(new Map()) as unknown as InferenceService; // never reached: the run fails at load

describeOnEachDatabase("a run whose input file is missing", () => {
  it("fails naming its load-image node, with and without the node cache", async () => {
    const input = await uploadCrop("chelsea.png", 32);
    const { file } = await readArtifact(input);
    await rm(file);
    for (const nodeCache of [undefined, null]) {
      const queued = await submitRun({ templateSlug: "x4-chunked", inputs: { input }, trigger: "api" });
      const worker = startRunWorker({ inference, pollMs: 50, nodeCache });
      const run = await waitForEnd(queued.id, 20_000);
      await worker.stop();
      assert.equal(run.status, "failed", `${nodeCache === null ? "no cache" : "cache"}: ${run.status}`);
      assert.equal(run.errorNodeId, "load", run.error ?? "");
      assert.equal(run.error, `node "load" (load-image): input "input": file not found: ${file}`);
    }
  });
});
