import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { StubHost, tinyImage } from "../../fixtures/fuzz-graphs";
import { MemoryNodeCache } from "../../nodes/graph/cache";
import { NodeRunError } from "../../nodes/graph/engine";
import { findTemplate } from "../../nodes/templates/index";
import { encodeImage } from "../images/codec";
import type { InferenceService } from "../inference/inference-service";
import { PipelineHost } from "./pipeline-host";
import { runPipeline } from "./run-pipeline";

const inference = new StubHost(new Map()) as unknown as InferenceService; // nearest-neighbour "models"
const x4 = () => findTemplate("x4-chunked")!.graph;

let dir: string;
let png: Buffer;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "tudsr host "));
  png = await encodeImage(tinyImage(), { format: "png" });
});
after(() => rm(dir, { recursive: true, force: true }));

test("run inputs are looked up as own properties: a name Object.prototype has is given only when it is given", async () => {
  const host = new PipelineHost({ input: png }, inference);
  for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
    await assert.rejects(host.loadInput(name), { message: `the run has no input named "${name}" (given: input)` });
    await assert.rejects(host.inputKey(name), /the run has no input named/);
  }
  const named = new PipelineHost({ constructor: png, toString: png }, inference);
  assert.equal((await named.loadInput("constructor")).image.width, 24);
  assert.match(await named.inputKey("toString"), /^[0-9a-f]{64}$/);
});

test("a missing input file fails the load-image node that reads it, named, with or without the node cache", async () => {
  const file = path.join(dir, "deleted.png");
  for (const cache of [undefined, new MemoryNodeCache()]) {
    await assert.rejects(
      runPipeline(x4(), { inference, inputs: { input: file }, cache }),
      (error: unknown) =>
        error instanceof NodeRunError && error.nodeId === "load" && error.message === `node "load" (load-image): input "input": file not found: ${file}`,
    );
  }
});

test("a load-image node reading input constructor, given only input, fails in that node (no internal Node error)", async () => {
  const graph = structuredClone(x4());
  graph.nodes.find((node) => node.id === "load")!.params.input = "constructor";
  for (const cache of [undefined, new MemoryNodeCache()]) {
    await assert.rejects(
      runPipeline(graph, { inference, inputs: { input: png }, cache }),
      (error: unknown) => error instanceof NodeRunError && error.nodeId === "load" && /the run has no input named "constructor" \(given: input\)$/.test(error.message),
    );
  }
});

test("an input given as a loader is fetched when a node needs it; its failure is named too", async () => {
  const file = path.join(dir, "tiny.png");
  await writeFile(file, png);
  let calls = 0;
  const loader = async () => {
    calls++;
    return png;
  };
  const result = await runPipeline(x4(), { inference, inputs: { input: loader }, cache: new MemoryNodeCache() });
  assert.deepEqual([result.outputs[0].width, result.outputs[0].height], [96, 80]);
  assert.equal(calls, 1, "fetched once for the cache's identity and the decode");
  const gone = async (): Promise<Buffer> => {
    throw new Error('artifact "artifacts/abc.png" is missing from the artifact store');
  };
  await assert.rejects(
    runPipeline(x4(), { inference, inputs: { input: gone }, cache: new MemoryNodeCache() }),
    (error: unknown) => error instanceof NodeRunError && error.nodeId === "load" && /input "input": artifact .* is missing/.test(error.message),
  );
});
