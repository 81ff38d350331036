// The one way into the database: `await getDb()` gives a Prisma client for the configured database (see
// ./location.ts) with migrations applied and built-in templates seeded, once per process.
import { PrismaClient as PostgresClient } from "../../prisma/generated/postgresql/client";
import { type Prisma, PrismaClient as SqliteClient } from "../../prisma/generated/sqlite/client";
import { adapterFor } from "./adapters";
import { databaseUrl, type Provider, providerOf } from "./location";
import { migrateDatabase } from "./migrate";
import { seedBuiltInTemplates } from "./seed";

/**
 * Both generated clients come from the same prisma/models.prisma, so they have the same API; the SQLite one
 * names the type. Provider-only query options stay in this file (see `containsText`).
 */
export type Db = SqliteClient;

interface OpenDb {
  db: Db;
  provider: Provider;
  /** Migrations this process applied when it opened the database. */
  applied: string[];
}

interface State {
  opening?: Promise<OpenDb>;
  provider?: Provider;
}

// On globalThis: Next's dev server re-evaluates modules after every edit, and each copy of this module
// would otherwise open (and leak) its own client.
const shared = globalThis as typeof globalThis & { __tudsrDb?: State };
const state: State = (shared.__tudsrDb ??= {});

async function open(url: string): Promise<OpenDb> {
  const kind = providerOf(url);
  const adapter = adapterFor(url);
  const db = kind === "sqlite" ? new SqliteClient({ adapter }) : (new PostgresClient({ adapter }) as unknown as Db);
  try {
    if (kind === "sqlite") {
      // Readers (the UI) and the writer (the run queue, the CLI) stop blocking each other; kept in the file.
      await db.$queryRawUnsafe("PRAGMA journal_mode = WAL");
    }
    const applied = await migrateDatabase(db, url);
    await seedBuiltInTemplates(db);
    return { db, provider: kind, applied };
  } catch (error) {
    await db.$disconnect();
    throw error;
  }
}

function opened(): Promise<OpenDb> {
  if (!state.opening) {
    const attempt = open(databaseUrl());
    state.opening = attempt;
    attempt.then(
      (ready) => (state.provider = ready.provider),
      // A failed open is retried by the next call instead of being remembered.
      () => {
        if (state.opening === attempt) state.opening = undefined;
      },
    );
  }
  return state.opening;
}

/** The ready client; the first call in a process migrates and seeds. */
export async function getDb(): Promise<Db> {
  return (await opened()).db;
}

/** Names of the migrations this process applied on opening (empty when the database was up to date). */
export async function appliedOnOpen(): Promise<string[]> {
  return (await opened()).applied;
}

/** Disconnects; the next getDb() opens the database again (re-reading DATABASE_URL / TUDSR_DATA_DIR). */
export async function closeDb(): Promise<void> {
  const current = state.opening;
  state.opening = undefined;
  state.provider = undefined;
  if (!current) return;
  const ready = await current.catch(() => undefined);
  await ready?.db.$disconnect();
}

/**
 * A case-insensitive "contains" filter. SQLite's LIKE already ignores ASCII case; Postgres needs the
 * `insensitive` mode, which the SQLite client's types do not have. Call after getDb().
 */
export function containsText(term: string): Prisma.StringFilter {
  if (!state.provider) throw new Error("containsText() needs an open database: await getDb() first");
  return state.provider === "postgresql"
    ? ({ contains: term, mode: "insensitive" } as Prisma.StringFilter)
    : { contains: term };
}
