import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import sharp from "sharp";
import { loadPhoto, photoPath } from "../../fixtures/photos";
import { decodeImage, encodeImage, ImageDecodeError, toRgb8 } from "./codec";

test("alpha is dropped with a note; colour channels are kept as stored", async () => {
  const rgba = await sharp(photoPath("chelsea.png")).ensureAlpha(0.5).png().toBuffer();
  const { image, notes } = await decodeImage(rgba);
  const plain = await loadPhoto("chelsea.png");
  assert.deepEqual(notes, ["alpha channel dropped"]);
  assert.deepEqual(toRgb8(image), toRgb8(plain));
});

test("EXIF orientation is applied, with a note", async () => {
  const rotated = await sharp(photoPath("grace_hopper.jpg")).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
  const { image, notes } = await decodeImage(rotated);
  assert.deepEqual([image.width, image.height], [600, 512], "orientation 6 turns the 512x600 photo on its side");
  assert.deepEqual(notes, ["EXIF orientation 6 applied"]);
});

test("PNG round trip is lossless at 8 bits; JPEG and WebP encode to their formats", async () => {
  const photo = await loadPhoto("coffee.png", { left: 0, top: 0, width: 97, height: 61 });
  const png = await encodeImage(photo, { format: "png" });
  assert.deepEqual(toRgb8((await decodeImage(png)).image), toRgb8(photo));
  for (const format of ["jpeg", "webp"] as const) {
    const meta = await sharp(await encodeImage(photo, { format, quality: 80 })).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], [format, 97, 61, 3]);
  }
});

test("the pixel limit is checked from the header, before decoding", async () => {
  // A 20000x20000 PNG header: decoding it would take 1.2 GB; the limit check must refuse it first.
  const huge = await sharp({ create: { width: 20000, height: 20000, channels: 3, background: "#808080" }, limitInputPixels: false }).png({ compressionLevel: 9 }).toBuffer();
  await assert.rejects(decodeImage(huge), /20000x20000 is 400\.0 MP, over the limit of 64\.0 MP/);
});

/** The chunks of a PNG: type, offset of the chunk's length field, data length. */
function pngChunks(png: Buffer): { type: string; offset: number; length: number }[] {
  const chunks = [];
  for (let offset = 8; offset < png.length; ) {
    const length = png.readUInt32BE(offset);
    chunks.push({ type: png.toString("latin1", offset + 4, offset + 8), offset, length });
    offset += 12 + length;
  }
  return chunks;
}

test("a corrupt PNG says what is wrong: a flipped byte in IDAT (CRC error), data cut after the IHDR", async () => {
  for (const name of ["chelsea.png", "coffee.png", "astronaut.png"]) {
    const png = await readFile(photoPath(name));
    const chunks = pngChunks(png);
    const idat = chunks.find((chunk) => chunk.type === "IDAT")!;
    const flipped = Buffer.from(png);
    flipped[idat.offset + 8 + Math.floor(idat.length / 2)] ^= 0xff;
    await assert.rejects(decodeImage(flipped), (error: unknown) => {
      assert.ok(error instanceof ImageDecodeError && error.kind === "corrupt", String(error));
      assert.equal(error.message, `image data: corrupt or truncated image data: vipspng: libpng read error (PNG: the IDAT chunk at byte ${idat.offset} fails its CRC check)`);
      return true;
    });
    const ihdr = chunks.find((chunk) => chunk.type === "IHDR")!;
    const headerOnly = png.subarray(0, ihdr.offset + 12 + ihdr.length);
    await assert.rejects(decodeImage(headerOnly), (error: unknown) => {
      assert.ok(error instanceof ImageDecodeError && error.kind === "corrupt", String(error));
      assert.match(error.message, /^image data: corrupt or truncated image data: .+ \(PNG: the data ends after the IHDR chunk, no IDAT chunk with image data\)$/);
      return true;
    });
    const half = png.subarray(0, Math.floor(png.length / 2));
    await assert.rejects(decodeImage(half), /corrupt or truncated image data: .*\(PNG: the data ends inside the IDAT chunk at byte \d+\)$/);
  }
});

test("bytes that are no image format are not a readable image; a file path names itself", async () => {
  await assert.rejects(decodeImage(Buffer.from("name,value\na,1\n")), (error: unknown) => {
    assert.ok(error instanceof ImageDecodeError && error.kind === "not-an-image", String(error));
    assert.equal(error.message, "image data: not a readable image (Input buffer contains unsupported image format)");
    return true;
  });
  const jpeg = await readFile(photoPath("rocket.jpg"));
  await assert.rejects(decodeImage(jpeg.subarray(0, 2000)), { message: /^image data: corrupt or truncated image data: VipsJpeg: premature end of JPEG image$/ });
  await assert.rejects(decodeImage(photoPath("missing.png")), (error: unknown) => error instanceof ImageDecodeError && /missing\.png: not a readable image/.test(error.message));
});
