// prisma/models.prisma is the one source of the models; a Prisma schema names one provider and migrations are
// provider-specific SQL, so prisma/new-migration.ts renders one schema (and one migration) per provider.
// `node --import tsx prisma/schemas.ts` checks that they agree (exit 1 and the problems when not).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { prismaDir, type Provider } from "../server/db/location";
import { REPO_ROOT } from "../server/platform/paths";

export const PROVIDERS: readonly Provider[] = ["sqlite", "postgresql"];

export const MODELS_FILE = path.join(REPO_ROOT, "prisma", "models.prisma");

export function schemaFile(provider: Provider): string {
  return path.join(prismaDir(provider), "schema.prisma");
}

export function migrationsDir(provider: Provider): string {
  return path.join(prismaDir(provider), "migrations");
}

export function renderSchema(provider: Provider, models = readFileSync(MODELS_FILE, "utf8")): string {
  // The url is never used (the driver adapter connects), but Prisma 6 needs one to parse the schema.
  const placeholderUrl = provider === "sqlite" ? "file:unused.db" : "postgresql://unused";
  return `// GENERATED from prisma/models.prisma by prisma/schemas.ts: edit that file, not this one.

generator client {
  provider     = "prisma-client"
  output       = "../generated/${provider}"
  engineType   = "client"
  runtime      = "nodejs"
  moduleFormat = "esm"
}

datasource db {
  provider = "${provider}"
  url      = "${placeholderUrl}"
}

${models}`;
}

/** Migration folder names (oldest first); every provider must have the same ones. */
export function migrationNames(provider: Provider): string[] {
  const dir = migrationsDir(provider);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort();
}

/** Everything that makes the per-provider folders disagree with the source or with each other. */
export function schemaProblems(): string[] {
  const problems: string[] = [];
  for (const provider of PROVIDERS) {
    const file = schemaFile(provider);
    if (!existsSync(file) || readFileSync(file, "utf8") !== renderSchema(provider)) {
      problems.push(`${path.relative(REPO_ROOT, file)} is not rendered from prisma/models.prisma`);
    }
  }
  const [first, ...others] = PROVIDERS.map((provider) => ({ provider, names: migrationNames(provider) }));
  for (const other of others) {
    if (other.names.join("\n") !== first.names.join("\n")) {
      problems.push(
        `migrations differ: ${first.provider} has [${first.names.join(", ")}], ` +
          `${other.provider} has [${other.names.join(", ")}]`,
      );
    }
  }
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = schemaProblems();
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error("After editing prisma/models.prisma run: node --import tsx prisma/new-migration.ts <name>");
  }
  else console.log("prisma schemas and migrations agree");
  process.exitCode = problems.length > 0 ? 1 : 0;
}
