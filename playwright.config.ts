// End-to-end tests of the studio UI (e2e/*.spec.ts, see e2e/README.md): the BUILT app (`next build`, then
// `next start` on 127.0.0.1) on a fresh data folder, driven in Debian's Chromium. One worker: the machine's
// two cores run the server, the run executor (CPU inference) and the browser.
import path from "node:path";
import { defineConfig } from "@playwright/test";
import { BASE_URL, DATA_DIR, E2E_PORT, REPO_ROOT, STUDIO_ENV } from "./e2e/env";

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
const NEXT = `node ${quote(path.join(REPO_ROOT, "node_modules", "next", "dist", "bin", "next"))}`;

// The data folder is emptied on every start: refuse folders that hold anything else.
if ([path.parse(DATA_DIR).root, REPO_ROOT, path.join(REPO_ROOT, "data"), process.env.HOME].includes(DATA_DIR)) {
  throw new Error(`E2E_DATA_DIR=${DATA_DIR} would be emptied by the e2e server; give it a folder of its own`);
}

// E2E_SKIP_BUILD=1 reuses the build in E2E_DIST_DIR (e.g. CI builds once for this and server/api/http.test.ts).
const build = process.env.E2E_SKIP_BUILD === "1" ? "" : `${NEXT} build && `;

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/e2e",
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // A test may run real CPU inference (minutes on two cores); waiting for one uses its own timeout (fixtures).
  timeout: 10 * 60_000,
  expect: { timeout: 30_000 },
  reporter: "list",
  use: {
    baseURL: BASE_URL,
    viewport: { width: 1280, height: 800 },
    actionTimeout: 30_000,
    navigationTimeout: 60_000,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      // --no-sandbox: CI runs as root. The rest keep Chromium from calling home (no network here): without them
      // it tries and logs refused connections.
      args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
    },
  },
  webServer: {
    command: `rm -rf ${quote(DATA_DIR)} && mkdir -p ${quote(DATA_DIR)} && ${build}exec ${NEXT} start -H 127.0.0.1 -p ${E2E_PORT}`,
    cwd: REPO_ROOT,
    env: STUDIO_ENV,
    // Any answer means it listens (401: the sign-in route without a token). Start-up (migrations, the run
    // executor) happens before next start serves requests.
    url: `${BASE_URL}/api/session`,
    // E2E_REUSE_SERVER=1: run against a studio already serving on E2E_PORT with TUDSR_DATA_DIR=DATA_DIR.
    reuseExistingServer: process.env.E2E_REUSE_SERVER === "1",
    // The build (about a minute on two busy cores) comes first.
    timeout: 10 * 60_000,
    stdout: "pipe",
    stderr: "pipe",
    // SIGTERM lets the studio stop its run executor (runs end `interrupted`) before it goes.
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
  },
});
