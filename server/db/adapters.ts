// The driver adapters behind Prisma, for the app (server/db/client.ts) and the Prisma CLI (prisma.config.ts).
// Each works around one gap of the 6.19 adapters; see prisma/README.md.
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Client, Config, InStatement, TransactionMode } from "@libsql/client";
import { PrismaLibSQL } from "@prisma/adapter-libsql";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { providerOf, sqliteFile } from "./location";

/** How long a SQLite write waits for another process's write (e.g. the CLI while the server runs). */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/**
 * libsql sets no busy timeout, so a write that meets another process's lock fails at once with SQLITE_BUSY;
 * and it opens a fresh connection for every transaction. So the pragma goes on each connection before use:
 * before a transaction starts (that connection becomes the transaction's) and on the next one after it.
 * libsql is synchronous underneath: while it waits, this process's event loop waits too (keep writes short).
 */
class BusyTimeoutClient implements Client {
  #inner: Client;
  #connectionReady = false;

  constructor(inner: Client) {
    this.#inner = inner;
  }

  get closed(): boolean {
    return this.#inner.closed;
  }

  get protocol(): string {
    return this.#inner.protocol;
  }

  async #prepare(): Promise<void> {
    if (this.#connectionReady) return;
    await this.#inner.execute(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    this.#connectionReady = true;
  }

  async execute(statement: InStatement) {
    await this.#prepare();
    return this.#inner.execute(statement);
  }

  async batch(statements: InStatement[], mode?: TransactionMode) {
    await this.#prepare();
    return this.#inner.batch(statements, mode);
  }

  async transaction(mode?: TransactionMode) {
    await this.#prepare();
    const transaction = await this.#inner.transaction(mode);
    this.#connectionReady = false;
    return transaction;
  }

  async executeMultiple(sql: string) {
    await this.#prepare();
    return this.#inner.executeMultiple(sql);
  }

  sync() {
    return this.#inner.sync();
  }

  close() {
    this.#inner.close();
  }
}

class PrismaLibSQLWithBusyTimeout extends PrismaLibSQL {
  override createClient(config: Config): Client {
    return new BusyTimeoutClient(super.createClient(config));
  }
}

/** pg catalog types `"char"` (18) and `name` (19); text for every purpose here. */
const CATALOG_TEXT_TYPES = new Set([18, 19]);
const TEXT_TYPE = 25;

function catalogTypesAsText<T>(result: T): T {
  // A query of several statements answers with one result each.
  const results = (Array.isArray(result) ? result : [result]) as ({ fields?: { dataTypeID: number }[] } | undefined)[];
  for (const entry of results) {
    for (const field of entry?.fields ?? []) {
      if (CATALOG_TEXT_TYPES.has(field.dataTypeID)) field.dataTypeID = TEXT_TYPE;
    }
  }
  return result;
}

/**
 * Prisma's pg adapter refuses result columns of the catalog types `name` and `"char"`, which `migrate deploy`
 * reads while introspecting; this client reports them as text (their values already arrive as strings).
 */
class CatalogTextClient extends pg.Client {
  // pg's query() has many overloads (promise and callback); only the result's column types are rewritten.
  override query(...args: any[]): any {
    const callback = args.at(-1);
    if (typeof callback === "function") {
      args[args.length - 1] = (error: Error | null, result: unknown) =>
        callback(error, error ? result : catalogTypesAsText(result));
      return super.query(...(args as Parameters<pg.Client["query"]>));
    }
    const pending: unknown = super.query(...(args as Parameters<pg.Client["query"]>));
    return pending instanceof Promise ? pending.then(catalogTypesAsText) : pending;
  }
}

/** The driver adapter factory for a database URL (see ./location.ts). */
export function adapterFor(url: string): PrismaLibSQL | PrismaPg {
  if (providerOf(url) === "sqlite") {
    // SQLite creates the file on first use, but not its folder.
    mkdirSync(path.dirname(sqliteFile(url)), { recursive: true });
    return new PrismaLibSQLWithBusyTimeout({ url });
  }
  // allowExitOnIdle: idle pooled connections do not keep a finished process (the Prisma CLI, a script) alive.
  const pool = new pg.Pool({ connectionString: url, Client: CatalogTextClient, allowExitOnIdle: true });
  return new PrismaPg(pool, { disposeExternalPool: true });
}
