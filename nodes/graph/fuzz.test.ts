// Property-based tests (fast-check) of validation and the engine on mutated templates, and the replay of the
// corpus of inputs that once got through or crashed (fixtures/fuzz-corpus.json beside this file).
import fc from "fast-check";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { assertNamedProblems, fuzzRuns, growthBound, mildMutationArb, mutatedGraphArb, PROTOTYPE_NAMES, StubHost, tinyImage } from "../../fixtures/fuzz-graphs";
import { runGraph } from "../../fixtures/run-graph";
import { nodeRegistry } from "../index";
import { MemoryNodeCache } from "./cache";
import { inputPorts, outputPorts } from "./define-node";
import { NodeRunError } from "./engine";
import type { Graph } from "./schema";
import { checkGraph, type GraphProblem, GraphValidationError, parseGraph, resolveParams, validateGraph } from "./validate";

/** Every problem of a graph, schema and semantic; throws only if validation itself crashes. */
function problemsOf(input: unknown): { graph?: Graph; problems: GraphProblem[] } {
  const parsed = parseGraph(input);
  if (!parsed.graph) return parsed;
  return { graph: parsed.graph, problems: validateGraph(parsed.graph, nodeRegistry) };
}

/** What validation accepted really is what the registry knows: own names only, no Object.prototype members. */
function assertOnlyKnownNames(graph: Graph): void {
  const ids = new Set(graph.nodes.map((node) => node.id));
  for (const node of graph.nodes) {
    const definition = nodeRegistry.get(node.type);
    assert.ok(definition, `node "${node.id}": type "${node.type}" accepted`);
    for (const key of Reflect.ownKeys(node.params)) {
      assert.ok(typeof key === "string" && Object.hasOwn(definition.params.shape, key), `node "${node.id}": param ${String(key)} accepted`);
    }
    if (node.parentId !== undefined) assert.ok(ids.has(node.parentId), `node "${node.id}": parent "${node.parentId}" accepted`);
  }
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  for (const edge of graph.edges) {
    const source = byId.get(edge.source)!;
    const target = byId.get(edge.target)!;
    const out = outputPorts(nodeRegistry.get(source.type)!, resolveParams(nodeRegistry.get(source.type)!, source.params));
    const into = inputPorts(nodeRegistry.get(target.type)!, resolveParams(nodeRegistry.get(target.type)!, target.params));
    assert.ok(Object.hasOwn(out, edge.sourceHandle), `edge "${edge.id}": output "${edge.sourceHandle}" accepted`);
    assert.ok(Object.hasOwn(into, edge.targetHandle), `edge "${edge.id}": input "${edge.targetHandle}" accepted`);
    assert.equal(out[edge.sourceHandle].type, into[edge.targetHandle].type);
  }
}

test("validation never crashes on mutated templates, names every problem, and accepts only known names", () => {
  let cases = 0;
  let refused = 0;
  const started = performance.now();
  fc.assert(
    fc.property(mutatedGraphArb(), ({ graph: input }) => {
      cases++;
      const { graph, problems } = problemsOf(input);
      if (problems.length > 0) {
        refused++;
        assertNamedProblems(problems, "(the counterexample)");
        assert.throws(() => checkGraph(input, nodeRegistry), (error: unknown) => error instanceof GraphValidationError && error.problems.length === problems.length);
      } else {
        assertOnlyKnownNames(graph!);
        assert.doesNotThrow(() => checkGraph(input, nodeRegistry));
      }
    }),
    { numRuns: fuzzRuns(600), includeErrorInReport: true },
  );
  console.log(`fuzz: ${cases} cases (validation: ${refused} refused), ${(performance.now() - started).toFixed(0)} ms`);
});

/** The run's input names: usually the templates' own ("input"), sometimes missing, sometimes prototype names. */
const inputNamesArb = fc.oneof(
  { weight: 3, arbitrary: fc.subarray(["constructor", "toString", "hasOwnProperty"]).map((extra) => ["input", ...extra]) },
  { weight: 1, arbitrary: fc.subarray(["input", "reference", "constructor", "toString", "__proto__", "hasOwnProperty"]) },
);

