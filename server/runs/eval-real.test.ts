// The real-world evaluation (issue 8): eval-real-x4 as shipped (seeded Real-ESRGAN degradation down x4, then
// Real-ESRGAN x4plus and thick x4 in chunks, and bicubic) on the fixture photos, through the real converted
// models (npm run setup makes them; `npm test` runs it first). x4plus, trained on such degradations, must beat
// thick (trained on clean bicubic downscales) and bicubic on mean SSIM. PSNR is reported, not asserted: a GAN
// model's invented detail is sharp but not pixel-exact, and PSNR punishes that more than a blur.
// Side-by-side crops (reference | thick | x4plus | bicubic, 1:1) are written to $TMPDIR/eval-real/ to look at.
// Also: x4-real's tiles agree with the whole-image output (no seams), and x8-twice-real reaches x8.
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { wholeImageGraph } from "../../fixtures/graphs";
import { PHOTO_NAMES, photoPath } from "../../fixtures/photos";
import { axisStarts } from "../../nodes/image/tiling";
import { findTemplate } from "../../nodes/templates/index";
import { decodeImage } from "../images/codec";
import { InferenceService } from "../inference/inference-service";
import { runPipeline } from "./run-pipeline";

/** Reference side: a multiple of 4, so the x4 outputs come out at the reference's size. */
const SIZE = 256;
const LABELS = ["realesrgan-x4plus", "esrgan-thick-x4", "bicubic"] as const;
/** The saved output of each branch, by metrics label. */
const OUTPUT_OF: Record<(typeof LABELS)[number], string> = { "realesrgan-x4plus": "output", "esrgan-thick-x4": "thick", bicubic: "bicubic" };
const MIN_SSIM_MARGIN = 0.03;
const CROPS_DIR = path.join(os.tmpdir(), "eval-real");
/** Two photos to look at, and where in the 256 px reference the 128 px crop sits. */
const SIDE_BY_SIDE: Record<string, { left: number; top: number }> = {
  "astronaut.png": { left: 64, top: 40 },
  "coffee.png": { left: 64, top: 64 },
};
const CROP = 128;

/** The photo's centre SIZE x SIZE, as PNG bytes. */
async function centreCrop(name: string): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(photoPath(name)).metadata();
  assert.ok(width >= SIZE && height >= SIZE, `${name} is ${width}x${height}, smaller than ${SIZE}`);
  const box = { left: Math.floor((width - SIZE) / 2), top: Math.floor((height - SIZE) / 2), width: SIZE, height: SIZE };
  return sharp(photoPath(name)).extract(box).png().toBuffer();
}

/** reference | thick | x4plus | bicubic, each CROP x CROP at 1:1, with a 4 px white gap between. */
async function sideBySide(images: Buffer[], at: { left: number; top: number }, file: string): Promise<void> {
  const gap = 4;
  const tiles = await Promise.all(images.map((bytes) => sharp(bytes).extract({ ...at, width: CROP, height: CROP }).png().toBuffer()));
  await sharp({ create: { width: tiles.length * CROP + (tiles.length - 1) * gap, height: CROP, channels: 3, background: "#ffffff" } })
    .composite(tiles.map((input, i) => ({ input, left: i * (CROP + gap), top: 0 })))
    .removeAlpha()
    .png()
    .toFile(file);
}

test("x4-real: the tiled output matches the whole-image x4plus output, in the tiles' overlaps too (no seams)", async () => {
  // The template with small fixed tiles (its auto tiles would take a crop this small whole): 2x2 tiles of
  // 120 px on a 208 px crop, overlapping by 32 px.
  const template = findTemplate("x4-real")!;
  const overlap = 32;
  const [tile, size] = [120, 208];
  const starts = axisStarts(size, tile, overlap);
  assert.deepEqual(starts, [0, size - tile]);
  assert.equal(starts[0] + tile - starts[1], overlap);
  const input = await sharp(photoPath("grace_hopper.jpg")).extract({ left: 120, top: 200, width: size, height: size }).png().toBuffer();
  const inference = new InferenceService();
  const tiled = await runPipeline(template.graph, {
    inference,
    inputs: { input },
    overrides: [
      { nodeId: "chunk", param: "tileSize", value: tile },
      { nodeId: "chunk", param: "overlap", value: overlap },
    ],
  });
  const whole = await runPipeline(wholeImageGraph("realesrgan-x4plus"), { inference, inputs: { input } });
  const [a, b] = await Promise.all([decodeImage(tiled.outputs[0].bytes), decodeImage(whole.outputs[0].bytes)]);
  assert.deepEqual([a.image.width, a.image.height], [size * 4, size * 4]);
  // The overlap band (both tiles contribute), in output pixels, on either axis. Measured here: 46.0 dB in all,
  // 41.7 dB in the band, 50.6 dB elsewhere (an RMS difference of about 2 levels of 255 where the tiles blend:
  // each tile sees less of the image than the whole-image run, and x4plus's receptive field is wide; with a
  // 16 px overlap the band measured 1.5-4 dB lower, and no blend hides a misplaced tile).
  const [bandStart, bandEnd] = [starts[1] * 4, (starts[0] + tile) * 4];
  const inBand = (v: number) => v >= bandStart && v < bandEnd;
  const width = a.image.width;
  const plane = width * a.image.height;
  const sums = { band: [0, 0], rest: [0, 0] };
  for (let i = 0; i < a.image.data.length; i++) {
    const p = i % plane;
    const where = inBand(p % width) || inBand(Math.floor(p / width)) ? sums.band : sums.rest;
    where[0] += (a.image.data[i] - b.image.data[i]) ** 2;
    where[1]++;
  }
  const psnr = ([sum, n]: number[]) => 10 * Math.log10(1 / (sum / n));
  const all = psnr([sums.band[0] + sums.rest[0], sums.band[1] + sums.rest[1]]);
  console.log(`x4-real tiled (${tile} px, overlap ${overlap}) vs whole: ${all.toFixed(2)} dB; in the overlaps ${psnr(sums.band).toFixed(2)} dB, elsewhere ${psnr(sums.rest).toFixed(2)} dB`);
  assert.ok(all >= 44, `tiled vs whole: ${all.toFixed(2)} dB`);
  assert.ok(psnr(sums.band) >= 40, `tiled vs whole in the overlaps: ${psnr(sums.band).toFixed(2)} dB`);
});

