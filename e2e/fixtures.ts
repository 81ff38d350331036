// The e2e test fixtures: `import { test, expect } from "./fixtures"` in every spec.
//  - `page` is signed in: it has opened the studio's sign-in link (`tudsr ui-link`) before the test starts.
//  - Console errors fail the test: any console message of type "error" and any uncaught page error, in any page
//    of the test's context, is listed at the end of the test and fails it. A test that provokes one on purpose
//    (an error answer the browser logs as "Failed to load resource") allows it with `consoleErrors.allow(...)`.
//  - `studio`: helpers for UI specs (upload a photo, crop one into a file, start a run and wait for its status),
//    through the HTTP API with an API key of this studio.
import { type APIRequestContext, type BrowserContext, expect, request as playwrightRequest, test as base } from "@playwright/test";
import { execFile } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import type { ArtifactInfo } from "../server/db/artifacts";
import type { RunStatus } from "../server/db/run-statuses";
import type { RunDetail } from "../server/db/runs";
import { BASE_URL, REPO_ROOT, STUDIO_ENV } from "./env";

export { expect };

const run = promisify(execFile);

/** Runs the studio's CLI (bin/tudsr.mjs) on the e2e server's data folder; its stdout, trimmed. */
export async function tudsr(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, "bin", "tudsr.mjs"), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...STUDIO_ENV },
    });
    return stdout.trim();
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`tudsr ${args.join(" ")} failed: ${stderr?.trim() || (error as Error).message}`);
  }
}

export const PHOTOS_DIR = path.join(REPO_ROOT, "fixtures", "photos");

/** A photo of fixtures/photos by name (e.g. "chelsea.png"), or a path as given. */
export function photoFile(nameOrPath: string): string {
  return path.isAbsolute(nameOrPath) || nameOrPath.includes(path.sep) ? path.resolve(nameOrPath) : path.join(PHOTOS_DIR, nameOrPath);
}

/** Collects console errors and uncaught page errors of every page in a browser context. */
export class ConsoleErrors {
  readonly messages: string[] = [];
  private readonly allowed: { pattern: RegExp; why: string }[] = [];

  constructor(context: BrowserContext) {
    context.on("console", (message) => {
      if (message.type() !== "error") return;
      const { url, lineNumber } = message.location();
      this.messages.push(`console.error ${message.text()}${url ? ` (${url}:${lineNumber})` : ""} on ${message.page()?.url() ?? "?"}`);
    });
    context.on("weberror", (webError) => {
      const error = webError.error();
      this.messages.push(`uncaught ${error.stack ?? error.message} on ${webError.page()?.url() ?? "?"}`);
    });
  }

  /** Lets messages matching `pattern` pass in this test; say why, e.g. "the 400 this test provokes". */
  allow(pattern: RegExp, why: string): void {
    if (!why.trim()) throw new Error("consoleErrors.allow needs a reason");
    this.allowed.push({ pattern, why });
  }

  /** The messages not allowed. */
  unexpected(): string[] {
    return this.messages.filter((message) => !this.allowed.some(({ pattern }) => pattern.test(message)));
  }
}

export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface StudioHelpers {
  /** The API at BASE_URL with this studio's key (the same answers a script gets). */
  api: APIRequestContext;
  /** Uploads a photo (a name in fixtures/photos or a file path) as a run input; the artifact. */
  uploadPhoto(nameOrPath: string): Promise<ArtifactInfo>;
  /** Writes a crop of a photo as a PNG into this test's output folder (for file inputs); its path. */
  cropPhoto(name: string, box: CropBox): Promise<string>;
  /** Starts a run (the body of POST /api/v1/runs); the queued run. */
  startRun(body: Record<string, unknown>): Promise<RunDetail>;
  /**
   * Polls the run until its status is `status` (or one of them), then returns it. Fails at once when the run
   * ends with another status (with its error), and after `timeoutMs` (default 5 minutes: CPU inference).
   */
  waitForRun(runId: string, status: RunStatus | RunStatus[], options?: { timeoutMs?: number }): Promise<RunDetail>;
}

