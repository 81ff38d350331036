// A run (or a plan) is prepared once: its graph is parsed once, and its generate nodes' decisions (model,
// precision, provider) are the ones the plan reports and the run uses.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { mock, test } from "node:test";
import sharp from "sharp";
import { photoPath } from "../../fixtures/photos";
import type { ParamOverride } from "../../nodes/graph/overrides";
import { graphSchema } from "../../nodes/graph/schema";
import { findTemplate } from "../../nodes/templates/index";
import { InferenceService } from "../inference/inference-service";
import { fileSizes, planRun } from "./plan-run";
import { prepareRun } from "./prepare";
import { runPrepared } from "./run-pipeline";

const graph = findTemplate("x4-chunked")!.graph;
const inference = new InferenceService();

async function cropFile(size: number): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), "prepare-")), "crop.png");
  await writeFile(file, await sharp(photoPath("chelsea.png")).extract({ left: 150, top: 60, width: size, height: size }).png().toBuffer());
  return file;
}

/** How often `work` parses a graph with the graph schema. */
async function parsesDuring(work: () => Promise<unknown>): Promise<number> {
  // zod installs a schema's methods on first use: make `safeParse` an own method to wrap.
  void graphSchema.safeParse;
  const parse = mock.method(graphSchema, "safeParse");
  try {
    await work();
    return parse.mock.callCount();
  } finally {
    parse.mock.restore();
  }
}

test("a run parses its graph once (auto tiles, timings recorded), and so does its plan", async () => {
  const input = await cropFile(96);
  const overrides: ParamOverride[] = [{ nodeId: "generate", param: "model", value: "esrgan-slim-x4" }];
  const runParses = await parsesDuring(async () => {
    const prepared = await prepareRun(graph, { inference, overrides });
    const result = await runPrepared(prepared, { inference, inputs: { input } });
    assert.deepEqual([result.outputs[0].width, result.outputs[0].height], [384, 384]);
  });
  assert.equal(runParses, 1);
  const planParses = await parsesDuring(async () => {
    const prepared = await prepareRun(graph, { inference, overrides });
    const plan = await planRun(prepared, { inference, sizes: fileSizes({ input }) });
    assert.equal(plan.inputs.input.width, 96);
  });
  assert.equal(planParses, 1);
});

test("a missing provider: the plan and the run report the same provider, decided once", async () => {
  const input = await cropFile(32);
  const overrides = (onMissingProvider: string): ParamOverride[] => [
    { nodeId: "generate", param: "model", value: "esrgan-slim-x4" },
    { nodeId: "generate", param: "provider", value: "cuda" },
    { nodeId: "generate", param: "onMissingProvider", value: onMissingProvider },
  ];
  const fresh = new InferenceService();
  const prepared = await prepareRun(graph, { inference: fresh, overrides: overrides("fallback-cpu") });
  const plan = await planRun(prepared, { inference: fresh, sizes: fileSizes({ input }) });
  const planned = plan.nodes.find((node) => node.nodeId === "generate")!.detail!;
  assert.ok(planned.kind === "generate");
  assert.deepEqual([planned.provider, planned.providerUsed], ["cuda", "cpu"]);
  const logs: string[] = [];
  await runPrepared(prepared, { inference: fresh, inputs: { input }, onEvent: (event) => event.type === "node-log" && logs.push(event.message) });
  assert.ok(fresh.hasSession("esrgan-slim-x4", "cpu", planned.precision), "the run's session is on the CPU, as planned");
  assert.ok(!fresh.hasSession("esrgan-slim-x4", "cuda", planned.precision));
  assert.ok(logs.some((line) => /execution provider "cuda" is not available on this machine .*running esrgan-slim-x4 on CPU/.test(line)), logs.join("\n"));

  // Asked to fail instead: the plan and the run fail with the same reason.
  const refusing = await prepareRun(graph, { inference: fresh, overrides: overrides("error") });
  const reason = /node "generate" \(generate\): execution provider "cuda" is not available on this machine/;
  await assert.rejects(planRun(refusing, { inference: fresh, sizes: fileSizes({ input }) }), reason);
  await assert.rejects(runPrepared(refusing, { inference: fresh, inputs: { input } }), reason);
});
