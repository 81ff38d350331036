// Fresh, empty databases for the tests: SQLite always (a temporary data folder), Postgres when
// TUDSR_TEST_POSTGRES_URL names a role that may create databases (`source .ci/postgres.sh` sets one up).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe } from "node:test";
import pg from "pg";
import { closeDb } from "../db/client";
import type { Provider } from "../db/location";

export interface TestDatabase {
  provider: Provider;
  /** Environment that selects this database (what a user would set). */
  env: Record<string, string | undefined>;
  /** Points this process at the database (getDb() reads the environment when it opens). */
  use(): void;
  drop(): Promise<void>;
}

const postgresUrl = process.env.TUDSR_TEST_POSTGRES_URL;

/** Test suites per provider; Postgres is skipped, with the reason, when no server is configured. */
export const providers: { provider: Provider; skip: string | false }[] = [
  { provider: "sqlite", skip: false },
  {
    provider: "postgresql",
    skip: postgresUrl ? false : "TUDSR_TEST_POSTGRES_URL is not set (source .ci/postgres.sh)",
  },
];

function applyEnv(env: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

async function freshSqlite(): Promise<TestDatabase> {
  const dir = await mkdtemp(path.join(tmpdir(), "tudsr db test "));
  // Through TUDSR_DATA_DIR, as a user would; the space in the folder name checks path handling.
  const env = { TUDSR_DATA_DIR: dir, DATABASE_URL: undefined };
  return {
    provider: "sqlite",
    env,
    use: () => applyEnv(env),
    drop: () => rm(dir, { recursive: true, force: true }),
  };
}

async function freshPostgres(): Promise<TestDatabase> {
  if (!postgresUrl) throw new Error("TUDSR_TEST_POSTGRES_URL is not set");
  const name = `tudsr_test_${Date.now()}_${randomBytes(4).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  const env = { DATABASE_URL: url.href };
  return {
    provider: "postgresql",
    env,
    use: () => applyEnv(env),
    drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

export function freshDatabase(provider: Provider): Promise<TestDatabase> {
  return provider === "sqlite" ? freshSqlite() : freshPostgres();
}

/**
 * One suite per configured database, each on a fresh one (selected before the suite's own `before` hooks run)
 * that is closed and dropped after the suite's own `after` hooks (e.g. stopping a worker) have run.
 */
export function describeOnEachDatabase(
  title: string,
  body: (suite: { provider: Provider; database: () => TestDatabase }) => void,
): void {
  for (const { provider, skip } of providers) {
    describe(`${title} on ${provider}`, { skip }, () => {
      let database: TestDatabase | undefined;
      before(async () => {
        database = await freshDatabase(provider);
        database.use();
      });
      body({ provider, database: () => database! });
      after(async () => {
        await closeDb();
        await database?.drop();
      });
    });
  }
}
