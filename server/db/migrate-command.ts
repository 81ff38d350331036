// `npm run db:migrate`: brings the configured database up to date now (any start of the app does it too).
import { appliedOnOpen, closeDb } from "./client";
import { databaseUrl, providerOf, sqliteFile } from "./location";

const url = databaseUrl();
// Names the database without printing a Postgres password.
const where = providerOf(url) === "sqlite" ? sqliteFile(url) : new URL(url).host + new URL(url).pathname;
try {
  const applied = await appliedOnOpen();
  console.log(
    applied.length > 0 ? `${where}: applied ${applied.join(", ")}` : `${where}: already up to date, nothing applied`,
  );
} catch (error) {
  console.error(`${where}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await closeDb();
}
