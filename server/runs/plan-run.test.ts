// The run planner against real runs: real photos, the real converted models, this machine's measurements.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { photoPath } from "../../fixtures/photos";
import type { EngineEvent } from "../../nodes/graph/events";
import type { ParamOverride } from "../../nodes/graph/overrides";
import { findTemplate } from "../../nodes/templates/index";
import { InferenceService } from "../inference/inference-service";
import { planFor } from "../test-support/runs";
import { fileSizes } from "./plan-run";
import { runPipeline } from "./run-pipeline";

const inference = new InferenceService();
const graph = findTemplate("x4-chunked")!.graph;
const fast: ParamOverride[] = [{ nodeId: "generate", param: "model", value: "esrgan-slim-x4" }];

test("the plan's tiles are the run's, and the run's times make the next plan's prediction", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "plan-run-"));
  const file = path.join(dir, "crop.png");
  await writeFile(file, await sharp(photoPath("chelsea.png")).extract({ left: 100, top: 40, width: 150, height: 110 }).png().toBuffer());
  const overrides = [...fast, { nodeId: "chunk", param: "tileSize", value: 64 }];
  const plan = await planFor(graph, { inference, overrides, sizes: fileSizes({ input: file }) });
  const chunk = plan.nodes.find((node) => node.nodeId === "chunk")!.detail!;
  assert.ok(chunk.kind === "chunk");
  assert.deepEqual([chunk.cols, chunk.rows, chunk.tileWidth, chunk.overlap], [3, 3, 64, 20], "fixed tiles, with the overlap slim-x4's border needs (5 px, measured)");

  const events: EngineEvent[] = [];
  await runPipeline(graph, { inference, overrides, inputs: { input: file }, onEvent: (event) => events.push(event) });
  const progress = events.filter((event) => event.type === "node-progress" && event.nodeId === "generate").at(-1);
  assert.equal(progress?.type === "node-progress" && progress.total, chunk.rects.length);

  const again = await planFor(graph, { inference, overrides, sizes: fileSizes({ input: file }) });
  const generate = again.nodes.find((node) => node.nodeId === "generate")!.detail!;
  assert.ok(generate.kind === "generate");
  assert.equal(generate.basis, "runs");
  assert.deepEqual([generate.model, generate.tiles, generate.providerUsed], ["esrgan-slim-x4", 9, "cpu"]);
  assert.ok(again.totalMs > 0 && again.peakBytes > 600 * 440 * 12, `total ${again.totalMs} ms, peak ${again.peakBytes} bytes`);
});

test("a missing input or an unknown model is a clear error naming the node", async () => {
  await assert.rejects(planFor(graph, { inference, overrides: fast, sizes: fileSizes({}) }), /node "load" \(load-image\): the run has no input named "input" \(given: none\)/);
  await assert.rejects(
    planFor(graph, { inference, overrides: [{ nodeId: "generate", param: "model", value: "no-such-model" }], sizes: fileSizes({ input: photoPath("chelsea.png") }) }),
    /node "generate" \(generate\): unknown model "no-such-model"/,
  );
  await assert.rejects(planFor(graph, { inference, sizes: fileSizes({ input: "/nonexistent/photo.png" }) }), /node "load" \(load-image\): .*nonexistent\/photo\.png/);
});
