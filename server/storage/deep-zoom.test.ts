// Large outputs get a Deep Zoom pyramid beside their file: every level's tiles, the descriptor, each tile the
// output's own pixels at that level; small outputs get none; tile names are checked before any key is made.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { parseDzi } from "../images/deep-zoom";
import { BadInputError, NotFoundError } from "../platform/errors";
import { artifactFile, artifactKeyOf, readDeepZoom, readDeepZoomTile, writeOutputFile } from "./artifacts";

let dir: string;
const saved = process.env.TUDSR_DATA_DIR;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tudsr-dz-test-"));
  process.env.TUDSR_DATA_DIR = dir;
});
after(async () => {
  if (saved === undefined) delete process.env.TUDSR_DATA_DIR;
  else process.env.TUDSR_DATA_DIR = saved;
  await rm(dir, { recursive: true, force: true });
});

/** A 4096 x 3000 RGB gradient with a mark at (1000, 700): quick to encode, every tile different. */
function gradient(width: number, height: number): Buffer {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      rgb[at] = x & 255;
      rgb[at + 1] = y & 255;
      rgb[at + 2] = x >= 1000 && x < 1010 && y >= 700 && y < 710 ? 255 : 0;
    }
  }
  return rgb;
}

test("an output of 4096 x 4096 or more is stored with its pyramid, read back by level and tile", async () => {
  const width = 4096;
  const height = 4100;
  const raw = gradient(width, height);
  const bytes = await sharp(raw, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
  const stored = await writeOutputFile("run1", { name: "output", format: "png", width, height, bytes });
  const key = artifactKeyOf(artifactFile(stored.path));
  assert.equal(key, "artifacts/runs/run1/output.png");
  const info = await readDeepZoom(key);
  assert.deepEqual(info, { width, height, tileSize: 256, overlap: 0, format: "png" });
  // The full-size level (13: ceil(log2(4100))) holds the output's pixels; level 0 is one pixel.
  const tile = await sharp(await readDeepZoomTile(key, "13", "3_2.png")).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([tile.info.width, tile.info.height], [256, 256]);
  for (const [x, y] of [[0, 0], [232, 188], [255, 255]]) {
    const at = ((512 + y) * width + 768 + x) * 3;
    assert.deepEqual([...tile.data.subarray((y * 256 + x) * 3, (y * 256 + x) * 3 + 3)], [...raw.subarray(at, at + 3)], `${x},${y}`);
  }
  const edge = await sharp(await readDeepZoomTile(key, "13", "15_16.png")).metadata();
  assert.deepEqual([edge.width, edge.height], [256, 4]);
  assert.deepEqual([(await sharp(await readDeepZoomTile(key, "0", "0_0.png")).metadata()).width], [1]);
  await assert.rejects(readDeepZoomTile(key, "13", "16_0.png"), NotFoundError);
  await assert.rejects(readDeepZoomTile(key, "13", "../../output.png"), BadInputError);
  await assert.rejects(readDeepZoomTile(key, "x", "0_0.png"), BadInputError);
});

test("a smaller output has no pyramid", async () => {
  const raw = gradient(640, 480);
  const bytes = await sharp(raw, { raw: { width: 640, height: 480, channels: 3 } }).jpeg().toBuffer();
  const stored = await writeOutputFile("run2", { name: "small", format: "jpeg", width: 640, height: 480, bytes });
  assert.equal(await readDeepZoom(stored.path), null);
});

test("a descriptor is read strictly", () => {
  assert.deepEqual(parseDzi('<Image Format="jpeg" Overlap="1" TileSize="254"><Size Height="10" Width="20"/></Image>'), {
    width: 20,
    height: 10,
    tileSize: 254,
    overlap: 1,
    format: "jpeg",
  });
  assert.throws(() => parseDzi('<Image Format="tif" Overlap="0" TileSize="256"><Size Height="1" Width="1"/></Image>'), /unknown format/);
  assert.throws(() => parseDzi("<Image/>"), /no Format/);
});
