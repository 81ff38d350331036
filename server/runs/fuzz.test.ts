// Property-based tests (fast-check) of runPipeline with the real PipelineHost (inputs as bytes and files, run
// input names that Object.prototype has, overrides with odd names and values), stub models and tiny images.
import fc from "fast-check";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { assertNamedProblems, fuzzRuns, growthBound, idArb, mildMutationArb, mutatedGraphArb, oddValueArb, PROTOTYPE_NAMES, setOwn, StubHost, tinyImage } from "../../fixtures/fuzz-graphs";
import { MemoryNodeCache } from "../../nodes/graph/cache";
import { NodeRunError } from "../../nodes/graph/engine";
import { OverrideError } from "../../nodes/graph/overrides";
import { GraphValidationError, parseGraph } from "../../nodes/graph/validate";
import { encodeImage } from "../images/codec";
import type { InferenceService } from "../inference/inference-service";
import { runPipeline } from "./run-pipeline";

// The stub's nearest-neighbour "models" stand in for ONNX Runtime (describeModel + infer are all a host uses).
const inference = new StubHost(new Map()) as unknown as InferenceService;

let dir: string;
let png: Buffer;
let pngFile: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "tudsr fuzz "));
  png = await encodeImage(tinyImage(), { format: "png" });
  pngFile = path.join(dir, "tiny.png");
  await writeFile(pngFile, png);
});
after(() => rm(dir, { recursive: true, force: true }));

/** A run input: good bytes, a good file, a missing file, bytes with one flipped byte, or no image at all. */
const sourceArb = fc.constantFrom("bytes", "file", "missing", "flipped", "text");
function source(kind: string): string | Buffer {
  if (kind === "bytes") return png;
  if (kind === "file") return pngFile;
  if (kind === "missing") return path.join(dir, "deleted.png");
  if (kind === "text") return Buffer.from("not an image");
  const flipped = Buffer.from(png);
  flipped[flipped.length - 20] ^= 0xff; // inside the IDAT chunk: its CRC no longer matches
  return flipped;
}

const inputsArb = fc
  .array(fc.tuple(fc.oneof(fc.constant("input"), fc.constantFrom(...PROTOTYPE_NAMES)), sourceArb), { maxLength: 3 })
  .map((entries) => {
    const inputs: Record<string, string | Buffer> = {};
    for (const [name, kind] of entries) setOwn(inputs, name, source(kind));
    return inputs;
  });

const overridesArb = fc.array(
  fc.record({
    nodeId: fc.oneof(fc.constantFrom("load", "chunk", "generate", "stitch", "save", "loop", "degrade"), idArb),
    param: fc.oneof(fc.constantFrom("tileSize", "overlap", "blend", "model", "input", "times"), fc.constantFrom(...PROTOTYPE_NAMES)),
    value: oddValueArb,
  }),
  { maxLength: 2 },
);

test("runPipeline refuses a bad graph, override or input with a named reason, and fails a run only in a named node", async () => {
  let cases = 0;
  let ran = 0;
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(mutatedGraphArb(mildMutationArb, { minLength: 0, maxLength: 2 }), inputsArb, overridesArb, fc.boolean(), async ({ graph }, inputs, overrides, cached) => {
      cases++;
      const parsed = parseGraph(graph);
      if (parsed.graph && growthBound(parsed.graph) > 16) return;
      ran++;
      try {
        await runPipeline(graph, { inference, inputs, overrides, cache: cached ? new MemoryNodeCache() : undefined });
      } catch (error) {
        if (error instanceof GraphValidationError) return assertNamedProblems(error.problems, "(the counterexample)");
        if (error instanceof OverrideError) return assert.match(error.message, /^no node ".*" in this pipeline/s);
        assert.ok(error instanceof NodeRunError, `not a named failure: ${(error as Error)?.stack ?? String(error)}`);
        const ids = (graph as { nodes: { id: unknown }[] }).nodes.map((node) => node.id);
        assert.ok(ids.includes(error.nodeId), `node "${error.nodeId}" is not in the graph`);
      }
    }),
    { numRuns: fuzzRuns(150), includeErrorInReport: true },
  );
  console.log(`fuzz: ${cases} cases (runPipeline: ${ran} run or refused), ${(performance.now() - started).toFixed(0)} ms`);
});
