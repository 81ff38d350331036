// Re-runs through the run queue's worker: the executor keeps node outputs across runs, so a run that differs
// from an earlier one only in a downstream param re-executes that node and what follows it; and node previews
// come back from the app's executor process with the other run events.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { it } from "node:test";
import sharp from "sharp";
import type { NodeTiming } from "../../nodes/graph/engine";
import type { ParamOverride } from "../../nodes/graph/overrides";
import { readArtifact } from "../db/artifacts";
import type { RunDetail } from "../db/runs";
import { InferenceService } from "../inference/inference-service";
import { describeOnEachDatabase } from "../test-support/databases";
import { SLIM, uploadCrop, waitForEnd } from "../test-support/runs";
import { ensureRunWorker, stopRunWorker } from "./app-worker";
import type { NodePreviewEvent, RunEvent } from "./events";
import { ExecutorNodeCache } from "./node-cache";
import { runQueue, submitRun } from "./queue";
import { startRunWorker } from "./worker";

const inference = new InferenceService();
/** x4-chunked, fast model, 64 px tiles: several tiles even on a small crop. */
const BASE: ParamOverride[] = [...SLIM, { nodeId: "chunk", param: "tileSize", value: 64 }];
const LINEAR: ParamOverride[] = [...BASE, { nodeId: "stitch", param: "blend", value: "linear" }];

function cachedOf(run: RunDetail): Record<string, boolean> {
  return Object.fromEntries(run.nodes.map((node: NodeTiming) => [node.id, node.cached]));
}

async function outputBytes(run: RunDetail): Promise<Buffer> {
  return readFile((await readArtifact(run.outputs[0].id)).file);
}

async function runToEnd(input: string, overrides: ParamOverride[]): Promise<RunDetail> {
  const run = await submitRun({ templateSlug: "x4-chunked", overrides, inputs: { input }, trigger: "api" });
  const done = await waitForEnd(run.id, 120_000);
  assert.equal(done.status, "succeeded", done.error ?? "");
  return done;
}

