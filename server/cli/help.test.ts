// `tudsr <command> --help` for every command, and `tudsr templates [<id>]`: what a user reads before running.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { nodeRegistry } from "../../nodes/index";
import { builtInTemplates, findTemplate } from "../../nodes/templates/index";
import { COMMANDS } from "./help";

const BIN = fileURLToPath(new URL("../../bin/tudsr.mjs", import.meta.url));

async function tudsr(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test("tudsr --help lists every command; with no command it exits 2", async () => {
  const help = await tudsr("--help");
  assert.equal(help.code, 0);
  for (const name of Object.keys(COMMANDS)) assert.match(help.stdout, new RegExp(`^  ${name} +\\S`, "m"));
  assert.equal((await tudsr()).code, 2);
});

test("every command's --help has its usage, flags and examples, and `tudsr help <command>` says the same", async () => {
  for (const name of Object.keys(COMMANDS)) {
    const help = await tudsr(name, "--help");
    assert.equal(help.code, 0, `${name} --help: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`^tudsr ${name}: `));
    assert.match(help.stdout, new RegExp(`\\nusage:\\n  tudsr ${name}\\b`));
    assert.match(help.stdout, /\nexamples:\n  /);
    for (const [flag] of COMMANDS[name].flags) assert.ok(help.stdout.includes(`  ${flag}  `), `${name}: flag ${flag}`);
    assert.equal((await tudsr("help", name)).stdout, help.stdout);
  }
  const run = (await tudsr("run", "--help")).stdout;
  for (const flag of ["--input", "--output", "--set", "--json", "--server", "--key"]) assert.match(run, new RegExp(`^  ${flag} `, "m"));
});

test("the run examples name nodes and parameters their templates have", () => {
  for (const example of COMMANDS.run.examples) {
    const template = findTemplate(example.split(" ")[2]);
    for (const [, nodeId, param] of example.matchAll(/--set (\w+)\.(\w+)=/g)) {
      const node = template?.graph.nodes.find((candidate) => candidate.id === nodeId);
      assert.ok(node, `${example}: node ${nodeId}`);
      assert.ok(param in nodeRegistry.get(node.type)!.params.shape, `${example}: ${nodeId}.${param}`);
    }
  }
});

test("tudsr templates lists them; tudsr templates <id> shows inputs, outputs and each param's value, default and bounds", async () => {
  const list = await tudsr("templates");
  assert.equal(list.code, 0, list.stderr);
  for (const { id } of builtInTemplates) assert.match(list.stdout, new RegExp(`^${id} +\\S`, "m"));

  const x8 = await tudsr("templates", "x8-twice");
  assert.equal(x8.code, 0, x8.stderr);
  assert.match(x8.stdout, /^inputs: {2}input \(node load\)$/m);
  assert.match(x8.stdout, /^outputs: output \(node save, png\)$/m);
  assert.match(x8.stdout, /^ {4}tileSize +auto +\(the default; allowed: auto \| integer 16\.\.4096\) +Tile width/m);
  assert.match(x8.stdout, /^ {4}model +psnr-small-x2 +\(default esrgan-thick-x4; allowed: text 1-120 chars\)/m);
  assert.match(x8.stdout, /^ {4}precision +auto +\(the default; allowed: auto \| fp32 \| int8\)/m);

  const loop = await tudsr("templates", "x16-loop");
  assert.match(loop.stdout, /^ {2}chunk {2}chunk: Chunk \(inside loop\)$/m);
  assert.match(loop.stdout, /^ {4}times +2 +\(the default; allowed: integer 1\.\.8\)/m);

  const evalReal = JSON.parse((await tudsr("templates", "eval-real-x4", "--json")).stdout);
  assert.deepEqual(evalReal.inputs, [{ name: "input", node: "reference" }]);
  assert.deepEqual(evalReal.metrics.map((metric: { label: string }) => metric.label).sort(), ["bicubic", "esrgan-thick-x4", "realesrgan-x4plus"]);
  const degrade = evalReal.nodes.find((node: { type: string }) => node.type === "degrade");
  assert.deepEqual(degrade.params.map((param: { name: string }) => param.name), Object.keys(nodeRegistry.get("degrade")!.params.shape));
  const seed = degrade.params.find((param: { name: string }) => param.name === "seed");
  assert.deepEqual([seed.default, seed.allowed], [0, "integer 0..4294967295"]);
  assert.equal(degrade.params.find((param: { name: string }) => param.name === "blurSigma").allowed, "[2 × number 0.05..20]");

  const unknown = await tudsr("templates", "x5-magic");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^tudsr: unknown template "x5-magic" \(templates: x4-chunked, .*\)\n$/);
});
