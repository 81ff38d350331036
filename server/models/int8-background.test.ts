// int8 variants made after the studio is up: a child process of low priority makes each wanted model's variant
// in turn, its state readable meanwhile (the Models page), the result recorded in the manifest, never made twice
// for one file, quantizer and CPU kind, and skipped where a refusal is known for this kind of CPU.
import assert from "node:assert/strict";
import { access, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { cpuKind } from "../platform/cpu-features";
import { startInt8Background } from "./int8-background";
import { quantizerId } from "./int8-variant";
import { int8Backlog } from "./int8-work";
import { readInt8WorkState } from "./int8-work-state";
import { int8Offer, type ModelManifest, readModelManifest, writeModelManifest } from "./manifest";

const REAL_MODELS = path.resolve(import.meta.dirname, "../../models");
const MODEL = "esrgan-slim-x4";
/** Outside the templates: only TUDSR_INT8=all wants it. */
const ENV: NodeJS.ProcessEnv = { ...process.env, TUDSR_INT8: "all" };

describe("int8 variants in the background", () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tudsr int8 background "));
    const manifest = await readModelManifest(REAL_MODELS);
    const entry = manifest.models.find((model) => model.id === MODEL)!;
    await symlink(path.join(REAL_MODELS, entry.file), path.join(dir, entry.file));
    await writeModelManifest({ ...manifest, models: [{ ...entry, int8: undefined }] }, dir);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("skips a model whose refusal is known for this kind of CPU, and wants nothing with TUDSR_INT8=off", async () => {
    const manifest = await readModelManifest(dir);
    const entry = manifest.models[0];
    const known = [{ model: MODEL, parentSha256: entry.sha256, quantizer: quantizerId(), cpuKind: cpuKind(), refused: "a test refusal", measuredOn: "a test" }];
    assert.deepEqual(await int8Backlog(manifest, dir, ENV, known), []);
    assert.deepEqual((await int8Backlog(manifest, dir, ENV, [])).map((model) => model.id), [MODEL]);
    assert.deepEqual(await int8Backlog(manifest, dir, { ...process.env, TUDSR_INT8: "off" }, []), []);
    // Known for another kind of CPU only: still wanted here.
    assert.equal((await int8Backlog(manifest, dir, ENV, [{ ...known[0], cpuKind: "x64-other" }])).length, 1);
  });

  it("makes the variant in a child process, shows it queued or being made, records it, and never makes it twice", { timeout: 10 * 60_000 }, async () => {
    const lines: string[] = [];
    assert.deepEqual(await startInt8Background({ dir, env: ENV, log: (line) => lines.push(line) }), [MODEL]);
    const state = await readInt8WorkState(dir);
    assert.ok(state && (state.queued.includes(MODEL) || state.current?.id === MODEL), JSON.stringify(state));
    assert.deepEqual(await startInt8Background({ dir, env: ENV }), [], "a second start while it runs does nothing");

    const deadline = Date.now() + 9 * 60_000;
    while (await readInt8WorkState(dir)) {
      assert.ok(Date.now() < deadline, "the background work finished");
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // The parent records the result before it clears the state.
    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as ModelManifest;
    const status = manifest.models[0].int8;
    assert.ok(status, `a status was recorded (${lines.join("; ")})`);
    assert.equal(status.cpuKind, cpuKind());
    assert.equal(status.quantizer, quantizerId());
    const offer = int8Offer(manifest.models[0]);
    if ("refused" in status) assert.ok(!offer.offered && offer.why.length > 10, offer.offered ? "" : offer.why);
    else {
      assert.ok(offer.offered);
      assert.ok(status.quality && status.quality.chained.some((chain) => chain.into === MODEL), "judged feeding itself");
      await access(path.join(dir, status.file));
    }
    console.log(`${MODEL}: ${offer.offered ? `int8 ${offer.speedup}x, ${offer.lossDb} dB lost, chained ${offer.chained}` : offer.why}`);
    assert.deepEqual(await startInt8Background({ dir, env: ENV }), [], "decided: nothing to do");
  });
});
