// Upload checks of damaged images: a corrupt or truncated PNG says so (and what is wrong in it), while bytes
// that are no image format at all are "not an image".
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { photoPath } from "../../fixtures/photos";
import { BadInputError } from "../platform/errors";
import { checkUploadedImage } from "./artifacts";

async function refused(bytes: Buffer, fileName: string): Promise<string> {
  try {
    await checkUploadedImage(bytes, fileName);
  } catch (error) {
    assert.ok(error instanceof BadInputError, String(error));
    return error.message;
  }
  assert.fail(`${fileName} was accepted`);
}

test("an upload with a bad CRC or only a header is corrupt or truncated image data, not 'not an image'", async () => {
  const png = await readFile(photoPath("coffee.png"));
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  let idat = 8;
  while (png.toString("latin1", idat + 4, idat + 8) !== "IDAT") idat += 12 + png.readUInt32BE(idat);
  const flipped = Buffer.from(png);
  flipped[idat + 8 + 100] ^= 0x01;
  assert.equal(
    await refused(flipped, "coffee.png"),
    `"coffee.png": corrupt or truncated image data: vipspng: libpng read error (PNG: the IDAT chunk at byte ${idat} fails its CRC check)`,
  );
  assert.match(
    await refused(png.subarray(0, ihdrEnd), "header.png"),
    /^"header\.png": corrupt or truncated image data: .+ \(PNG: the data ends after the IHDR chunk, no IDAT chunk with image data\)$/,
  );
  assert.match(await refused(png.subarray(0, 8), "signature.png"), /^"signature\.png": corrupt or truncated image data: /);
});

test("bytes of no image format are not an image", async () => {
  assert.equal(await refused(Buffer.from("name,value\na,1\n"), "data.png"), '"data.png" is not an image (accepted: PNG, JPEG, WebP, GIF, TIFF)');
  assert.equal(await refused(Buffer.from("GIF"), "short.gif"), '"short.gif" is not an image (accepted: PNG, JPEG, WebP, GIF, TIFF)');
});
