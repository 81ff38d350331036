import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { before, it } from "node:test";
import { NotFoundError } from "../platform/errors";
import { dataDir } from "../platform/paths";
import { describeOnEachDatabase } from "../test-support/databases";
import { getDb } from "./client";
import { createApiKey, hashSecret, listApiKeys, revokeApiKey, verifyApiKey } from "./keys";

describeOnEachDatabase("API keys", ({ provider }) => {
  before(async () => {
    await getDb();
  });

  it("creates a key shown once: a high-entropy secret starting with its public prefix", async () => {
    const key = await createApiKey("nightly script");
    assert.match(key.prefix, /^tudsr_[0-9a-f]{8}$/);
    assert.ok(key.secret.startsWith(`${key.prefix}_`));
    assert.ok(key.secret.length >= 50);
    assert.equal(key.name, "nightly script");
    assert.equal(key.lastUsedAt, null);
    assert.equal(key.revokedAt, null);
    const listed = (await listApiKeys()).find((row) => row.id === key.id)!;
    assert.equal(listed.prefix, key.prefix);
    assert.equal("secret" in listed, false);
  });

  it("stores only the SHA-256 of the secret: the secret is nowhere in the database", async () => {
    const key = await createApiKey("hash check");
    const db = await getDb();
    const row = await db.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    assert.equal(row.secretHash, hashSecret(key.secret));
    assert.ok(!JSON.stringify(row).includes(key.secret.slice(key.prefix.length + 1)));
    if (provider === "sqlite") {
      // Not even in the file's bytes (WAL included).
      const secretPart = Buffer.from(key.secret.slice(key.prefix.length + 1));
      for (const name of await readdir(dataDir())) {
        if (!name.startsWith("tudsr.db")) continue;
        const bytes = await readFile(path.join(dataDir(), name));
        assert.equal(bytes.indexOf(secretPart), -1, `secret found in ${name}`);
      }
    }
  });

  it("verifies a live key and records when it was used", async () => {
    const key = await createApiKey("verify");
    const verified = await verifyApiKey(key.secret);
    assert.deepEqual(verified, { id: key.id, name: "verify", prefix: key.prefix });
    const row = (await listApiKeys()).find((candidate) => candidate.id === key.id)!;
    assert.ok(row.lastUsedAt instanceof Date);
  });

  it("refuses malformed, unknown and tampered keys without writing anything", async () => {
    const key = await createApiKey("tamper");
    const last = key.secret.at(-1) === "A" ? "B" : "A";
    for (const wrong of ["", "nope", key.prefix, `${key.secret.slice(0, -1)}${last}`, `${key.secret}x`, key.secret.toUpperCase()]) {
      assert.equal(await verifyApiKey(wrong), undefined, wrong);
    }
    const row = (await listApiKeys()).find((candidate) => candidate.id === key.id)!;
    assert.equal(row.lastUsedAt, null);
  });

  it("revokes by id or by prefix; a revoked key no longer verifies and is not touched", async () => {
    const byId = await createApiKey("by id");
    const byPrefix = await createApiKey("by prefix");
    const revoked = await revokeApiKey(byId.id);
    assert.ok(revoked.revokedAt instanceof Date);
    assert.ok((await revokeApiKey(byPrefix.prefix)).revokedAt instanceof Date);
    assert.equal(await verifyApiKey(byId.secret), undefined);
    assert.equal(await verifyApiKey(byPrefix.secret), undefined);
    const again = await revokeApiKey(byId.prefix);
    assert.equal(again.revokedAt!.getTime(), revoked.revokedAt!.getTime());
    const row = (await listApiKeys()).find((candidate) => candidate.id === byId.id)!;
    assert.equal(row.lastUsedAt, null);
  });

  it("revoking an unknown key is a NotFoundError", async () => {
    await assert.rejects(revokeApiKey("tudsr_00000000"), NotFoundError);
  });
});
