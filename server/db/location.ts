// Which database to open: Postgres when DATABASE_URL says so, else the embedded SQLite file in the data folder.
// Shared by server/db/client.ts and prisma.config.ts, so the app and the Prisma CLI always agree.
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dataDir, REPO_ROOT } from "../platform/paths";

export type Provider = "sqlite" | "postgresql";

export const SQLITE_FILE_NAME = "tudsr.db";

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) return pathToFileURL(path.join(dataDir(), SQLITE_FILE_NAME)).href;
  // Absolute, so the Prisma CLI (run from the repository root) opens the same file as this process.
  return providerOf(url) === "sqlite" ? pathToFileURL(sqliteFile(url)).href : url;
}

export function providerOf(url: string): Provider {
  if (/^postgres(ql)?:\/\//i.test(url)) return "postgresql";
  if (/^file:/i.test(url)) return "sqlite";
  throw new Error(
    `DATABASE_URL must start with postgresql:// (Postgres) or file: (SQLite), got "${url.split(":")[0]}:..."`,
  );
}

/** The SQLite file a `file:` URL points at. */
export function sqliteFile(url: string): string {
  return url.startsWith("file://") ? fileURLToPath(url) : path.resolve(decodeURIComponent(url.slice("file:".length)));
}

/** Where each provider keeps its generated schema and its migrations. */
export function prismaDir(provider: Provider): string {
  return path.join(REPO_ROOT, "prisma", provider);
}
