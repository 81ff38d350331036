// The reproducibility stamp, end to end: a run of a real model on a real photo records what made its bytes, a
// re-run exactly from that stamp gives the very same bytes, and a stamp whose model hash no longer matches the
// file is reported as such (refused, or run and recorded when forced).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, it, test } from "node:test";
import { createCaller } from "../api/root";
import { localContext } from "../api/trpc";
import { readArtifact } from "../db/artifacts";
import { getDb } from "../db/client";
import type { RunStamp } from "../db/run-stamp";
import type { RunDetail } from "../db/runs";
import { modelsDir } from "../models/manifest";
import { describeOnEachDatabase } from "../test-support/databases";
import { uploadCrop, waitForEnd } from "../test-support/runs";
import { ensureRunWorker, stopRunWorker } from "./app-worker";
import { canonicalJson, sha256 } from "./stamp";
import { stampDifferences } from "./stamp-diff";

/** x4-chunked's thick model (int8 where its variant passed), 48 px tiles: four tiles on a 72 px crop of a photo. */
const TILES = [
  { nodeId: "chunk", param: "tileSize", value: 48 },
  { nodeId: "chunk", param: "overlap", value: 8 },
];

async function outputBytes(run: RunDetail): Promise<Buffer> {
  return readFile((await readArtifact(run.outputs[0].id)).file);
}

