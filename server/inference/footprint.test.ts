// A model's footprint on real models: the built-in models' figures are known before their first run (committed,
// and confirmed here by measuring one afresh), a model with nothing known gets conservative figures at once while
// a child process measures it, and the measured memory line predicts what a fresh process holds for a larger tile.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { builtInTemplates } from "../../nodes/templates/index";
import { modelFilePath, type ModelManifestEntry, readModelManifest } from "../models/manifest";
import { type KnownFootprints, KNOWN_FOOTPRINTS_FILE, type MeasureRequest, measureFootprint, type ModelMeasurement, modelMeasurement, type TileBytes } from "./footprint";
import { onnxRuntimeVersion } from "./inference-service";
import type { SessionSettings } from "./session-settings";

const MODEL = "psnr-small-x2";
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "footprint-child.ts");
const SETTINGS: SessionSettings = { threads: 1, spinning: false, source: "environment" };

async function modelsFolder(entry: ModelManifestEntry): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "footprint-"));
  await symlink(modelFilePath(entry), path.join(dir, entry.file));
  return dir;
}

const known = async () => JSON.parse(await readFile(KNOWN_FOOTPRINTS_FILE, "utf8")) as KnownFootprints;

test("the models the built-in templates run are known before their first run: nothing is measured, speed per tile size included", async () => {
  const manifest = await readModelManifest();
  const used = new Set(builtInTemplates.flatMap((template) => template.graph.nodes.filter((node) => node.type === "generate").map((node) => String(node.params.model))));
  const { models } = await known();
  const dir = await mkdtemp(path.join(os.tmpdir(), "footprint-"));
  try {
    for (const entry of manifest.models.filter((model) => used.has(model.id))) {
      if (!models[entry.sha256]) {
        console.log(`${entry.id}: its file (${entry.sha256.slice(0, 12)}) is not the one known-footprints.json describes: run scripts/known-footprints.ts`);
        continue;
      }
      let measuring = false;
      const figures = await modelMeasurement(entry, { dir, precision: "fp32", provider: "cpu", settings: SETTINGS, onnxRuntime: onnxRuntimeVersion(), onBackground: () => (measuring = true) });
      assert.equal(figures.basis, "known", entry.id);
      assert.equal(measuring, false, `${entry.id}: nothing measured`);
      assert.ok(figures.speed.length >= 2 && figures.bytesPerInputPixel > 0, `${entry.id}: ${JSON.stringify(figures)}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a model with nothing known runs at once on conservative figures, measured meanwhile in a child process of low priority", { timeout: 300_000 }, async () => {
  const entry = (await readModelManifest()).models.find((model) => model.id === MODEL)!;
  // The same file under a hash nothing knows: an upload.
  const upload: ModelManifestEntry = { ...entry, id: "upload", sha256: "0".repeat(64), int8: undefined };
  const dir = await modelsFolder(entry);
  try {
    let background: Promise<ModelMeasurement | undefined> | undefined;
    const options = { dir, precision: "fp32" as const, provider: "cpu", settings: SETTINGS, onnxRuntime: onnxRuntimeVersion() };
    const estimate = await modelMeasurement(upload, { ...options, onBackground: (done) => (background = done) });
    assert.equal(estimate.basis, "estimate");
    const figures = Object.values((await known()).models);
    assert.ok(figures.every((file) => estimate.bytesPerInputPixel >= file.bytesPerInputPixel && estimate.baseBytes + estimate.processBytes >= file.baseBytes + file.processBytes), "more memory than any known model");
    assert.ok(estimate.borderPx >= 8, "a wide overlap until its border is measured");
    assert.ok(background, "a measurement started");
    // The measurement does not keep a process alive (a `tudsr run` ends without waiting for it): this test waits.
    const alive = setInterval(() => {}, 1000);
    const measured = await background.finally(() => clearInterval(alive));
    assert.equal(measured?.basis, "measured");
    const next = await modelMeasurement(upload, options);
    assert.equal(next.basis, "measured");
    assert.ok(next.bytesPerInputPixel < estimate.bytesPerInputPixel);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test(`${MODEL}: measured afresh, its memory line predicts a larger tile within 25%, ONNX Runtime apart, and confirms the committed figures`, { timeout: 300_000 }, async () => {
  const entry = (await readModelManifest()).models.find((model) => model.id === MODEL)!;
  const dir = await modelsFolder(entry);
  try {
    await writeFile(path.join(dir, "measurements.json"), JSON.stringify({ "m0:old": { baseBytes: 1 } }));
    const options = { dir, precision: "fp32" as const, provider: "cpu", settings: SETTINGS, onnxRuntime: onnxRuntimeVersion() };
    const measured = await measureFootprint(entry, options);
    assert.deepEqual(measured.tiles, [128, 192]);
    assert.ok(measured.bytesPerInputPixel > 1000, `a model working at full resolution holds kilobytes per pixel (${measured.bytesPerInputPixel})`);
    assert.ok(measured.processBytes > 5 * 2 ** 20, `ONNX Runtime's own part is counted apart (${measured.processBytes} bytes)`);
    assert.ok(measured.borderPx > 0 && measured.msPerInputMegapixel > 0);
    const kept = Object.keys(JSON.parse(await readFile(path.join(dir, "measurements.json"), "utf8")) as Record<string, unknown>);
    assert.equal(kept.length, 1, `only the new measurement is kept (${kept.join(", ")})`);
    assert.match(kept[0], new RegExp(`^m\\d+:${entry.sha256}:fp32:cpu:1$`));
    assert.equal((await modelMeasurement(entry, options)).basis, "measured", "a measurement here comes before the committed figures");

    const committed = (await known()).models[entry.sha256];
    if (committed) {
      assert.equal(measured.borderPx, committed.borderPx, "the border is the file's");
      const error = measured.bytesPerInputPixel / committed.bytesPerInputPixel - 1;
      assert.ok(Math.abs(error) <= 0.25, `memory per pixel: measured ${measured.bytesPerInputPixel}, committed ${committed.bytesPerInputPixel}`);
    }

    // What a fresh process holds for a 256 px tile (1.8x the larger measured tile's pixels).
    const request: MeasureRequest = { file: path.join(dir, entry.file), valueRange: entry.valueRange, layout: entry.layout, sizeMultiple: entry.sizeMultiple, threads: 1, spinning: false, size: 256 };
    const child = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", CHILD, JSON.stringify(request)], { encoding: "utf8" });
    assert.equal(child.status, 0, child.stderr);
    const actual = (JSON.parse(child.stdout.trim().split("\n").pop()!) as TileBytes).bytes;
    const predicted = measured.processBytes + measured.baseBytes + measured.bytesPerInputPixel * 256 * 256;
    const error = predicted / actual - 1;
    console.log(`${MODEL} 256 px: predicted ${(predicted / 2 ** 20).toFixed(0)} MB, held ${(actual / 2 ** 20).toFixed(0)} MB (${(error * 100).toFixed(0)}%)`);
    assert.ok(Math.abs(error) <= 0.25, `predicted ${predicted} bytes, a fresh process held ${actual}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