test(`eval-real-x4: x4plus beats thick and bicubic on mean SSIM by at least ${MIN_SSIM_MARGIN} on real-world degraded photos`, async () => {
  const template = findTemplate("eval-real-x4")!;
  const inference = new InferenceService();
  await mkdir(CROPS_DIR, { recursive: true });
  const rows: { name: string; scores: Record<string, { psnr: number; ssim: number }> }[] = [];
  const degradations = new Map<string, string>();
  for (const name of PHOTO_NAMES) {
    const reference = await centreCrop(name);
    const logs: string[] = [];
    const result = await runPipeline(template.graph, {
      inference,
      inputs: { input: reference },
      onEvent: (event) => event.type === "node-log" && event.nodeId === "degrade" && logs.push(event.message),
    });
    degradations.set(name, logs.join(", "));
    const scores: Record<string, { psnr: number; ssim: number }> = {};
    for (const label of LABELS) {
      const metric = result.metrics.find((m) => m.label === label);
      assert.ok(metric, `${name}: no metric "${label}" (${result.metrics.map((m) => m.label).join(", ")})`);
      assert.deepEqual([metric.width, metric.height], [SIZE, SIZE], `${name} ${label}: measured at the reference's size`);
      assert.ok(metric.ssim > 0 && metric.ssim <= 1 && Number.isFinite(metric.psnr), `${name} ${label}: ${metric.psnr} dB, SSIM ${metric.ssim}`);
      scores[label] = { psnr: metric.psnr, ssim: metric.ssim };
    }
    rows.push({ name, scores });
    for (const output of result.outputs) assert.deepEqual([output.width, output.height], [SIZE, SIZE], `${name} output ${output.name}`);
    const at = SIDE_BY_SIDE[name];
    if (at) {
      const bytes = (label: (typeof LABELS)[number]) => result.outputs.find((output) => output.name === OUTPUT_OF[label])!.bytes;
      const file = path.join(CROPS_DIR, `${path.parse(name).name}.png`);
      await sideBySide([reference, bytes("esrgan-thick-x4"), bytes("realesrgan-x4plus"), bytes("bicubic")], at, file);
      console.log(`side by side (reference | thick | x4plus | bicubic): ${file}`);
    }
  }

  const mean = (label: string, key: "psnr" | "ssim") => rows.reduce((sum, row) => sum + row.scores[label][key], 0) / rows.length;
  const cell = (score: { psnr: number; ssim: number }) => `${score.psnr.toFixed(2).padStart(6)} dB ${score.ssim.toFixed(4)}`;
  const header = `${"photo".padEnd(22)}${LABELS.map((label) => label.padEnd(20)).join("")}`;
  const lines = rows.map((row) => `${row.name.padEnd(22)}${LABELS.map((label) => cell(row.scores[label]).padEnd(20)).join("")}`);
  const means = `${"mean".padEnd(22)}${LABELS.map((label) => cell({ psnr: mean(label, "psnr"), ssim: mean(label, "ssim") }).padEnd(20)).join("")}`;
  const drawn = new Set(degradations.values());
  const degradation = drawn.size === 1 ? `every photo: ${[...drawn][0]}` : [...degradations].map(([name, trace]) => `${name}: ${trace}`).join("\n    ");
  console.log(`eval-real-x4, ${SIZE} px centre crops, Y-PSNR and SSIM\n  degradation (seeded), ${degradation}\n  ${[header, ...lines, means].join("\n  ")}`);

  const x4plus = mean("realesrgan-x4plus", "ssim");
  for (const other of ["esrgan-thick-x4", "bicubic"]) {
    const margin = x4plus - mean(other, "ssim");
    assert.ok(margin >= MIN_SSIM_MARGIN, `mean SSIM x4plus ${x4plus.toFixed(4)} vs ${other} ${mean(other, "ssim").toFixed(4)}: margin ${margin.toFixed(4)} < ${MIN_SSIM_MARGIN}`);
  }
});

test("x8-twice-real reaches x8 on a real photo: x4plus restores, then the clean x2 stage", async () => {
  const input = await sharp(photoPath("rocket.jpg")).extract({ left: 400, top: 120, width: 48, height: 48 }).png().toBuffer();
  const result = await runPipeline(findTemplate("x8-twice-real")!.graph, { inference: new InferenceService(), inputs: { input } });
  assert.deepEqual([result.outputs[0].width, result.outputs[0].height], [384, 384]);
  assert.deepEqual(
    result.nodes.filter((node) => node.type === "generate").map((node) => node.id),
    ["generate1", "generate2"],
  );
  const decoded = await decodeImage(result.outputs[0].bytes);
  const mean = decoded.image.data.reduce((sum, v) => sum + v, 0) / decoded.image.data.length;
  assert.ok(mean > 0.05 && mean < 0.95, `output is an image, not a flat field (mean ${mean})`);
});
