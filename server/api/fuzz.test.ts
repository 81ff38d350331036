// Property-based tests (fast-check) of the API through the tRPC caller: random and mutated graphs, overrides,
// run inputs and whole bodies for pipelines.create / save / import and runs.start. A refusal is a 400 or a 404
// naming what is wrong, never a 500; what is accepted is stored as it was validated. The corpus of bodies that
// once got through or crashed (fixtures/fuzz-corpus.json beside this file) is replayed.
import { TRPCError } from "@trpc/server";
import fc from "fast-check";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, it } from "node:test";
import sharp from "sharp";
import { assertNamedProblems, fuzzRuns, idArb, mildMutationArb, mutatedGraphArb, oddValueArb, PROTOTYPE_NAMES, setOwn } from "../../fixtures/fuzz-graphs";
import { photoPath } from "../../fixtures/photos";
import type { Graph } from "../../nodes/graph/schema";
import { checkGraph, GraphValidationError, parseGraph } from "../../nodes/graph/validate";
import { nodeRegistry } from "../../nodes/index";
import { builtInTemplates } from "../../nodes/templates/index";
import { getDb } from "../db/client";
import { describeOnEachDatabase } from "../test-support/databases";
import { createCaller } from "./root";
import { localContext } from "./trpc";

/** A refusal: TRPCError 400 or 404 with a message, and for a graph every problem named. Anything else fails. */
function assertCleanRefusal(error: unknown): void {
  if (!(error instanceof TRPCError)) assert.fail(`not a TRPCError: ${(error as Error)?.stack ?? String(error)}`);
  if (error.code !== "BAD_REQUEST" && error.code !== "NOT_FOUND") assert.fail(`${error.code}: ${error.message}\n${error.cause?.stack}`);
  if (error.message.trim() === "") assert.fail("empty message");
  if (error.cause instanceof GraphValidationError) assertNamedProblems(error.cause.problems, "(the graph above)");
}

/** Values superjson carries from the browser that JSON cannot (the UI's tRPC link uses superjson). */
const superjsonValueArb = fc.constantFrom<unknown>(10n, new Date(0), new Map([["a", 1]]), new Set([1]), /x/, undefined, NaN, -Infinity);

/** A mutated template (mildly, more often than not), sometimes with a superjson-only value in a param. */
const apiGraphArb = fc
  .tuple(
    fc.oneof({ weight: 2, arbitrary: mutatedGraphArb() }, { weight: 3, arbitrary: mutatedGraphArb(mildMutationArb, { minLength: 0, maxLength: 2 }) }),
    fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.constantFrom("tileSize", "blend", "extra", "__proto__"), superjsonValueArb) }),
  )
  .map(([{ graph }, extra]) => {
    const nodes = (graph as { nodes?: unknown }).nodes;
    if (extra && Array.isArray(nodes) && nodes.length) {
      const node = nodes[extra[0] % nodes.length] as { params?: unknown };
      if (node && typeof node.params === "object" && node.params !== null) setOwn(node.params as Record<string, unknown>, extra[1], extra[2]);
    }
    return graph;
  });

const nameArb = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "x".repeat(201), "\u0000", ...PROTOTYPE_NAMES) },
  { weight: 1, arbitrary: oddValueArb },
);

/** Overrides that often fit a template (its node ids, small values) and some that cannot. */
const fittingOverrideArb = fc.oneof(
  fc.record({ nodeId: fc.constant("chunk"), param: fc.constantFrom("tileSize", "overlap"), value: fc.constantFrom(16, 32, 64, 96, 4096, 5000, -1, 1.5, "64", null) }),
  fc.record({ nodeId: fc.constant("generate"), param: fc.constantFrom("model", "batchSize"), value: fc.constantFrom("esrgan-slim-x4", "anything", 1, 2, 33, "") }),
  fc.record({ nodeId: fc.constant("load"), param: fc.constant("input"), value: fc.constantFrom("input", "reference", ...PROTOTYPE_NAMES) }),
  fc.record({ nodeId: fc.constantFrom("stitch", "save", "load"), param: fc.constantFrom(...PROTOTYPE_NAMES), value: oddValueArb }),
);

const overridesArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant([]) },
  { weight: 3, arbitrary: fc.array(fittingOverrideArb, { maxLength: 2 }) },
  { weight: 2, arbitrary: fc.array(
    fc.record({
      nodeId: fc.oneof(fc.constantFrom("load", "chunk", "generate", "stitch", "save", "loop", "degrade", "metrics"), idArb),
      param: fc.oneof(fc.constantFrom("tileSize", "overlap", "blend", "model", "input", "times", "batchSize"), fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ maxLength: 8 })),
      value: fc.oneof(oddValueArb, superjsonValueArb),
    }),
    { maxLength: 3 },
  ) },
  { weight: 1, arbitrary: oddValueArb },
);

/** Run inputs: names the templates read, prototype names and odd ones, to the uploaded artifact or to nothing. */
function inputsArb(artifactId: string) {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant({ input: artifactId }) },
    { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES).map((name) => ({ input: artifactId, [name]: artifactId })) },
    { weight: 3, arbitrary: fc
      .array(fc.tuple(fc.oneof(fc.constantFrom("input", "input", "reference"), fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ maxLength: 6 })), fc.oneof(fc.constant(artifactId), idArb, oddValueArb)), { maxLength: 3 })
      .map((entries) => {
        const inputs: Record<string, unknown> = {};
        for (const [name, id] of entries) setOwn(inputs, name, id);
        return inputs;
      }) },
    { weight: 1, arbitrary: oddValueArb },
  );
}

/** The load-image inputs a graph reads. */
function inputNames(graph: Graph): string[] {
  return [...new Set(graph.nodes.filter((node) => node.type === "load-image").map((node) => String(node.params.input ?? "input")))].sort();
}

interface CorpusEntry {
  name: string;
  /** What it did before the fix. */
  found: string;
  call: "runs.start" | "pipelines.create";
  /** The body, with own "__proto__" keys kept (JSON.parse makes them) and the placeholders of `expand`. */
  body: unknown;
  code: "BAD_REQUEST" | "NOT_FOUND";
  message: string;
}

const corpus = JSON.parse(readFileSync(new URL("./fixtures/fuzz-corpus.json", import.meta.url), "utf8")) as CorpusEntry[];

/** "$artifact": an uploaded input's id; {"$bigint": "10"}: 10n (superjson carries it); {"$nested": n}: arrays n deep. */
function expand(value: unknown, artifactId: string): unknown {
  if (value === "$artifact") return artifactId;
  if (Array.isArray(value)) return value.map((item) => expand(item, artifactId));
  if (typeof value !== "object" || value === null) return value;
  if (Object.hasOwn(value, "$bigint")) return BigInt((value as { $bigint: string }).$bigint);
  if (Object.hasOwn(value, "$nested")) {
    let nested: unknown = 1;
    for (let i = 0; i < (value as { $nested: number }).$nested; i++) nested = [nested];
    return nested;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) setOwn(out, key, expand(item, artifactId));
  return out;
}

