import assert from "node:assert/strict";
import { it } from "node:test";
import { describeOnEachDatabase } from "../db/test-databases";
import { publishRunEvent, type RunEvent, type RunSnapshotEvent, watchRun } from "./events";
import { submitRun } from "./queue";
import { uploadCrop } from "./test-runs";

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
