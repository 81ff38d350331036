// The loop container's `map` mode with a REAL model (nodes/graph/engine.test.ts covers it with a fake one):
// load -> chunk -> loop(map){ generate } -> stitch -> save must be the same image as the same graph with the
// generate node wired straight from chunk to stitch (it upscales each tile the same way, one tile per call).
// Needs the converted models (npm run setup).
import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { chunkedGraph, loopMapGraph } from "../../fixtures/graphs";
import { photoPath } from "../../fixtures/photos";
import { InferenceService } from "../inference/inference-service";
import { runPipeline } from "./run-pipeline";

const inference = new InferenceService();

/** The fast built-in x4 model (`npx tudsr models`: speed class "fast"). */
const MODEL = "esrgan-slim-x4";
const SCALE = 4;
// Fixed tiles (not `auto`): auto sizes tiles by the model that reads them, and in map mode that reader is the
// loop, not the generate node; the two graphs must cut the same tiles.
const CHUNK = { tileSize: 48, overlap: 8 };
// Neither side a multiple of the tile step: the last column and row of tiles are shifted back to end at the edge.
const CROP = { left: 150, top: 60, width: 100, height: 76 };

async function rawPixels(png: Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

test(`loop map with a real model (${MODEL}): output is x${SCALE} the input and identical to generate wired straight between chunk and stitch`, async () => {
  const input = await sharp(photoPath("chelsea.png")).extract(CROP).png().toBuffer();

  const looped = await runPipeline(loopMapGraph(MODEL, CHUNK), { inference, inputs: { input } });
  const direct = await runPipeline(chunkedGraph(MODEL, CHUNK), { inference, inputs: { input } });

  assert.equal(looped.outputs.length, 1);
  assert.equal(direct.outputs.length, 1);
  const [a, b] = [looped.outputs[0], direct.outputs[0]];
  assert.deepEqual([a.width, a.height], [CROP.width * SCALE, CROP.height * SCALE], "loop map output size");
  assert.deepEqual([b.width, b.height], [CROP.width * SCALE, CROP.height * SCALE], "direct output size");

  // The loop ran its body once per tile: 100x76 in 48 px tiles with at least 8 px overlap is 3 x 2 tiles.
  const generate = looped.nodes.find((node) => node.id === "generate");
  assert.ok(generate, `no timing for the generate node: ${JSON.stringify(looped.nodes.map((node) => node.id))}`);
  assert.equal(generate.runs, 6, "generate runs inside the loop, once per tile");
  assert.equal(direct.nodes.find((node) => node.id === "generate")?.runs, 1, "the direct generate node runs once, over all tiles");

  const [pa, pb] = await Promise.all([rawPixels(a.bytes), rawPixels(b.bytes)]);
  assert.deepEqual([pa.width, pa.height, pa.channels], [pb.width, pb.height, pb.channels]);
  let maxDiff = 0;
  let differing = 0;
  for (let i = 0; i < pa.data.length; i++) {
    const diff = Math.abs(pa.data[i] - pb.data[i]);
    if (diff > 0) differing++;
    maxDiff = Math.max(maxDiff, diff);
  }
  assert.equal(differing, 0, `${differing} of ${pa.data.length} samples differ (max ${maxDiff} of 255)`);
  assert.ok(a.bytes.equals(b.bytes), "the encoded outputs are byte-for-byte the same");

  // A real upscale, not a flat field or a copy of one tile: the output varies and follows the input.
  let sum = 0;
  let sumSq = 0;
  for (const value of pa.data) {
    sum += value;
    sumSq += value * value;
  }
  const mean = sum / pa.data.length;
  const std = Math.sqrt(sumSq / pa.data.length - mean * mean);
  assert.ok(std > 10, `output standard deviation ${std.toFixed(2)} (a flat image?)`);
  const reference = await sharp(input).resize(CROP.width * SCALE, CROP.height * SCALE, { kernel: "cubic" }).raw().toBuffer();
  let error = 0;
  for (let i = 0; i < reference.length; i++) error += (reference[i] - pa.data[i]) ** 2;
  const psnr = 10 * Math.log10((255 * 255) / (error / reference.length));
  assert.ok(psnr > 20, `output vs a bicubic x${SCALE} of the input: ${psnr.toFixed(2)} dB (tiles misplaced?)`);
});