describeOnEachDatabase("API fuzz", () => {
  const api = createCaller(localContext());
  let artifactId: string;
  let pipelineId: string;

  before(async () => {
    await getDb();
    const bytes = await sharp(photoPath("chelsea.png")).extract({ left: 0, top: 0, width: 32, height: 24 }).png().toBuffer();
    const form = new FormData();
    form.set("file", new File([new Uint8Array(bytes)], "tiny.png"));
    artifactId = (await api.artifacts.upload(form)).id;
    pipelineId = (await api.pipelines.create({ name: "fuzz", graph: builtInTemplates[0].graph })).id;
  });

  it("runs.start: every body is queued as validated (inputs and overrides exactly as given) or refused with a 400/404", async () => {
    let cases = 0;
    let accepted = 0;
    const started = performance.now();
    const slugs = builtInTemplates.map((template) => template.id);
    const templateArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...slugs) }, fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ maxLength: 8 }));
    const bodyArb = fc.oneof(
      { weight: 3, arbitrary: fc.record({ template: templateArb, overrides: overridesArb, inputs: inputsArb(artifactId) }) },
      { weight: 3, arbitrary: fc.record({ graph: apiGraphArb, overrides: overridesArb, inputs: inputsArb(artifactId) }) },
      {
        weight: 1,
        arbitrary: fc.record({
          pipelineId: fc.oneof(fc.constant(pipelineId), idArb),
          version: fc.option(fc.integer({ min: -1, max: 3 }), { nil: undefined }),
          overrides: overridesArb,
          inputs: inputsArb(artifactId),
        }),
      },
      { weight: 1, arbitrary: fc.record({ template: fc.constantFrom(...slugs), graph: apiGraphArb, inputs: inputsArb(artifactId) }) },
      { weight: 1, arbitrary: oddValueArb },
    );
    await fc.assert(
      fc.asyncProperty(bodyArb, async (body) => {
        cases++;
        let run;
        try {
          run = await api.runs.start(body as never);
        } catch (error) {
          return assertCleanRefusal(error);
        }
        accepted++;
        const graph = checkGraph(run.graph, nodeRegistry);
        assert.deepEqual(Object.keys(run.inputs).sort(), inputNames(graph));
        const last = new Map(((body as { overrides?: { nodeId: string; param: string; value: unknown }[] }).overrides ?? []).map((o) => [`${o.nodeId}\u0000${o.param}`, o]));
        for (const { nodeId, param, value } of last.values()) {
          const node = graph.nodes.find((candidate) => candidate.id === nodeId)!;
          assert.ok(Object.hasOwn(node.params, param), `override ${nodeId}.${param} accepted but not stored`);
          assert.deepEqual(node.params[param], value);
        }
      }),
      { numRuns: fuzzRuns(200), includeErrorInReport: true },
    );
    console.log(`fuzz: ${cases} cases (runs.start: ${accepted} queued), ${(performance.now() - started).toFixed(0)} ms`);
  });

  it("pipelines.create / save / import: every graph is stored as validated or refused with a 400/404", async () => {
    let cases = 0;
    let stored = 0;
    const started = performance.now();
    const callArb = fc.oneof(
      fc.record({ call: fc.constant("create" as const), body: fc.record({ name: nameArb, graph: apiGraphArb, allowProblems: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: oddValueArb }) }) }),
      fc.record({
        call: fc.constant("save" as const),
        body: fc.record({ id: fc.oneof(fc.constant(pipelineId), idArb), graph: apiGraphArb, message: fc.option(nameArb, { nil: undefined }), allowProblems: fc.boolean() }),
      }),
      fc.record({ call: fc.constant("import" as const), body: fc.record({ name: nameArb, graph: apiGraphArb }) }),
      fc.record({ call: fc.constantFrom("create" as const, "save" as const, "import" as const), body: oddValueArb }),
    );
    await fc.assert(
      fc.asyncProperty(callArb, async ({ call, body }) => {
        cases++;
        let graph: unknown;
        let problems: unknown[] = [];
        try {
          if (call === "create") ({ version: { graph }, problems } = await api.pipelines.create(body as never));
          else if (call === "save") ({ graph, problems } = await api.pipelines.save(body as never));
          else ({ version: { graph } } = await api.pipelines.import(body as never));
        } catch (error) {
          return assertCleanRefusal(error);
        }
        stored++;
        const parsed = parseGraph(graph);
        assert.ok(parsed.graph, "the stored graph fails the schema");
        if (!(body as { allowProblems?: boolean }).allowProblems) assert.doesNotThrow(() => checkGraph(graph, nodeRegistry));
        else if (problems.length) assertNamedProblems(problems as never, "(stored with problems)");
      }),
      { numRuns: fuzzRuns(200), includeErrorInReport: true },
    );
    console.log(`fuzz: ${cases} cases (pipelines: ${stored} stored), ${(performance.now() - started).toFixed(0)} ms`);
  });

  it("replays the corpus: each body is refused with its code and a message naming what is wrong", async () => {
    assert.ok(corpus.length > 0, "the corpus is empty");
    for (const entry of corpus) {
      const body = expand(entry.body, artifactId);
      const call = entry.call === "runs.start" ? api.runs.start(body as never) : api.pipelines.create(body as never);
      await assert.rejects(call, (error: unknown) => {
        assert.ok(error instanceof TRPCError, `${entry.name}: ${String(error)}`);
        assert.equal(error.code, entry.code, `${entry.name}: ${error.message}`);
        assert.match(error.message, new RegExp(entry.message), entry.name);
        return true;
      });
    }
    console.log(`fuzz: ${corpus.length} API corpus entries replayed`);
  });
});
