// Where the e2e studio lives, shared by playwright.config.ts (which starts it) and e2e/fixtures.ts (whose CLI
// calls must use the same data folder). Everything is derived from the environment, never made at random: the
// config is loaded again in every Playwright worker process and must come to the same answers there.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A fixed port (E2E_PORT): set another one to run beside someone else's e2e run on this machine. */
export const E2E_PORT = Number(process.env.E2E_PORT || 3107);
export const BASE_URL = `http://127.0.0.1:${E2E_PORT}`;

/** The studio's data folder (database, uploads, outputs): emptied each time the harness starts the server. */
export const DATA_DIR = path.resolve(process.env.E2E_DATA_DIR || path.join(REPO_ROOT, "e2e", ".data", String(E2E_PORT)));

/** Next's build folder for the e2e server (E2E_DIST_DIR): its own, so a dev server's `.next` is left alone. */
export const DIST_DIR = process.env.E2E_DIST_DIR || ".next-e2e";

/** The environment of the e2e server and of the CLI calls that talk to its database. */
export const STUDIO_ENV: Record<string, string> = {
  TUDSR_DATA_DIR: DATA_DIR,
  // The SQLite file in DATA_DIR, whatever the shell has set.
  DATABASE_URL: "",
  TUDSR_NEXT_DIST_DIR: DIST_DIR,
  // A small node cache: UI tests run small images; the default (1 GB) is for real work.
  TUDSR_NODE_CACHE_MB: process.env.TUDSR_NODE_CACHE_MB || "128",
  NEXT_TELEMETRY_DISABLED: "1",
};
