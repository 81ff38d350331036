import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import sharp from "sharp";
import { photoPath } from "../../fixtures/photos";

const BIN = fileURLToPath(new URL("../../bin/tudsr.mjs", import.meta.url));
let dir: string;
let small: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tudsr-cli-"));
  small = path.join(dir, "small.png");
  await sharp(photoPath("astronaut.png")).extract({ left: 200, top: 60, width: 64, height: 64 }).png().toFile(small);
});
after(() => rm(dir, { recursive: true, force: true }));

async function tudsr(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test("run x4-chunked writes a 4x PNG and --json reports outputs, nodes and timings", async () => {
  const output = path.join(dir, "out.png");
  const { code, stdout, stderr } = await tudsr("run", "x4-chunked", "--input", small, "--output", output, "--json");
  assert.equal(code, 0, stderr);
  const summary = JSON.parse(stdout);
  assert.deepEqual(Object.keys(summary), ["outputs", "metrics", "nodes", "totalMs"]);
  assert.deepEqual(summary.nodes.map((n: { id: string }) => n.id), ["load", "chunk", "generate", "stitch", "save"]);
  assert.ok(summary.nodes.every((n: { ms: number }) => n.ms >= 0) && summary.totalMs > 0);
  const meta = await sharp(output).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ["png", 256, 256, 3]);
});

test("--set overrides a param and the output format follows the extension", async () => {
  const output = path.join(dir, "out.jpg");
  const { code, stdout, stderr } = await tudsr("run", "x4-chunked", "--input", small, "--output", output, "--set", "generate.model=esrgan-slim-x4", "--set", "stitch.blend=linear");
  assert.equal(code, 0, stderr);
  assert.match(stdout, /generate\s+generate\s+\d+ ms/);
  assert.equal((await sharp(output).metadata()).format, "jpeg");
});

test("eval-x4 prints its metrics", async () => {
  const { code, stdout, stderr } = await tudsr("run", "eval-x4", "--input", small, "--json");
  assert.equal(code, 0, stderr);
  const labels = JSON.parse(stdout).metrics.map((m: { label: string }) => m.label).sort();
  assert.deepEqual(labels, ["bicubic", "esrgan-thick-x4"]);
});

test("templates and models are listed", async () => {
  const templates = await tudsr("templates");
  for (const id of ["x4-chunked", "x8-twice", "x8-direct", "x16-loop", "eval-x4", "eval-x8"]) assert.match(templates.stdout, new RegExp(`^${id} `, "m"));
  const models = await tudsr("models");
  assert.match(models.stdout, /^esrgan-thick-x4\s+x4\s+0\.\.1\s/m);
  assert.match(models.stdout, /^esrgan-slim-x4\s+x4\s+0\.\.255\s/m);
});

test("every bad input exits non-zero with one line naming the problem and writes nothing", async () => {
  const corrupt = path.join(dir, "corrupt.png");
  await writeFile(corrupt, Buffer.from("\x89PNG\r\n\x1a\n garbage"));
  const invalid = path.join(dir, "invalid.json");
  await writeFile(invalid, JSON.stringify({ version: 1, nodes: [{ id: "a", type: "chunk", params: {} }], edges: [] }));
  const output = path.join(dir, "never.png");
  const cases: [string[], RegExp][] = [
    [["run", "x4-chunked", "--input", path.join(dir, "missing.png"), "--output", output], /input file not found: .*missing\.png/],
    [["run", "x4-chunked", "--input", corrupt, "--output", output], /node "load" \(load-image\): .*corrupt\.png: (not a readable image|corrupt or truncated)/],
    [["run", "x5-magic", "--input", small, "--output", output], /unknown template "x5-magic" \(templates: x4-chunked, /],
    [["run", invalid, "--input", small, "--output", output], /invalid graph: node "a": input "image" \(image\) is not connected/],
    [["run", "x4-chunked", "--input", small, "--output", output, "--set", "nope.tileSize=64"], /no node "nope" in this pipeline \(nodes: load, chunk, generate, stitch, save\)/],
    [["run", "x4-chunked", "--input", small, "--output", output, "--set", "chunk.tileSize=100000"], /node "chunk": param tileSize: .*4096/],
    [["run", "x4-chunked", "--input", small, "--output", path.join(dir, "out.gif")], /use \.png, \.jpg or \.webp/],
  ];
  for (const [args, pattern] of cases) {
    const { code, stdout, stderr } = await tudsr(...args);
    assert.notEqual(code, 0, args.join(" "));
    const lines = stderr.split("\n").filter((line) => line && !line.startsWith("  "));
    assert.equal(lines.length, 1, `one error line for ${args.join(" ")}:\n${stderr}`);
    assert.match(lines[0], pattern);
    assert.equal(stdout, "");
  }
  assert.equal(existsSync(output), false);
});