const FINAL: RunStatus[] = ["succeeded", "failed", "canceled", "interrupted"];

async function answer<T>(response: Awaited<ReturnType<APIRequestContext["get"]>>, what: string): Promise<T> {
  if (!response.ok()) throw new Error(`${what}: HTTP ${response.status()} ${await response.text()}`);
  return (await response.json()) as T;
}

interface WorkerFixtures {
  signInLink: string;
  apiKey: string;
}

interface TestFixtures {
  consoleErrors: ConsoleErrors;
  studio: StudioHelpers;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  // Once per worker: the link and the key stay valid for the whole run of the server.
  signInLink: [async ({}, use) => use((await tudsr("ui-link", "--origin", BASE_URL)).split("\n").pop()!), { scope: "worker" }],
  apiKey: [async ({}, use) => use((await tudsr("keys", "create", "e2e tests")).split("\n").pop()!), { scope: "worker" }],

  // Auto: every test's context is watched, whether or not the test names the fixture.
  consoleErrors: [
    async ({ context }, use) => {
      const errors = new ConsoleErrors(context);
      await use(errors);
      const unexpected = errors.unexpected();
      if (unexpected.length > 0) {
        throw new Error(`${unexpected.length} console error(s) in the browser during this test:\n  ${unexpected.join("\n  ")}`);
      }
    },
    { auto: true },
  ],

  page: async ({ page, signInLink, consoleErrors }, use) => {
    void consoleErrors; // watching before the first page load
    // The link sets the session cookie and redirects to the home page.
    const response = await page.goto(signInLink);
    expect(response?.ok(), `sign-in link answered ${response?.status()}`).toBeTruthy();
    await expect(page.getByRole("heading", { name: "Sign in to this studio" })).toHaveCount(0);
    await use(page);
  },

  studio: async ({ apiKey }, use, testInfo) => {
    const api = await playwrightRequest.newContext({ baseURL: BASE_URL, extraHTTPHeaders: { authorization: `Bearer ${apiKey}` } });
    const helpers: StudioHelpers = {
      api,
      async uploadPhoto(nameOrPath) {
        const file = photoFile(nameOrPath);
        const response = await api.post(`/api/v1/artifacts?name=${encodeURIComponent(path.basename(file))}`, {
          data: await readFile(file),
          headers: { "content-type": "application/octet-stream" },
        });
        return answer<ArtifactInfo>(response, `upload of ${file}`);
      },
      async cropPhoto(name, box) {
        const out = testInfo.outputPath(`${path.parse(name).name}-${box.left}-${box.top}-${box.width}x${box.height}.png`);
        await mkdir(path.dirname(out), { recursive: true });
        await sharp(photoFile(name)).extract(box).png().toFile(out);
        return out;
      },
      async startRun(body) {
        return answer<RunDetail>(await api.post("/api/v1/runs", { data: body }), "POST /api/v1/runs");
      },
      async waitForRun(runId, status, options = {}) {
        const wanted = Array.isArray(status) ? status : [status];
        const timeoutMs = options.timeoutMs ?? 5 * 60_000;
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const current = await answer<RunDetail>(await api.get(`/api/v1/runs/${runId}`), `GET /api/v1/runs/${runId}`);
          if (wanted.includes(current.status)) return current;
          if (FINAL.includes(current.status)) {
            throw new Error(`run ${runId} ended ${current.status}${current.error ? ` (${current.error})` : ""}, not ${wanted.join(" or ")}`);
          }
          if (Date.now() > deadline) throw new Error(`run ${runId} is still ${current.status} after ${timeoutMs} ms (waiting for ${wanted.join(" or ")})`);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      },
    };
    await use(helpers);
    await api.dispose();
  },
});