test("the engine refuses what validation refuses, and fails what it runs only with the failing node's id", async () => {
  let cases = 0;
  let ran = 0;
  let failedInNode = 0;
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(mutatedGraphArb(mildMutationArb, { minLength: 0, maxLength: 3 }), inputNamesArb, fc.boolean(), async ({ graph: input }, names, cached) => {
      cases++;
      const { graph, problems } = problemsOf(input);
      const host = new StubHost(new Map(names.map((name) => [name, tinyImage()])));
      const options = { registry: nodeRegistry, host, cache: cached ? new MemoryNodeCache() : undefined };
      if (problems.length > 0) {
        await assert.rejects(runGraph(input, options), GraphValidationError);
        return;
      }
      if (growthBound(graph!) > 16) return; // valid but too big to run in a unit test (a resize to 16384 px...)
      ran++;
      try {
        await runGraph(input, options);
      } catch (error) {
        failedInNode++;
        assert.ok(error instanceof NodeRunError, `not a node failure: ${String(error)}`);
        assert.ok(graph!.nodes.some((node) => node.id === error.nodeId), `unknown node id "${error.nodeId}"`);
        assert.ok(error.message.length > `node "${error.nodeId}" (${error.nodeType}): `.length, error.message);
      }
    }),
    { numRuns: fuzzRuns(250), includeErrorInReport: true },
  );
  console.log(`fuzz: ${cases} cases (engine: ${ran} valid graphs run, ${failedInNode} failed in a named node), ${(performance.now() - started).toFixed(0)} ms`);
});

interface CorpusEntry {
  name: string;
  /** What it did before the fix. */
  found: string;
  graph: unknown;
  /** Own params set with Object.defineProperty after JSON parsing (a "__proto__" key a JSON file keeps anyway). */
  inputs?: string[];
  cache?: boolean;
  /** Validation must refuse it with a problem on this node or edge whose message matches. */
  problem?: { nodeId?: string; edgeId?: string; message: string };
  /** Or it validates, and the run fails in this node with a message matching. */
  nodeFailure?: { nodeId: string; message: string };
}

const corpus = JSON.parse(readFileSync(new URL("./fixtures/fuzz-corpus.json", import.meta.url), "utf8")) as CorpusEntry[];

test("every corpus entry (inputs that once got through or crashed) is refused with a named reason", async () => {
  assert.ok(corpus.length > 0, "the corpus is empty");
  for (const entry of corpus) {
    const { problems } = problemsOf(entry.graph);
    if (entry.problem) {
      const { nodeId, edgeId, message } = entry.problem;
      assertNamedProblems(problems, entry.name);
      assert.ok(
        problems.some((p) => p.nodeId === nodeId && p.edgeId === edgeId && new RegExp(message).test(p.message)),
        `${entry.name}: expected ${JSON.stringify(entry.problem)} in ${JSON.stringify(problems)}`,
      );
      await assert.rejects(runGraph(entry.graph, { registry: nodeRegistry, host: new StubHost(new Map()) }), GraphValidationError, entry.name);
    }
    if (entry.nodeFailure) {
      assert.deepEqual(problems, [], entry.name);
      const host = new StubHost(new Map((entry.inputs ?? []).map((name) => [name, tinyImage()])));
      await assert.rejects(
        runGraph(entry.graph, { registry: nodeRegistry, host, cache: entry.cache ? new MemoryNodeCache() : undefined }),
        (error: unknown) =>
          error instanceof NodeRunError && error.nodeId === entry.nodeFailure!.nodeId && new RegExp(entry.nodeFailure!.message).test(error.message),
        entry.name,
      );
    }
  }
  console.log(`fuzz: ${corpus.length} corpus entries replayed`);
});

test("prototype names as ids, input names and params: refused where they are unknown, run where they are only names", async () => {
  for (const name of PROTOTYPE_NAMES) {
    const graph = {
      version: 1,
      nodes: [
        { id: name, type: "load-image", params: {} },
        { id: `${name}-save`, type: "save-image", params: {} },
      ],
      edges: [{ id: name, source: name, sourceHandle: "image", target: `${name}-save`, targetHandle: "image" }],
    };
    assert.deepEqual(problemsOf(graph).problems, [], name);
    const host = new StubHost(new Map([["input", tinyImage()]]));
    await runGraph(graph, { registry: nodeRegistry, host, cache: new MemoryNodeCache() });
    assert.deepEqual([...host.saved.keys()], ["output"]);
  }
});
