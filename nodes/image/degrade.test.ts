import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { loadPhoto } from "../../fixtures/photos";
import { degradeRealEsrgan, realEsrganDegradeOptions, type JpegRoundTrip } from "./degrade";
import { psnrY } from "./metrics";
import { bicubicDownscale } from "./resample";
import { createRng } from "./rng";
import { createImage, type RgbImage } from "./types";

/** The server's job in production: 8-bit RGB JPEG at the quality, decoded back. Records the qualities asked for. */
function sharpJpeg(qualities: number[] = []): JpegRoundTrip {
  return async (image, quality) => {
    qualities.push(quality);
    const plane = image.width * image.height;
    const rgb = Buffer.alloc(plane * 3);
    for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = Math.round(image.data[c * plane + i] * 255);
    const encoded = await sharp(rgb, { raw: { width: image.width, height: image.height, channels: 3 } }).jpeg({ quality }).toBuffer();
    const { data, info } = await sharp(encoded).raw().toBuffer({ resolveWithObject: true });
    const out = createImage(info.width, info.height);
    for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out.data[c * plane + i] = data[3 * i + c] / 255;
    return out;
  };
}

const crop = { left: 96, top: 64, width: 256, height: 256 };

test("the schema carries Real-ESRGAN's finetune_realesrgan_x4plus defaults, bounds and a description per field", () => {
  const defaults = realEsrganDegradeOptions.parse({});
  assert.equal(defaults.scale, 4);
  assert.deepEqual(defaults.resizeProb, [0.2, 0.7, 0.1]);
  assert.deepEqual(defaults.resizeRange, [0.15, 1.5]);
  assert.deepEqual(defaults.noiseRange2, [1, 25]);
  assert.deepEqual(defaults.poissonScaleRange2, [0.05, 2.5]);
  assert.deepEqual(defaults.blurSigma2, [0.2, 1.5]);
  assert.equal(defaults.finalSincProb, 0.8);
  assert.deepEqual(Object.values(defaults.kernelProb), [0.45, 0.25, 0.12, 0.03, 0.12, 0.03]);
  for (const [key, field] of Object.entries(realEsrganDegradeOptions.shape)) {
    assert.ok((field.description ?? "").length > 10, `${key} has no description`);
  }
  assert.throws(() => realEsrganDegradeOptions.parse({ jpegRange: [90, 40] }), /lower bound/);
  assert.throws(() => realEsrganDegradeOptions.parse({ scale: 9 }));
  assert.throws(() => realEsrganDegradeOptions.parse({ blurKernelSize: 20 }), /odd/);
  assert.throws(() => realEsrganDegradeOptions.parse({ resizeProb: [0, 0, 0] }), /positive/);
  assert.throws(() => realEsrganDegradeOptions.parse({ noiseRange: [-1, 5] }));
});

test("output is floor(size / scale), on 8-bit steps, and the same seed gives the same bytes and trace", async () => {
  const photo = await loadPhoto("chelsea.png"); // 451x300
  const qualities: number[] = [];
  const a = await degradeRealEsrgan(photo, {}, createRng(11), sharpJpeg(qualities));
  const b = await degradeRealEsrgan(photo, {}, createRng(11), sharpJpeg());
  const c = await degradeRealEsrgan(photo, {}, createRng(12), sharpJpeg());
  assert.deepEqual([a.image.width, a.image.height], [112, 75]);
  assert.ok(a.image.data.every((v) => v >= 0 && v <= 1 && Math.abs(v * 255 - Math.round(v * 255)) < 1e-4));
  assert.deepEqual(a.image.data, b.image.data);
  assert.deepEqual(a.trace, b.trace);
  assert.notDeepEqual(a.image.data, c.image.data);

  assert.equal(qualities.length, 2);
  assert.ok(qualities.every((q) => Number.isInteger(q) && q >= 30 && q <= 95));
  assert.deepEqual(
    a.trace.filter((line) => line.includes("jpeg")),
    qualities.map((q, i) => `${i + 1} jpeg q${q}`),
  );
  assert.equal(a.trace[0], "usm sharpen");
  for (const stage of ["1 blur ", "1 resize ", "1 gaussian noise|1 poisson noise", "2 blur", "2 resize ", "2 resize back", "2 final"]) {
    assert.ok(a.trace.some((line) => new RegExp(`^(${stage})`).test(line)), `trace lacks "${stage}": ${a.trace.join("; ")}`);
  }
});

