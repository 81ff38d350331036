import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { loadPhoto, photoPath } from "../../fixtures/photos";
import { decodeImage, encodeImage, toRgb8 } from "./codec";

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
