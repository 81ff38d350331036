import assert from "node:assert/strict";
import { it } from "node:test";
import { describeOnEachDatabase } from "../test-support/databases";
import { uploadCrop } from "../test-support/runs";
import { publishRunEvent, type RunEvent, type RunSnapshotEvent, watchRun } from "./events";
import { submitRun } from "./queue";

describeOnEachDatabase("run events", () => {
  it("a watch that starts mid-run first replays what the run did so far (last progress per node only), then follows it live", async () => {
    const input = await uploadCrop("coffee.png", 32, 0, 0);
    const { id: runId } = await submitRun({ templateSlug: "x4-chunked", inputs: { input }, trigger: "api" });
    publishRunEvent({ runId, type: "run-started" });
    publishRunEvent({ runId, type: "node-started", nodeId: "load", nodeType: "load-image" });
    publishRunEvent({ runId, type: "node-finished", nodeId: "load", ms: 3, cached: true });
    publishRunEvent({ runId, type: "node-started", nodeId: "generate", nodeType: "generate" });
    for (let done = 1; done <= 3; done++) publishRunEvent({ runId, type: "node-progress", nodeId: "generate", done, total: 9 });

    const seen: (RunEvent | RunSnapshotEvent)[] = [];
    const watch = watchRun(runId);
    for (let i = 0; i < 7; i++) seen.push((await watch.next()).value as RunEvent | RunSnapshotEvent);
    assert.deepEqual(
      seen.map((event) => (event.type === "node-progress" ? `progress ${event.done}/${event.total}` : event.type)),
      ["run-snapshot", "run-queued", "run-started", "node-started", "node-finished", "node-started", "progress 3/9"],
    );

    publishRunEvent({ runId, type: "node-progress", nodeId: "generate", done: 4, total: 9 });
    publishRunEvent({ runId, type: "run-canceled" });
    const rest: string[] = [];
    for (let next = await watch.next(); !next.done; next = await watch.next()) rest.push(next.value.type);
    assert.deepEqual(rest, ["node-progress", "run-canceled"]);

    // Shortly after it ended (a fully cached run can end before its stream opens), a new watch still gets the
    // whole story up to the final event, and nothing published after it.
    publishRunEvent({ runId, type: "node-started", nodeId: "late", nodeType: "x" });
    const again: string[] = [];
    for await (const event of watchRun(runId)) again.push(event.type);
    assert.deepEqual(again, ["run-snapshot", "run-queued", "run-started", "node-started", "node-finished", "node-started", "node-progress", "run-canceled"]);
  });
});

describeOnEachDatabase("tile map events", () => {
  it("a late watch gets one tile-map event per node holding every finished tile so far; a loop's next pass starts over", async () => {
    const input = await uploadCrop("coffee.png", 32, 0, 0);
    const { id: runId } = await submitRun({ templateSlug: "x4-chunked", inputs: { input }, trigger: "api" });
    const tile = (index: number) => ({ index, x: index * 10, y: 0, width: 10, height: 10, dataUrl: `data:image/webp;base64,AAA${index}` });
    const update = (nodeId: string, finished: number[], iteration?: number): RunEvent => ({
      type: "tile-map", runId, nodeId, iteration, canvas: { width: 40, height: 10 }, total: 4, finished: finished.map(tile), running: [{ index: 9, x: 0, y: 0, width: 10, height: 10 }],
    });
    publishRunEvent({ runId, type: "run-started" });
    publishRunEvent(update("generate", [0, 1]));
    publishRunEvent(update("other", [0]));
    publishRunEvent(update("generate", [2]));
    publishRunEvent({ runId, type: "run-canceled" });
    const maps: Record<string, number[]> = {};
    for await (const event of watchRun(runId)) if (event.type === "tile-map") maps[event.nodeId] = event.finished.map((t) => t.index);
    assert.deepEqual(maps, { other: [0], generate: [0, 1, 2] });

    const { id: loopRun } = await submitRun({ templateSlug: "x4-chunked", inputs: { input }, trigger: "api" });
    publishRunEvent({ ...update("generate", [0, 1], 0), runId: loopRun });
    publishRunEvent({ ...update("generate", [0], 1), runId: loopRun });
    publishRunEvent({ runId: loopRun, type: "run-canceled" });
    const passes: string[] = [];
    for await (const event of watchRun(loopRun)) if (event.type === "tile-map") passes.push(`${event.iteration}: ${event.finished.map((t) => t.index)}`);
    assert.deepEqual(passes, ["1: 0"]);
  });
});
