// Test helpers for the run queue tests: uploads of real photo crops and waiting for runs to end.
import { setTimeout as sleep } from "node:timers/promises";
import sharp from "sharp";
import { photoPath } from "../../fixtures/photos";
import type { ParamOverride } from "../../nodes/graph/overrides";
import { storeUpload } from "../db/artifacts";
import { FINAL_STATUSES, getRun, type RunDetail } from "../db/runs";

/** Uploads a square crop of a real photo as a run input; returns the artifact id. */
export async function uploadCrop(name: string, size: number, left = 0, top = 0): Promise<string> {
  const bytes = await sharp(photoPath(name)).extract({ left, top, width: size, height: size }).png().toBuffer();
  return (await storeUpload({ bytes, fileName: `${name}-${size}-${left}-${top}.png` })).id;
}

/** x4-chunked with the fast slim model (about bicubic quality; for tests where quality does not matter). */
export const SLIM: ParamOverride[] = [{ nodeId: "generate", param: "model", value: "esrgan-slim-x4" }];

/**
 * x4-chunked in fixed 128 px tiles: the template's auto tiles take a small crop whole, and tests that act
 * between tiles (cancel, kill) need several (a 256 px crop: 9 tiles).
 */
export const TILES_128: ParamOverride[] = [
  { nodeId: "chunk", param: "tileSize", value: 128 },
  { nodeId: "chunk", param: "overlap", value: 16 },
];

/** Polls the database until the run has ended. */
export async function waitForEnd(runId: string, timeoutMs = 60_000): Promise<RunDetail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await getRun(runId);
    if (FINAL_STATUSES.includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Polls until `check` returns true. */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