describeOnEachDatabase("executor node cache", () => {
  it("re-runs only what changed: a downstream param, another input file, an upstream param", async () => {
    const input = await uploadCrop("coffee.png", 96, 120, 80);
    const other = await uploadCrop("coffee.png", 96, 124, 80);
    const worker = startRunWorker({ inference, pollMs: 100, nodeCache: new ExecutorNodeCache(256 * 2 ** 20) });
    try {
      const first = await runToEnd(input, BASE);
      const blend = await runToEnd(input, LINEAR);
      const again = await runToEnd(input, BASE);
      const otherInput = await runToEnd(other, BASE);
      const tiles = await runToEnd(input, [...BASE, { nodeId: "chunk", param: "tileSize", value: 48 }]);

      const all = { load: false, chunk: false, generate: false, stitch: false, save: false };
      assert.deepEqual(cachedOf(first), all);
      // Only stitch's blend changed: load, chunk and generate come from the cache (0 ms); save always runs.
      assert.deepEqual(cachedOf(blend), { ...all, load: true, chunk: true, generate: true });
      assert.deepEqual(blend.nodes.filter((node) => node.cached).map((node) => node.ms), [0, 0, 0]);
      assert.ok(blend.nodes.find((node) => node.id === "stitch")!.ms > 0);
      assert.ok(!(await outputBytes(blend)).equals(await outputBytes(first)), "the changed blend shows in the output");
      // The first graph again: everything but save from the cache, and the very same output.
      assert.deepEqual(cachedOf(again), { ...all, load: true, chunk: true, generate: true, stitch: true });
      assert.ok((await outputBytes(again)).equals(await outputBytes(first)), "cached outputs give the same bytes");
      // Another input file (4 px further right): its load-image node is not the same node any more.
      assert.deepEqual(cachedOf(otherInput), all);
      // An upstream param: that node and everything after it run again, the input is still read from the cache.
      assert.deepEqual(cachedOf(tiles), { ...all, load: true });
      console.log(
        `node cache: first run ${first.totalMs!.toFixed(0)} ms, stitch blend changed ${blend.totalMs!.toFixed(0)} ms, ` +
          `unchanged ${again.totalMs!.toFixed(0)} ms (generate ${first.nodes.find((n) => n.id === "generate")!.ms.toFixed(0)} ms -> cached)`,
      );
    } finally {
      await worker.stop();
    }
  });

  it("TUDSR_NODE_CACHE_MB=0 turns it off: an unchanged re-run executes every node", async () => {
    const input = await uploadCrop("rocket.jpg", 48, 300, 120);
    const saved = process.env.TUDSR_NODE_CACHE_MB;
    process.env.TUDSR_NODE_CACHE_MB = "0";
    const worker = startRunWorker({ inference, pollMs: 100 });
    try {
      await runToEnd(input, BASE);
      const again = await runToEnd(input, BASE);
      assert.deepEqual(cachedOf(again), { load: false, chunk: false, generate: false, stitch: false, save: false });
    } finally {
      await worker.stop();
      if (saved === undefined) delete process.env.TUDSR_NODE_CACHE_MB;
      else process.env.TUDSR_NODE_CACHE_MB = saved;
    }
  });

  it("the app's executor process sends node previews (real sizes, decodable thumbnails) before the run ends, cached nodes too", async () => {
    await ensureRunWorker({ pollMs: 200 });
    try {
      const input = await uploadCrop("chelsea.png", 120, 150, 60);
      const watch = async () => {
        const run = await submitRun({ templateSlug: "x4-chunked", overrides: BASE, inputs: { input }, trigger: "ui" });
        const events: RunEvent[] = [];
        await new Promise<void>((resolve) => {
          const unsubscribe = runQueue.subscribe(run.id, (event) => {
            events.push(event);
            if (event.type.startsWith("run-") && event.type !== "run-started" && event.type !== "run-queued") {
              unsubscribe();
              resolve();
            }
          });
        });
        return { run: await waitForEnd(run.id), events };
      };
      const first = await watch();
      assert.equal(first.run.status, "succeeded", first.run.error ?? "");
      assert.equal(first.events.at(-1)!.type, "run-succeeded");
      const previews = new Map(
        first.events.filter((event): event is NodePreviewEvent & { runId: string } => event.type === "node-preview").map((event) => [event.nodeId, event]),
      );
      assert.deepEqual(
        Object.fromEntries([...previews].map(([nodeId, event]) => [nodeId, [event.port, event.width, event.height]])),
        { load: ["image", 120, 120], chunk: ["tiles", 120, 120], generate: ["tiles", 480, 480], stitch: ["image", 480, 480] },
        "one per node with an image output (save has none)",
      );
      assert.equal(first.events.filter((event) => event.type === "node-preview").length, 4);

      const thumbnail = async (event: NodePreviewEvent) => {
        const bytes = Buffer.from(event.dataUrl.replace(/^data:image\/webp;base64,/, ""), "base64");
        const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
        assert.deepEqual([info.width, info.height], event.width > 160 ? [160, 160] : [event.width, event.height]);
        return data;
      };
      const difference = (a: Buffer, b: Buffer) => a.reduce((sum, value, i) => sum + Math.abs(value - b[i]), 0) / a.length;
      // The stitched thumbnail is the output's; the tile mosaic of generate shows the same picture.
      const output = await sharp(await outputBytes(first.run)).resize(160, 160).removeAlpha().raw().toBuffer();
      const stitch = await thumbnail(previews.get("stitch")!);
      const generate = await thumbnail(previews.get("generate")!);
      await thumbnail(previews.get("load")!);
      await thumbnail(previews.get("chunk")!);
      assert.ok(difference(stitch, output) < 8, `stitch thumbnail vs output: ${difference(stitch, output).toFixed(2)}`);
      assert.ok(difference(generate, stitch) < 8, `generate mosaic vs stitch thumbnail: ${difference(generate, stitch).toFixed(2)}`);

      // Again, unchanged: the child process's cache serves every node but save, and each still gets its preview.
      const second = await watch();
      assert.deepEqual(cachedOf(second.run), { load: true, chunk: true, generate: true, stitch: true, save: false });
      assert.deepEqual(
        second.events.filter((event) => event.type === "node-preview").map((event) => event.nodeId).sort(),
        ["chunk", "generate", "load", "stitch"],
      );
      assert.equal(second.events.at(-1)!.type, "run-succeeded");
    } finally {
      await stopRunWorker();
    }
  });
});