describeOnEachDatabase("reproducibility stamp", () => {
  const api = createCaller(localContext());

  before(async () => {
    await getDb();
    // The app's executor child: the stamp is taken in the process that runs the engine.
    await ensureRunWorker({ pollMs: 100 });
  });
  after(() => stopRunWorker());

  it("records the stamp, re-runs exactly to identical bytes, and reports a changed model hash", async () => {
    const input = await uploadCrop("coffee.png", 72, 150, 90);
    const started = await api.runs.start({ template: "x4-chunked", overrides: TILES, inputs: { input } });
    const first = await waitForEnd(started.id, 180_000);
    assert.equal(first.status, "succeeded", first.error ?? "");

    const stamp = first.stamp!;
    assert.equal(stamp.graph.sha256, sha256(stamp.graph.canonical));
    assert.equal(stamp.graph.canonical, canonicalJson(first.graph));
    assert.deepEqual(stamp.inputs, { input: (await api.artifacts.get({ id: input })).sha256 });
    const [model] = stamp.models;
    assert.equal(model.nodeId, "generate");
    assert.equal(model.model, "esrgan-thick-x4");
    assert.equal(model.precisionAsked, "auto");
    assert.ok(model.precision === "int8" || model.precision === "fp32");
    assert.equal(model.sha256, sha256(await readFile(path.join(modelsDir(), model.file!))), "the hash of the file that ran");
    assert.deepEqual([model.provider, model.providerUsed], ["cpu", "cpu"]);
    assert.deepEqual(stamp.tiles, [{ nodeId: "chunk", tileWidth: 48, tileHeight: 48, overlap: 8, cols: 2, rows: 2 }]);
    assert.match(stamp.runtime.onnxruntime, /^\d+\.\d+\.\d+$/);
    assert.ok(stamp.runtime.threads >= 1);
    assert.ok(Array.isArray(stamp.runtime.cpuFeatures));
    assert.equal(stamp.rerun, undefined);

    // Re-run exactly: every node executes again (no cache), and the output bytes are the same.
    const again = await waitForEnd((await api.runs.rerun({ id: first.id })).id, 180_000);
    assert.equal(again.status, "succeeded", again.error ?? "");
    assert.deepEqual(again.rerun, { of: first.id, force: false });
    assert.ok(again.nodes.every((node) => !node.cached), "a re-run exactly executes every node");
    assert.deepEqual(again.stamp!.rerun, { of: first.id, forced: false, differences: [] });
    assert.equal(again.stamp!.graph.sha256, stamp.graph.sha256);
    assert.ok((await outputBytes(again)).equals(await outputBytes(first)), "byte-identical output");
    assert.equal(again.outputs[0].sha256, first.outputs[0].sha256);

    // A stamp whose model hash is not the file's any more (changed in the database, not the model file).
    const tampered: RunStamp = { ...stamp, models: [{ ...model, sha256: "0".repeat(64) }] };
    await (await getDb()).run.update({ where: { id: first.id }, data: { stamp: JSON.stringify(tampered) } });
    const refused = await waitForEnd((await api.runs.rerun({ id: first.id })).id, 180_000);
    assert.equal(refused.status, "failed");
    const line = `model esrgan-thick-x4 (node generate): sha256 ${model.sha256!.slice(0, 12)}… was 000000000000…`;
    assert.equal(refused.error, `not an exact re-run of ${first.id}, the stamp differs: ${line} (re-run it with force to run it anyway)`);
    assert.deepEqual(refused.stamp!.rerun, { of: first.id, forced: false, differences: [line] });
    assert.equal(refused.outputs.length, 0);

    // Forced: it runs, records the difference, and (the file being the same in truth) gives the same bytes.
    const forced = await waitForEnd((await api.runs.rerun({ id: first.id, force: true })).id, 180_000);
    assert.equal(forced.status, "succeeded", forced.error ?? "");
    assert.deepEqual(forced.stamp!.rerun, { of: first.id, forced: true, differences: [line] });
    assert.ok((await outputBytes(forced)).equals(await outputBytes(first)));
    console.log(`stamp: ${model.model} ${model.precision} ${model.sha256!.slice(0, 12)}, ORT ${stamp.runtime.onnxruntime}, ${stamp.runtime.threads} threads, CPU features ${stamp.runtime.cpuFeatures.join(" ")}; re-run ${again.totalMs!.toFixed(0)} ms, identical`);
  });

  it("a re-run cuts the tiles the repeated run cut, where auto tiles would plan others now", async () => {
    const input = await uploadCrop("coffee.png", 72, 150, 90);
    const fixed = await waitForEnd((await api.runs.start({ template: "x4-chunked", overrides: TILES, inputs: { input } })).id, 180_000);
    const auto = await waitForEnd((await api.runs.start({ template: "x4-chunked", inputs: { input } })).id, 180_000);
    assert.equal(fixed.status, "succeeded", fixed.error ?? "");
    assert.equal(auto.status, "succeeded", auto.error ?? "");
    assert.notDeepEqual(auto.stamp!.tiles, fixed.stamp!.tiles, "auto tiles on this machine are not the fixed 48 px ones");
    // As if the auto run had been made on a machine whose measurements or budget chose 48 px tiles.
    await (await getDb()).run.update({ where: { id: auto.id }, data: { stamp: JSON.stringify({ ...auto.stamp!, tiles: fixed.stamp!.tiles }) } });
    const again = await waitForEnd((await api.runs.rerun({ id: auto.id })).id, 180_000);
    assert.equal(again.status, "succeeded", again.error ?? "");
    assert.deepEqual(again.stamp!.tiles, fixed.stamp!.tiles);
    assert.deepEqual(again.stamp!.rerun, { of: auto.id, forced: false, differences: [] });
    assert.ok((await outputBytes(again)).equals(await outputBytes(fixed)), "the bytes of the recorded tiles, not of today's plan");
  });

  it("refuses to re-run a run that has no stamp, naming why", async () => {
    const run = await (await getDb()).run.create({ data: { graph: "{}", trigger: "api", status: "succeeded" } });
    await assert.rejects(api.runs.rerun({ id: run.id }), /has no reproducibility stamp \(it ran before stamps were recorded/);
  });
});

test("differences name the node, the model, the value now and the value then", () => {
  const base: RunStamp = {
    version: 1,
    graph: { sha256: "a".repeat(64), canonical: "{}" },
    inputs: { input: "b".repeat(64) },
    models: [{ nodeId: "generate", model: "esrgan-thick-x4", precisionAsked: "auto", precision: "int8", file: "x.int8.onnx", sha256: "c".repeat(64), provider: "cpu", providerUsed: "cpu" }],
    seeds: { degrade: 7 },
    tiles: [{ nodeId: "chunk", tileWidth: 128, tileHeight: 128, overlap: 16, cols: 4, rows: 4 }],
    runtime: { onnxruntime: "1.30.0", sharp: "0.35.5", vips: "8.18.7", node: "20.0.0", threads: 2, arch: "x64", cpu: "A", cpuFeatures: ["avx2", "avx512_vnni", "avx512f"] },
  };
  assert.deepEqual(stampDifferences(base, base, "after"), []);
  const now: RunStamp = {
    ...base,
    inputs: { input: "d".repeat(64) },
    models: [{ ...base.models[0], precision: "fp32", file: "x.onnx", sha256: "e".repeat(64) }],
    seeds: { degrade: 8 },
    tiles: [{ ...base.tiles[0], tileWidth: 192, tileHeight: 192, cols: 3, rows: 3 }],
    runtime: { ...base.runtime, onnxruntime: "1.31.0", threads: 4, cpu: "B", cpuFeatures: ["amx_int8", "avx2", "avx512f"] },
  };
  const expected = [
    `input "input": sha256 dddddddddddd… was bbbbbbbbbbbb…`,
    "node degrade: seed 8 was 7",
    "model esrgan-thick-x4 (node generate): precision fp32 was int8",
    "onnxruntime 1.31.0 was 1.30.0",
    "intra-op threads 4 was 2",
    "CPU features: now also amx_int8; no longer avx512_vnni (CPU B was A)",
  ];
  assert.deepEqual(stampDifferences(base, now, "before"), expected);
  assert.deepEqual(stampDifferences(base, now, "after"), [...expected, "node chunk: tiles 192x192 overlap 16 (3x3) was 128x128 overlap 16 (4x4)"]);
});
