import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { migrationNames, migrationsDir, PROVIDERS, schemaProblems } from "../../prisma/schemas";

describe("per-provider Prisma schemas", () => {
  it("are rendered from prisma/models.prisma and have the same migrations", () => {
    assert.deepEqual(schemaProblems(), []);
  });

  it("each migrations folder is locked to its own provider", () => {
    for (const provider of PROVIDERS) {
      const lock = readFileSync(path.join(migrationsDir(provider), "migration_lock.toml"), "utf8");
      assert.match(lock, new RegExp(`^provider = "${provider}"$`, "m"));
      assert.ok(migrationNames(provider).length > 0);
    }
  });
});