test("the LR resembles the clean bicubic LR, aligned, without a brightness shift", async () => {
  const photo = await loadPhoto("coffee.png", crop);
  const clean = bicubicDownscale(photo, 4);
  const mean = (image: RgbImage) => image.data.reduce((s, v) => s + v, 0) / image.data.length;
  const shifted = (image: RgbImage, dx: number) => {
    const out = createImage(image.width, image.height);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < image.height; y++) {
        for (let x = 0; x < image.width; x++) {
          const sx = Math.min(image.width - 1, x + dx);
          out.data[(c * image.height + y) * image.width + x] = image.data[(c * image.height + y) * image.width + sx];
        }
      }
    }
    return out;
  };
  for (let seed = 1; seed <= 3; seed++) {
    const { image } = await degradeRealEsrgan(photo, {}, createRng(seed), sharpJpeg());
    const psnr = psnrY(clean, image, 2);
    assert.ok(psnr > 15 && psnr < 40, `seed ${seed}: ${psnr.toFixed(1)} dB`);
    assert.ok(psnr > psnrY(shifted(clean, 2), image, 2), `seed ${seed}: the LR is misaligned`);
    assert.ok(Math.abs(mean(image) - mean(clean)) < 0.03, `seed ${seed}: mean ${mean(image)} vs ${mean(clean)}`);
  }
});

test("options are honoured: a gentle setting stays close to the clean LR, a harsh one does not", async () => {
  const photo = await loadPhoto("rocket.jpg", crop);
  const clean = bicubicDownscale(photo, 4);
  const gentle = await degradeRealEsrgan(
    photo,
    {
      usmSharpen: false,
      kernelProb: { iso: 1, aniso: 0, generalized_iso: 0, generalized_aniso: 0, plateau_iso: 0, plateau_aniso: 0 },
      sincProb: 0,
      blurSigma: [0.3, 0.3],
      resizeProb: [0, 0, 1],
      gaussianNoiseProb: 1,
      noiseRange: [0, 0],
      jpegRange: [95, 95],
      secondBlurProb: 0,
      resizeProb2: [0, 0, 1],
      gaussianNoiseProb2: 1,
      noiseRange2: [0, 0],
      jpegRange2: [95, 95],
      finalSincProb: 0,
    },
    createRng(5),
    sharpJpeg(),
  );
  const harsh = await degradeRealEsrgan(
    photo,
    {
      gaussianNoiseProb: 1,
      noiseRange: [30, 30],
      grayNoiseProb: 0,
      jpegRange: [30, 30],
      gaussianNoiseProb2: 1,
      noiseRange2: [25, 25],
      grayNoiseProb2: 0,
      jpegRange2: [30, 30],
    },
    createRng(5),
    sharpJpeg(),
  );
  assert.ok(gentle.trace.some((line) => /^1 gaussian noise (grey|colour) σ 0\.0$/.test(line)), gentle.trace.join("; "));
  assert.ok(gentle.trace.includes("2 blur skipped") && gentle.trace.includes("2 final sinc skipped"));
  assert.ok(harsh.trace.includes("1 gaussian noise colour σ 30.0") && harsh.trace.includes("2 gaussian noise colour σ 25.0"));
  const gentlePsnr = psnrY(clean, gentle.image, 2);
  const harshPsnr = psnrY(clean, harsh.image, 2);
  assert.ok(gentlePsnr > 35, `gentle ${gentlePsnr.toFixed(1)} dB`);
  assert.ok(harshPsnr < gentlePsnr - 8, `harsh ${harshPsnr.toFixed(1)} dB vs gentle ${gentlePsnr.toFixed(1)} dB`);
});

test("an abort stops the pipeline at the next stage boundary", async () => {
  const photo = await loadPhoto("grace_hopper.jpg", crop);
  const aborted = new AbortController();
  aborted.abort();
  await assert.rejects(degradeRealEsrgan(photo, {}, createRng(1), sharpJpeg(), aborted.signal), { name: "AbortError" });

  const midway = new AbortController();
  const qualities: number[] = [];
  const abortingJpeg: JpegRoundTrip = async (image, quality) => {
    midway.abort();
    return sharpJpeg(qualities)(image, quality);
  };
  await assert.rejects(degradeRealEsrgan(photo, {}, createRng(1), abortingJpeg, midway.signal), { name: "AbortError" });
  assert.equal(qualities.length, 1); // stopped after the first JPEG
  await assert.rejects(degradeRealEsrgan(createImage(3, 3), {}, createRng(1), sharpJpeg()), /too small for scale 4/);
});
