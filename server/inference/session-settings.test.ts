// ONNX Runtime's threading, measured: every candidate (1, half and all cores, spinning on and off) timed on a
// real photo tile in turns, the fastest kept in the models folder and read back by every session, and the
// environment's override applied on top.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { photoCrop } from "../models/int8-variant";
import { modelsDir, readModelManifest } from "../models/manifest";
import { measureSessionSettings, sessionSettings } from "./session-settings";

test("set-up keeps the fastest threading it measured, and TUDSR_ORT_THREADS overrides it", async () => {
  const entry = (await readModelManifest()).models.find((model) => model.id === "esrgan-slim-x4")!;
  const dir = await mkdtemp(path.join(os.tmpdir(), "tudsr session settings "));
  try {
    const input = await photoCrop(entry, ["astronaut.png", 180, 80], 96);
    const measured = await measureSessionSettings(path.join(modelsDir(), entry.file), input, dir, "slim 96x96");
    const cores = os.availableParallelism();
    const counts = [...new Set([1, Math.max(1, Math.floor(cores / 2)), cores])];
    assert.equal(Object.keys(measured.measured!).length, counts.length * 2, JSON.stringify(measured.measured));
    const fastest = Math.min(...Object.values(measured.measured!));
    const label = `${measured.threads} thread${measured.threads === 1 ? "" : "s"}, spinning ${measured.spinning ? "on" : "off"}`;
    assert.equal(measured.measured![label], fastest, `${label} is the fastest of ${JSON.stringify(measured.measured)}`);
    const read = sessionSettings(dir, {} as NodeJS.ProcessEnv);
    assert.deepEqual([read.threads, read.spinning, read.source, read.tile], [measured.threads, measured.spinning, "measured", "slim 96x96"]);
    const overridden = sessionSettings(dir, { TUDSR_ORT_THREADS: "1", TUDSR_ORT_SPINNING: "on" } as unknown as NodeJS.ProcessEnv);
    assert.deepEqual([overridden.threads, overridden.spinning, overridden.source], [1, true, "environment"]);
    assert.throws(() => sessionSettings(dir, { TUDSR_ORT_THREADS: "0" } as unknown as NodeJS.ProcessEnv), /TUDSR_ORT_THREADS must be a whole number/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
