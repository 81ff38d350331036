import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const BIN = fileURLToPath(new URL("../../bin/tudsr.mjs", import.meta.url));
let dataDir: string;

before(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "tudsr-cli-keys-"));
});
after(() => rm(dataDir, { recursive: true, force: true }));

async function tudsr(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TUDSR_DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test("keys create prints the key alone on stdout; list shows its prefix, never the secret; revoke by prefix", async () => {
  const created = await tudsr("keys", "create", "nightly", "batch");
  assert.equal(created.code, 0, created.stderr);
  const key = created.stdout.trim();
  assert.match(key, /^tudsr_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
  assert.match(created.stderr, /not stored and is not shown again/);
  const prefix = key.slice(0, 14);

  const listed = await tudsr("keys", "list");
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`${prefix}\\s+nightly batch`));
  assert.ok(!listed.stdout.includes(key.slice(15)), "the secret part is never listed");

  const revoked = await tudsr("keys", "revoke", prefix);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, new RegExp(`^revoked ${prefix} \\(nightly batch\\) at \\d{4}-`));
  // The line now has two times: created and revoked.
  const line = (await tudsr("keys", "list")).stdout.split("\n").find((row) => row.startsWith(prefix))!;
  assert.equal(line.match(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/g)?.length, 2, line);
});

test("keys: usage mistakes exit 2, an unknown key exits 1, each with one line", async () => {
  const noName = await tudsr("keys", "create");
  assert.equal(noName.code, 2);
  assert.match(noName.stderr, /keys create needs a name/);
  const unknown = await tudsr("keys", "revoke", "tudsr_00000000");
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^tudsr: API key "tudsr_00000000" not found\n$/);
  assert.equal((await tudsr("keys", "frobnicate")).code, 2);
});

test("ui-link prints the sign-in link of the data folder, the same each time", async () => {
  const first = await tudsr("ui-link");
  assert.match(first.stdout, /^http:\/\/127\.0\.0\.1:3000\/api\/session\?token=[A-Za-z0-9_-]{43}\n$/);
  assert.equal((await tudsr("ui-link", "--origin", "http://localhost:4000")).stdout.split("token=")[1], first.stdout.split("token=")[1]);
});

test("run --server without a key is a usage error", async () => {
  const env = process.env.TUDSR_API_KEY;
  delete process.env.TUDSR_API_KEY;
  try {
    const result = await tudsr("run", "x4-chunked", "--input", "x.png", "--output", "y.png", "--server", "http://127.0.0.1:9");
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--server needs an API key/);
  } finally {
    if (env !== undefined) process.env.TUDSR_API_KEY = env;
  }
});
