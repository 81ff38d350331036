// Test helpers for the run tests: uploads of real photo crops, waiting for runs to end, planning in one call.
import { setTimeout as sleep } from "node:timers/promises";
import sharp from "sharp";
import { photoPath } from "../../fixtures/photos";
import type { ParamOverride } from "../../nodes/graph/overrides";
import type { ImageShape } from "../../nodes/graph/plan";
import type { RunPlan } from "../../nodes/graph/plan-graph";
import { storeUpload } from "../db/artifacts";
import { FINAL_STATUSES } from "../db/run-statuses";
import { getRun, type RunDetail } from "../db/runs";
import type { InferenceService } from "../inference/inference-service";
import { planRun } from "../runs/plan-run";
import { prepareRun } from "../runs/prepare";

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

/** Prepares and plans a graph, as runs.plan does (a test's one call). */
export async function planFor(graph: unknown, options: { inference: InferenceService; overrides?: ParamOverride[]; sizes: (name: string) => Promise<ImageShape> }): Promise<RunPlan> {
  return planRun(await prepareRun(graph, options), options);
}
