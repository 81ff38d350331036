import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { it } from "node:test";
import { promisify } from "node:util";
import { builtInTemplates } from "../../nodes/templates/index";
import { migrationNames } from "../../prisma/schemas";
import { REPO_ROOT } from "../platform/paths";
import { describeOnEachDatabase, freshDatabase } from "../test-support/databases";
import { appliedOnOpen, closeDb, type Db, getDb } from "./client";
import { databaseUrl } from "./location";

const run = promisify(execFile);

interface MigrationRow {
  id: string;
  migration_name: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

function migrationRows(db: Db): Promise<MigrationRow[]> {
  return db.$queryRawUnsafe<MigrationRow[]>(
    "SELECT id, migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name",
  );
}

describeOnEachDatabase("database", ({ provider, database }) => {
  it("applies every migration to an empty database on first open", async () => {
    const db = await getDb();
    const expected = migrationNames(provider);
    assert.ok(expected.length > 0);
    assert.deepEqual(await appliedOnOpen(), expected);
    const rows = await migrationRows(db);
    assert.deepEqual(
      rows.map((row) => row.migration_name),
      expected,
    );
    assert.ok(rows.every((row) => row.finished_at !== null && row.rolled_back_at === null));
  });

  it("stores and reads back every model (the migrations match the schema)", async () => {
    const db = await getDb();
    const pipeline = await db.pipeline.create({
      data: { name: "p", versions: { create: { number: 1, graph: '{"version":1}' } } },
      include: { versions: true },
    });
    const template = await db.template.create({ data: { slug: "mine", name: "Mine", graph: "{}" } });
    const run = await db.run.create({
      data: {
        graph: '{"a":1}',
        pipelineVersionId: pipeline.versions[0].id,
        templateId: template.id,
        trigger: "api",
        status: "failed",
        error: "boom",
        errorNodeId: "generate",
        nodeTimings: '{"load":12.5}',
        startedAt: new Date(),
        finishedAt: new Date(),
      },
    });
    await db.artifact.create({
      data: {
        kind: "output",
        runId: run.id,
        path: "outputs/x.png",
        sizeBytes: 123,
        width: 4,
        height: 2,
        format: "png",
        sha256: "0".repeat(64),
      },
    });
    await db.model.create({
      data: {
        id: "user-model",
        file: "user-model.onnx",
        scale: 4,
        valueMin: 0,
        valueMax: 255,
        layout: "NCHW",
        parameterCount: 7_239_968,
        speedClass: "quality",
        source: '{"upload":"m.onnx"}',
        sha256: "1".repeat(64),
      },
    });
    await db.apiKey.create({ data: { name: "ci", prefix: "tudsr_ab12", secretHash: "2".repeat(64) } });

    const stored = await db.run.findUniqueOrThrow({ where: { id: run.id }, include: { artifacts: true } });
    assert.equal(stored.status, "failed");
    assert.equal(stored.trigger, "api");
    assert.equal(stored.inputs, "{}");
    assert.equal(stored.metrics, "{}");
    assert.equal(stored.nodeTimings, '{"load":12.5}');
    assert.deepEqual(
      stored.artifacts.map((artifact) => [artifact.kind, artifact.path, artifact.width, artifact.height]),
      [["output", "outputs/x.png", 4, 2]],
    );
    assert.equal((await db.model.findUniqueOrThrow({ where: { id: "user-model" } })).valueMax, 255);
    const key = await db.apiKey.findUniqueOrThrow({ where: { prefix: "tudsr_ab12" } });
    assert.equal(key.revokedAt, null);

    // Deleting a pipeline keeps its runs (with their own graph copy), unlinked.
    await db.pipeline.delete({ where: { id: pipeline.id } });
    const orphan = await db.run.findUniqueOrThrow({ where: { id: run.id } });
    assert.equal(orphan.pipelineVersionId, null);
    assert.equal(orphan.graph, '{"a":1}');
  });

  it("seeds the built-in templates from nodes/templates", async () => {
    const db = await getDb();
    const rows = await db.template.findMany({ where: { builtIn: true }, orderBy: { slug: "asc" } });
    const expected = [...builtInTemplates].sort((a, b) => a.id.localeCompare(b.id));
    assert.deepEqual(
      rows.map((row) => row.slug),
      expected.map((template) => template.id),
    );
    for (const [index, row] of rows.entries()) {
      assert.deepEqual(JSON.parse(row.graph), expected[index].graph);
    }
  });

  it("opens again without migrating or seeding twice: a second start is a no-op", async () => {
    const before = await migrationRows(await getDb());
    const templatesBefore = await (await getDb()).template.findMany({ orderBy: { slug: "asc" } });
    await closeDb();

    const db = await getDb();
    assert.deepEqual(await appliedOnOpen(), []);
    assert.deepEqual(await migrationRows(db), before);
    assert.deepEqual(await db.template.findMany({ orderBy: { slug: "asc" } }), templatesBefore);
    assert.equal(await db.apiKey.count(), 1);
  });

  it("brings the built-in templates back in line with nodes/templates on start", async () => {
    const db = await getDb();
    const first = builtInTemplates[0];
    await db.template.update({ where: { slug: first.id }, data: { graph: "{}", name: "edited" } });
    await db.template.create({ data: { slug: "retired-built-in", name: "old", graph: "{}", builtIn: true } });
    await closeDb();

    const reopened = await getDb();
    const restored = await reopened.template.findUniqueOrThrow({ where: { slug: first.id } });
    assert.deepEqual(JSON.parse(restored.graph), first.graph);
    assert.equal(await reopened.template.count({ where: { slug: "retired-built-in" } }), 0);
    assert.equal(await reopened.template.count({ where: { slug: "mine", builtIn: false } }), 1);
  });

  it("a write waits while another process holds the write lock, instead of failing at once", {
    skip: provider !== "sqlite" && "SQLite only (Postgres waits on row locks by itself)",
  }, async () => {
    const db = await getDb();
    // Another process takes the write lock, says so, and commits 700 ms later.
    const holder = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { createClient } from "@libsql/client";
         const client = createClient({ url: ${JSON.stringify(databaseUrl())} });
         const transaction = await client.transaction("write");
         await transaction.execute("UPDATE ApiKey SET name = 'held' WHERE prefix = 'tudsr_ab12'");
         console.log("locked");
         setTimeout(async () => { await transaction.commit(); client.close(); }, 700);`,
      ],
      { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise((resolve) => holder.on("exit", resolve));
    await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));

    const started = Date.now();
    await db.$transaction([
      db.apiKey.create({ data: { name: "waits", prefix: "tudsr_wait", secretHash: "3".repeat(64) } }),
    ]);
    await db.apiKey.update({ where: { prefix: "tudsr_wait" }, data: { lastUsedAt: new Date() } });
    assert.ok(Date.now() - started >= 300, "the write should have waited for the other process");
    assert.equal((await db.apiKey.findUniqueOrThrow({ where: { prefix: "tudsr_ab12" } })).name, "held");
    assert.equal(await exited, 0);
  });

  it("db:migrate in two processes at once on a fresh database: both succeed, each migration once", async () => {
    const other = await freshDatabase(provider);
    try {
      const env = { ...process.env, ...other.env };
      for (const [name, value] of Object.entries(other.env)) if (value === undefined) delete env[name];
      const migrate = () =>
        run(process.execPath, ["--import", "tsx", "server/db/migrate-command.ts"], { cwd: REPO_ROOT, env });
      const outputs = await Promise.all([migrate(), migrate()]);
      for (const output of outputs) assert.match(output.stdout, /applied|up to date/);

      await closeDb();
      other.use();
      const rows = await migrationRows(await getDb());
      assert.deepEqual(
        rows.map((row) => row.migration_name),
        migrationNames(provider),
      );
      assert.ok(rows.every((row) => row.finished_at !== null && row.rolled_back_at === null));
      assert.equal(await (await getDb()).template.count({ where: { builtIn: true } }), builtInTemplates.length);
    } finally {
      await closeDb();
      database().use();
      await other.drop();
    }
  });
});
