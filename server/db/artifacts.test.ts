import assert from "node:assert/strict";
import { readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { before, it } from "node:test";
import zlib from "node:zlib";
import sharp from "sharp";
import { photoPath } from "../../fixtures/photos";
import { BadInputError, NotFoundError } from "../platform/errors";
import { dataDir } from "../platform/paths";
import { describeOnEachDatabase } from "../test-support/databases";
import { readArtifact, storeUpload } from "./artifacts";

async function crop(name: string, size: number, left = 0, top = 0): Promise<Buffer> {
  return sharp(photoPath(name)).extract({ left, top, width: size, height: size }).png().toBuffer();
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG whose header says width x height but that holds a single row of pixel data: only a header check can be fast. */
function pngClaiming(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = zlib.deflateSync(Buffer.alloc(1 + width * 3));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", header), chunk("IDAT", row), chunk("IEND", Buffer.alloc(0))]);
}

async function rejects(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof BadInputError, `expected BadInputError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describeOnEachDatabase("artifacts", () => {
  let png: Buffer;

  before(async () => {
    png = await crop("chelsea.png", 64, 100, 40);
  });

  it("stores an upload under its sha256 with size, dimensions and format, and dedupes the same bytes", async () => {
    const stored = await storeUpload({ bytes: png, fileName: "cat crop.png" });
    assert.equal(stored.kind, "input");
    assert.equal(stored.deduplicated, false);
    assert.deepEqual([stored.width, stored.height, stored.format, stored.sizeBytes], [64, 64, "png", png.length]);
    const { artifact, file } = await readArtifact(stored.id);
    assert.equal(artifact.sha256, stored.sha256);
    assert.equal(path.basename(file), `${stored.sha256}.png`);
    assert.equal(path.dirname(file), path.join(dataDir(), "artifacts"));
    assert.deepEqual(await readFile(file), png);

    const again = await storeUpload({ bytes: png, fileName: "another name.png" });
    assert.equal(again.id, stored.id);
    assert.equal(again.deduplicated, true);
    // The file is put back if it went missing.
    await rm(file);
    await storeUpload({ bytes: png, fileName: "x.png" });
    assert.equal((await stat(file)).size, png.length);
  });

  it("stores a JPEG with EXIF-rotated dimensions", async () => {
    const jpeg = await sharp(photoPath("rocket.jpg")).extract({ left: 0, top: 0, width: 40, height: 30 }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const stored = await storeUpload({ bytes: jpeg, fileName: "rocket.jpg" });
    assert.deepEqual([stored.format, stored.width, stored.height], ["jpeg", 30, 40]);
    assert.match((await readArtifact(stored.id)).file, /\.jpg$/);
  });

  it("refuses file names with path tricks", async () => {
    const cases: [string, RegExp][] = [
      ["../../etc/passwd.png", /contains '\.\.'/],
      ["..", /contains '\.\.'/],
      ["/etc/x.png", /absolute path/],
      ["C:photo.png", /absolute path/],
      ["photo\0.png", /NUL/],
      ["dir\\photo.png", /backslash/],
      ["photos/cat.png", /contains a folder/],
      ["", /is empty/],
      ["tab\there.png", /control characters/],
    ];
    for (const [name, message] of cases) await rejects(storeUpload({ bytes: png, fileName: name }), message);
  });

  it("refuses what is not an image, a corrupt image, an empty file and a vector image", async () => {
    await rejects(storeUpload({ bytes: Buffer.from("name,value\na,1\n"), fileName: "data.png" }), /"data\.png" is not an image/);
    await rejects(storeUpload({ bytes: png.subarray(0, Math.floor(png.length / 2)), fileName: "half.png" }), /corrupt or truncated/);
    await rejects(storeUpload({ bytes: Buffer.alloc(0), fileName: "empty.png" }), /is empty/);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    await rejects(storeUpload({ bytes: svg, fileName: "v.svg" }), /svg file, not an accepted image format/);
  });

  it("refuses an image over the pixel limit from its header, before decoding it", async () => {
    const huge = pngClaiming(20000, 20000); // 400 MP by its header; the default limit is 64 MP
    const started = performance.now();
    await rejects(storeUpload({ bytes: huge, fileName: "huge.png" }), /20000x20000 is 400\.0 MP, over the limit of 64\.0 MP/);
    assert.ok(performance.now() - started < 1000, "rejected without decoding");

    process.env.TUDSR_MAX_PIXELS = String(64 * 63);
    try {
      await rejects(storeUpload({ bytes: png, fileName: "cat.png" }), /64x64 is 0\.0 MP, over the limit/);
    } finally {
      delete process.env.TUDSR_MAX_PIXELS;
    }
  });

  it("refuses an upload over the byte limit", async () => {
    process.env.TUDSR_MAX_UPLOAD_BYTES = String(png.length - 1);
    try {
      await rejects(storeUpload({ bytes: png, fileName: "cat.png" }), /over the upload limit of/);
    } finally {
      delete process.env.TUDSR_MAX_UPLOAD_BYTES;
    }
  });

  it("reports an unknown artifact id as not found", async () => {
    await assert.rejects(readArtifact("no-such-artifact"), NotFoundError);
  });
});
