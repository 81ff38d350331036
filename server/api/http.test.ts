// The HTTP API as a user meets it: `next build`, `next start` on 127.0.0.1, then the README's curl session run
// by bash, word for word, plus the error answers of the plain-HTTP API and the tRPC route.
// Set TUDSR_TEST_SKIP_BUILD=1 to reuse an existing .next build.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { slowUpload } from "../../fixtures/slow-body";
import { REPO_ROOT } from "../platform/paths";

interface ErrorBody {
  error: { message: string; problems?: { nodeId?: string; message: string }[] };
}

const NEXT_BIN = path.join(REPO_ROOT, "node_modules", "next", "dist", "bin", "next");

function missingTool(): string | false {
  for (const tool of ["curl", "jq", "file"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      return `${tool} is not installed (the README's session uses curl, jq and file)`;
    }
  }
  return false;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The README's session block. */
async function readmeSession(): Promise<string> {
  const readme = await readFile(path.join(REPO_ROOT, "README.md"), "utf8");
  const match = /<!-- http-api-session -->\s*```sh\n([\s\S]*?)```\s*<!-- \/http-api-session -->/.exec(readme);
  assert.ok(match, "README.md has no http-api-session block");
  return match[1];
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe("HTTP API against next start", () => {
  let dataDir: string;
  let workDir: string;
  let server: ChildProcess | undefined;
  let base: string;
  let serverLog = "";
  let env: NodeJS.ProcessEnv;

  before(async () => {
    // Not a skip: `npm test`'s pretest installs them (scripts/test-system-packages.sh).
    const missing = missingTool();
    assert.ok(!missing, `${missing}: run the tests with \`npm test\`, whose pretest installs them`);
    dataDir = await mkdtemp(path.join(os.tmpdir(), "tudsr-http-data-"));
    workDir = await mkdtemp(path.join(os.tmpdir(), "tudsr-http-work-"));
    env = { ...process.env, TUDSR_DATA_DIR: dataDir, NEXT_TELEMETRY_DISABLED: "1", DATABASE_URL: "" };
    delete env.DATABASE_URL;
    if (process.env.TUDSR_TEST_SKIP_BUILD !== "1") {
      const build = await run(process.execPath, [NEXT_BIN, "build"], { cwd: REPO_ROOT, env });
      assert.equal(build.code, 0, `next build failed:\n${build.stdout}\n${build.stderr}`);
    }
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [NEXT_BIN, "start", "-H", "127.0.0.1", "-p", String(port)], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    server.stdout!.on("data", (chunk) => (serverLog += chunk));
    server.stderr!.on("data", (chunk) => (serverLog += chunk));
    // Ready once start-up (database, run worker) has printed the sign-in link.
    const deadline = Date.now() + 60_000;
    while (!serverLog.includes("sign in to the browser UI")) {
      assert.ok(server.exitCode === null, `next start exited:\n${serverLog}`);
      assert.ok(Date.now() < deadline, `next start did not get ready:\n${serverLog}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // The session runs from a folder of its own, with what a checkout offers it: `npx tudsr` and the photos.
    await mkdir(path.join(workDir, "node_modules", ".bin"), { recursive: true });
    await symlink(path.join(REPO_ROOT, "bin", "tudsr.mjs"), path.join(workDir, "node_modules", ".bin", "tudsr"));
    await symlink(path.join(REPO_ROOT, "fixtures"), path.join(workDir, "fixtures"));
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  });

  it("runs the README's curl session: key, upload, x4-chunked, poll, 4x PNG; 401 without a valid key", async () => {
    const script = (await readmeSession()).replace(/^S=http:\/\/127\.0\.0\.1:3000$/m, `S=${base}`);
    assert.ok(script.includes(`S=${base}`), "the session sets S=http://127.0.0.1:3000");
    const result = await run("bash", ["-euo", "pipefail", "-c", script], { cwd: workDir, env });
    assert.equal(result.code, 0, `the session failed:\n${result.stdout}\n${result.stderr}\n--- server:\n${serverLog}`);
    const lines = result.stdout.trim().split("\n");
    assert.deepEqual(lines[0], "run succeeded", result.stdout);
    assert.match(lines[1], /^chelsea-x4\.png: PNG image data, 1804 x 1200/);
    assert.equal(lines[2], "no key: 401");
    assert.equal(lines[3], "wrong key: 401");
    assert.match(lines[4], /^revoked tudsr_[0-9a-f]{8} \(my script\)/);
    assert.equal(lines[5], "revoked key: 401");
    const meta = await sharp(path.join(workDir, "chelsea-x4.png")).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["png", 1804, 1200]);
  });

  it("answers bad requests with 400/404/413 and a clear message, and serves the OpenAPI document", async () => {
    const key = execFileSync(process.execPath, [path.join(REPO_ROOT, "bin", "tudsr.mjs"), "keys", "create", "http test"], { env, encoding: "utf8" }).trim();
    const auth = { authorization: `Bearer ${key}` };
    const call = async (route: string, init: RequestInit = {}) => {
      const response = await fetch(`${base}${route}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });
      const text = await response.text();
      return { status: response.status, body: (text.startsWith("{") ? JSON.parse(text) : { error: { message: text } }) as ErrorBody };
    };
    const post = (route: string, body: string) => call(route, { method: "POST", body, headers: { "content-type": "application/json" } });

    const malformed = await post("/api/v1/runs", '{"template":');
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.error.message, /malformed JSON/);

    const graph = { version: 1, nodes: [{ id: "up", type: "generate", params: { batchSize: 0 } }, { id: "x", type: "nope" }], edges: [] };
    const invalid = await post("/api/v1/pipelines", JSON.stringify({ name: "bad", graph }));
    assert.equal(invalid.status, 400);
    const problems = invalid.body.error.problems ?? [];
    assert.ok(problems.some((problem) => problem.nodeId === "up" && /batchSize/.test(problem.message)), JSON.stringify(problems));
    assert.ok(problems.some((problem) => problem.nodeId === "x" && /unknown node type/.test(problem.message)), JSON.stringify(problems));

    for (const route of ["/api/v1/runs/nope", "/api/v1/artifacts/nope", "/api/v1/pipelines/nope", "/api/v1/templates/nope"]) {
      assert.equal((await call(route)).status, 404, route);
    }
    assert.equal((await call("/api/v1/runs/nope/cancel", { method: "POST" })).status, 404);
    assert.equal((await call("/api/v1/runs/nope/events")).status, 404);

    const huge = await post("/api/v1/runs", JSON.stringify({ template: "x4-chunked", pad: "x".repeat(5 * 1024 * 1024) }));
    assert.equal(huge.status, 413);
    assert.match(huge.body.error.message, /over the limit of 4 MiB/);

    const notImage = await call("/api/v1/artifacts?name=notes.png", { method: "POST", body: "hello", headers: { "content-type": "application/octet-stream" } });
    assert.equal(notImage.status, 400);
    assert.match(notImage.body.error.message, /not an image/);

    const trpc = await fetch(`${base}/api/trpc/pipelines.list`);
    assert.equal(trpc.status, 401);
    // The tRPC route (the UI's) has the same limits and the same graph problems, in tRPC's error shape.
    const trpcHuge = await fetch(`${base}/api/trpc/pipelines.create`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ json: { name: "x", graph: { pad: "x".repeat(5 * 1024 * 1024) } } }),
    });
    assert.equal(trpcHuge.status, 413);
    const trpcInvalid = await fetch(`${base}/api/trpc/pipelines.create`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ json: { name: "bad", graph } }),
    });
    assert.equal(trpcInvalid.status, 400);
    const trpcError = (await trpcInvalid.json()) as { error: { json: { data: { code: string; problems: { nodeId?: string }[] } } } };
    assert.equal(trpcError.error.json.data.code, "BAD_REQUEST");
    assert.ok(trpcError.error.json.data.problems.some((problem) => problem.nodeId === "x"));

    const openapi = (await (await fetch(`${base}/api/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(openapi.openapi, "3.1.0");
    for (const route of ["/api/v1/artifacts", "/api/v1/runs", "/api/v1/runs/{id}", "/api/v1/runs/{id}/events", "/api/v1/artifacts/{id}", "/api/v1/templates"]) {
      assert.ok(route in openapi.paths, route);
    }
  });

  it("takes 20 API runs at once and finishes every one exactly once", async () => {
    const key = execFileSync(process.execPath, [path.join(REPO_ROOT, "bin", "tudsr.mjs"), "keys", "create", "burst"], { env, encoding: "utf8" }).trim();
    const headers = { authorization: `Bearer ${key}` };
    const photo = await sharp(path.join(REPO_ROOT, "fixtures", "photos", "rocket.jpg")).extract({ left: 300, top: 120, width: 24, height: 24 }).png().toBuffer();
    const upload = (await (await fetch(`${base}/api/v1/artifacts?name=tiny.png`, { method: "POST", body: photo, headers })).json()) as { id: string };
    const body = JSON.stringify({ template: "x4-chunked", inputs: { input: upload.id }, overrides: [{ nodeId: "generate", param: "model", value: "esrgan-slim-x4" }] });
    const started = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await fetch(`${base}/api/v1/runs`, { method: "POST", body, headers: { ...headers, "content-type": "application/json" } });
        assert.equal(response.status, 201, await response.clone().text());
        return ((await response.json()) as { id: string }).id;
      }),
    );
    assert.equal(new Set(started).size, 20);
    const deadline = Date.now() + 180_000;
    let runs: { status: string; outputs: { width: number }[]; nodes: { id: string; runs: number }[] }[] = [];
    do {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      runs = await Promise.all(started.map(async (id) => (await (await fetch(`${base}/api/v1/runs/${id}`, { headers })).json()) as (typeof runs)[number]));
    } while (runs.some((r) => r.status === "queued" || r.status === "running") && Date.now() < deadline);
    assert.deepEqual(runs.map((r) => r.status), Array(20).fill("succeeded"));
    for (const run of runs) {
      assert.deepEqual(run.outputs.map((o) => o.width), [96]);
      assert.equal(run.nodes.find((node) => node.id === "generate")!.runs, 1, "each run executed once");
    }
  });

  it("runs remotely from the CLI: upload, start, follow, download (--server --key)", async () => {
    const key = execFileSync(process.execPath, [path.join(REPO_ROOT, "bin", "tudsr.mjs"), "keys", "create", "cli remote"], { env, encoding: "utf8" }).trim();
    const output = path.join(workDir, "remote-x4.jpg");
    const args = ["run", "x4-chunked", "--input", path.join(REPO_ROOT, "fixtures", "photos", "coffee.png"), "--output", output];
    const result = await run(process.execPath, [path.join(REPO_ROOT, "bin", "tudsr.mjs"), ...args, "--set", "generate.model=esrgan-slim-x4", "--server", base, "--key", key, "--json"], { cwd: workDir, env });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { run: string; outputs: { name: string; width: number; height: number }[]; nodes: { id: string }[] };
    assert.deepEqual(summary.outputs.map((o) => [o.name, o.width, o.height]), [["output", 2400, 1600]]);
    assert.deepEqual(summary.nodes.map((node) => node.id), ["load", "chunk", "generate", "stitch", "save"]);
    const meta = await sharp(output).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["jpeg", 2400, 1600]);
    const refused = await run(process.execPath, [path.join(REPO_ROOT, "bin", "tudsr.mjs"), ...args, "--server", base, "--key", "tudsr_00000000_wrong"], { cwd: workDir, env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /401 invalid or revoked API key/);
  });

  it("signs the browser in with the printed link: cookie for same-origin calls, refused cross-site", async () => {
    const link = /sign in to the browser UI with (\S+)/.exec(serverLog)![1];
    const wrong = await fetch(`${base}/api/session?token=wrong`, { redirect: "manual" });
    assert.equal(wrong.status, 401);
    const signIn = await fetch(link.replace(/^http:\/\/[^/]+/, base), { redirect: "manual" });
    assert.equal(signIn.status, 303);
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0];
    assert.match(signIn.headers.get("set-cookie")!, /HttpOnly; SameSite=Strict/);
    const same = await fetch(`${base}/api/v1/templates`, { headers: { cookie, "sec-fetch-site": "same-origin" } });
    assert.equal(same.status, 200);
    const cross = await fetch(`${base}/api/v1/templates`, { headers: { cookie, "sec-fetch-site": "cross-site", origin: "https://evil.example" } });
    assert.equal(cross.status, 401);
    const forged = await fetch(`${base}/api/v1/templates`, { headers: { cookie: "tudsr_session=forged" } });
    assert.equal(forged.status, 401);
  });

  it("answers a slow, large upload with bad credentials 401 before reading its body, on every route, and keeps its memory", async () => {
    const port = Number(new URL(base).port);
    // What any web page may send without a preflight (multipart, a foreign Origin), or a script with a wrong key.
    const callers: [string, Record<string, string>][] = [
      ["no credentials, foreign Origin", { Origin: "https://evil.example" }],
      ["a wrong key", { Authorization: "Bearer tudsr_0badc0de_nope" }],
      ["a forged session cookie", { Cookie: "tudsr_session=forged", "Sec-Fetch-Site": "same-origin" }],
    ];
    for (const route of ["/api/trpc/models.upload", "/api/trpc/artifacts.upload", "/api/trpc/pipelines.create", "/api/v1/models", "/api/v1/artifacts"]) {
      for (const [who, headers] of callers) {
        // 400 MB announced by nothing (chunked), 64 KiB every 100 ms: the answer must come long before the end.
        const result = await slowUpload({ port, path: route, serverPid: server!.pid!, headers, totalBytes: 400 * 2 ** 20 });
        const growth = result.rssPeakMb - result.rssBeforeMb;
        console.log(
          `${route}, ${who}: ${result.status} after ${(result.sentBeforeAnswer / 1024).toFixed(0)} KiB sent; ` +
            `${(result.sent / 2 ** 20).toFixed(0)} MiB sent in all; server RSS ${result.rssBeforeMb.toFixed(0)} -> ${result.rssPeakMb.toFixed(0)} MB`,
        );
        assert.equal(result.status, 401, `${route}, ${who}: expected 401`);
        assert.ok(result.sentBeforeAnswer <= 16 * 2 ** 20, `${route}, ${who}: answered only after ${result.sentBeforeAnswer} body bytes`);
        assert.ok(growth < 64, `${route}, ${who}: the server grew by ${growth.toFixed(0)} MB`);
      }
    }
  });
});
