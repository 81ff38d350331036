// The artifact store's two implementations behave alike: the local folder and S3-compatible storage (s3rver,
// started here); uploads and run outputs go through whichever the environment selects.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startS3, type TestS3 } from "../test-support/bullmq-services";
import { readArtifactBytes, removeRunOutputFiles, writeOutputFile } from "./artifacts";
import { ArtifactMissingError, type ArtifactStore, artifactStore, LocalArtifactStore, S3ArtifactStore, s3SettingsFromEnv } from "./store";

async function behavesAsAStore(store: ArtifactStore & { list(prefix: string): Promise<string[]> }): Promise<void> {
  const bytes = new Uint8Array([0, 1, 2, 250, 251, 252]);
  assert.equal(await store.has("artifacts/a.bin"), false);
  await assert.rejects(store.get("artifacts/a.bin"), ArtifactMissingError);
  await store.put("artifacts/a.bin", bytes);
  await store.put("artifacts/runs/r1/x/out.png", bytes.subarray(2));
  await store.put("artifacts/runs/r1/y/out.png", bytes);
  await store.put("artifacts/runs/r10/out.png", bytes);
  assert.equal(await store.has("artifacts/a.bin"), true);
  assert.deepEqual([...(await store.get("artifacts/a.bin"))], [...bytes]);
  assert.deepEqual([...(await store.get("artifacts/runs/r1/x/out.png"))], [...bytes.subarray(2)]);
  await store.deletePrefix("artifacts/runs/r1/x/");
  assert.deepEqual(await store.list("artifacts/runs/"), ["artifacts/runs/r1/y/out.png", "artifacts/runs/r10/out.png"]);
  await store.deletePrefix("artifacts/runs/r1/");
  assert.deepEqual(await store.list("artifacts/runs/"), ["artifacts/runs/r10/out.png"], "a prefix is a folder: r1/ is not r10/");
  for (const bad of ["../x", "/abs", "a//b", "a/./b", ""]) await assert.rejects(store.put(bad, bytes), /bad artifact key/);
}

describe("artifact store", () => {
  let dir: string;
  let s3: TestS3;
  const saved = { ...process.env };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tudsr store "));
    s3 = await startS3();
  });

  after(async () => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("local folder: put, get, has, delete by prefix, keys checked", async () => {
    await behavesAsAStore(new LocalArtifactStore(dir));
    assert.deepEqual([...(await readFile(path.join(dir, "artifacts", "a.bin")))], [0, 1, 2, 250, 251, 252]);
  });

  it("S3-compatible storage (s3rver): the same behaviour", async () => {
    const settings = s3SettingsFromEnv(s3.env);
    assert.ok(settings);
    assert.equal(settings.forcePathStyle, true);
    const store = new S3ArtifactStore({ ...settings, prefix: "studio/" });
    try {
      await behavesAsAStore(store);
    } finally {
      store.close();
    }
  });

  it("is chosen by the environment; run outputs go to it, per attempt on the distributed queue", async () => {
    process.env.TUDSR_DATA_DIR = dir;
    delete process.env.TUDSR_S3_BUCKET;
    assert.ok(artifactStore() instanceof LocalArtifactStore);
    Object.assign(process.env, s3.env);
    const store = artifactStore();
    assert.ok(store instanceof S3ArtifactStore);
    const output = { name: "output", format: "png", width: 1, height: 1, bytes: Buffer.from("png bytes") };
    const plain = await writeOutputFile("run1", output);
    const attempt = await writeOutputFile("run1", output, "a2-0f0f");
    assert.equal(plain.path, "artifacts/runs/run1/output.png");
    assert.equal(attempt.path, "artifacts/runs/run1/a2-0f0f/output.png");
    assert.equal((await readArtifactBytes(attempt.path)).toString(), "png bytes");
    await removeRunOutputFiles("run1", "a2-0f0f");
    assert.equal(await store.has(attempt.path), false);
    assert.equal(await store.has(plain.path), true, "another attempt's files are left alone");
    await removeRunOutputFiles("run1");
    assert.equal(await store.has(plain.path), false);
    assert.throws(() => s3SettingsFromEnv({ TUDSR_S3_BUCKET: "b", TUDSR_S3_ACCESS_KEY_ID: "only-one" }), /both/);
  });
});
