// Migrate on start: before the app touches the database, the committed migrations of its provider are applied
// by the standard `prisma migrate deploy` (run as a child process, offline; see prisma/README.md). A start that
// finds nothing pending costs one query and starts no process.
import { createClient } from "@libsql/client";
import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { migrationNames } from "../../prisma/schemas";
import { REPO_ROOT } from "../platform/paths";
import { type Provider, providerOf, sqliteFile } from "./location";

export class MigrationError extends Error {}

/** The database operations the check needs; both generated clients have them. */
interface RawQueries {
  $queryRawUnsafe<T = unknown>(query: string): Promise<T>;
}

const PRISMA_CLI = path.join(REPO_ROOT, "node_modules", "prisma", "build", "index.js");

/** How long a process waits for another one that is migrating the same SQLite file. */
const SQLITE_LOCK_WAIT_MS = 120_000;

function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  // No update check or telemetry: the machine may be offline.
  return { ...process.env, CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1", ...env };
}

/** Runs the project's Prisma CLI from the repository root (so it reads prisma.config.ts). */
export function runPrismaCli(args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [PRISMA_CLI, ...args],
      { cwd: REPO_ROOT, env: cliEnv(env), maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new MigrationError(`prisma ${args.join(" ")} failed:\n${stdout}${stderr}`.trim()));
        else resolve(stdout);
      },
    );
  });
}

/** What `prisma migrate deploy` prints when it has finished successfully. */
const DEPLOY_DONE = /All migrations have been successfully applied\.|No pending migrations to apply\./;

/**
 * `prisma migrate deploy`. On Postgres its WebAssembly engine leaves a 10 s timer behind (the advisory lock's
 * timeout), so the CLI idles that long after finishing; once it has printed its success line it is stopped
 * instead of awaited. The caller checks the migrations table afterwards, so this never trusts the text alone.
 */
function deploy(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PRISMA_CLI, "migrate", "deploy"], {
      cwd: REPO_ROOT,
      env: cliEnv({ DATABASE_URL: url }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let done = false;
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (!done && DEPLOY_DONE.test(output)) {
        done = true;
        child.kill();
        resolve();
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (code) => {
      if (done) return;
      if (code === 0) resolve();
      else reject(new MigrationError(`prisma migrate deploy failed (exit ${code}):\n${output}`.trim()));
    });
  });
}

async function appliedMigrations(db: RawQueries, provider: Provider): Promise<Set<string>> {
  const tableQuery =
    provider === "sqlite"
      ? "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'"
      : "SELECT COUNT(*) AS n FROM information_schema.tables " +
        "WHERE table_schema = current_schema() AND table_name = '_prisma_migrations'";
  const [table] = await db.$queryRawUnsafe<{ n: number | bigint }[]>(tableQuery);
  if (Number(table?.n ?? 0) === 0) return new Set();
  const rows = await db.$queryRawUnsafe<{ migration_name: string }[]>(
    "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
  );
  return new Set(rows.map((row) => row.migration_name));
}

export async function pendingMigrations(db: RawQueries, url: string): Promise<string[]> {
  const provider = providerOf(url);
  const applied = await appliedMigrations(db, provider);
  return migrationNames(provider).filter((name) => !applied.has(name));
}

/**
 * Two processes starting on a fresh SQLite file would both apply the first migration; one would fail half-way
 * and leave it marked failed. A write transaction on a side file serializes them, and the OS drops that lock
 * if its process dies, so a crash leaves nothing stale. (On Postgres, `migrate deploy` takes an advisory lock.)
 */
async function lockSqliteMigrations(url: string): Promise<() => Promise<void>> {
  const lock = createClient({ url: `${url}.migrate-lock` });
  try {
    await lock.execute(`PRAGMA busy_timeout = ${SQLITE_LOCK_WAIT_MS}`);
    const transaction = await lock.transaction("write");
    return async () => {
      await transaction.rollback();
      lock.close();
    };
  } catch (error) {
    lock.close();
    throw new MigrationError(`could not lock ${sqliteFile(url)} for migrating: ${(error as Error).message}`);
  }
}

/** Applies pending migrations; returns their names (empty when the database was up to date). */
export async function migrateDatabase(db: RawQueries, url: string): Promise<string[]> {
  if ((await pendingMigrations(db, url)).length === 0) return [];
  const unlock = providerOf(url) === "sqlite" ? await lockSqliteMigrations(url) : undefined;
  try {
    // Another process may have applied them while this one waited for the lock.
    const pending = await pendingMigrations(db, url);
    if (pending.length === 0) return [];
    await deploy(url);
    const left = await pendingMigrations(db, url);
    if (left.length > 0) throw new MigrationError(`prisma migrate deploy left ${left.join(", ")} unapplied`);
    return pending;
  } finally {
    await unlock?.();
  }
}
