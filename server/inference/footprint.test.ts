// The measured footprint of a real model: the memory line fitted on 128 and 192 px tiles predicts what a fresh
// process holds for a 256 px tile (beyond the sizes measured), ONNX Runtime's own part is counted apart from the
// session's, and measurements of an older version leave the file when a new one is written.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { modelFilePath, readModelManifest } from "../models/manifest";
import { type MeasureRequest, modelMeasurement, type TileBytes } from "./footprint";

const MODEL = "psnr-small-x2";
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "footprint-child.ts");

test(`${MODEL}: the measured memory line predicts a larger tile within 25%, ONNX Runtime apart`, { timeout: 300_000 }, async () => {
  const entry = (await readModelManifest()).models.find((model) => model.id === MODEL)!;
  const dir = await mkdtemp(path.join(os.tmpdir(), "footprint-"));
  try {
    await symlink(modelFilePath(entry), path.join(dir, entry.file));
    await writeFile(path.join(dir, "measurements.json"), JSON.stringify({ "m0:old": { baseBytes: 1 } }));
    const settings = { threads: 1, spinning: false };
    const measured = await modelMeasurement(entry, { dir, precision: "fp32", provider: "cpu", ...settings });
    assert.deepEqual(measured.tiles, [128, 192]);
    assert.ok(measured.bytesPerInputPixel > 1000, `a model working at full resolution holds kilobytes per pixel (${measured.bytesPerInputPixel})`);
    assert.ok(measured.processBytes > 5 * 2 ** 20, `ONNX Runtime's own part is counted apart (${measured.processBytes} bytes)`);
    assert.ok(measured.borderPx > 0 && measured.msPerInputMegapixel > 0);
    const kept = Object.keys(JSON.parse(await readFile(path.join(dir, "measurements.json"), "utf8")) as Record<string, unknown>);
    assert.equal(kept.length, 1, `only the new measurement is kept (${kept.join(", ")})`);
    assert.match(kept[0], new RegExp(`^m\\d+:${entry.sha256}:fp32:cpu:1$`));

    // What a fresh process holds for a 256 px tile (1.8x the larger measured tile's pixels).
    const request: MeasureRequest = { file: path.join(dir, entry.file), valueRange: entry.valueRange, layout: entry.layout, sizeMultiple: entry.sizeMultiple, ...settings, size: 256 };
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
