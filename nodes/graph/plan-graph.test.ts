import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeHost } from "../../fixtures/fake-host";
import { planOf, runGraph } from "../../fixtures/run-graph";
import type { ModelCost } from "../image/tile-plan";
import { createImage } from "../image/types";
import { nodeRegistry } from "../index";
import { builtInTemplates } from "../templates/index";
import type { OutputValues } from "./define-node";
import { NodeRunError } from "./engine";
import type { PlanHost } from "./host";
import type { ExecutionProvider, Precision } from "./models";
import type { ImageShape, PlanRect } from "./plan";
import type { Graph } from "./schema";
import { isTileSet } from "./values";

// A model whose measured cost lets 96 px tiles fit the budget: auto tiles cut a 256 px image into several.
const COST: ModelCost = { baseBytes: 1e6, bytesPerInputPixel: 1000, borderPx: 2, msPerInputMegapixel: 1000 };
const BUDGET = COST.baseBytes + COST.bytesPerInputPixel * 96 * 96;
/** What the first model session of a process adds (ONNX Runtime itself). */
const RUNTIME_BYTES = 50e6;

class MeasuredFakeHost extends FakeHost {
  async modelCost(): Promise<ModelCost> {
    return COST;
  }
  memoryBudgetBytes(): number {
    return BUDGET;
  }
}

class FakePlanHost implements PlanHost {
  private readonly models = new FakeHost();
  readonly tiles: { model: string; tile: ImageShape }[] = [];
  constructor(
    private readonly sizes: Record<string, ImageShape>,
    private readonly runtimeBytes = RUNTIME_BYTES,
  ) {}
  async inputSize(name: string) {
    if (!Object.hasOwn(this.sizes, name)) throw new Error(`the run has no input named "${name}"`);
    return this.sizes[name];
  }
  describeModel(id: string) {
    return this.models.describeModel(id);
  }
  async modelCost(_id: string, _precision: Precision, _provider: ExecutionProvider) {
    return COST;
  }
  memoryBudgetBytes() {
    return BUDGET;
  }
  async chooseProvider(provider: ExecutionProvider) {
    return { asked: provider, used: provider };
  }
  async predictTile(model: { id: string }, tile: ImageShape, batch: number) {
    this.tiles.push({ model: model.id, tile });
    const bytes = COST.baseBytes + COST.bytesPerInputPixel * tile.width * tile.height * batch;
    return { ms: (tile.width * tile.height) / 1000, startMs: 5, bytes, processBytes: this.runtimeBytes, basis: "calibration" as const };
  }
  async predictNodeMs() {
    return 0;
  }
}

function template(id: string, models: Record<string, string>): Graph {
  const graph = structuredClone(builtInTemplates.find((t) => t.id === id)!.graph);
  for (const node of graph.nodes) if (node.type === "generate") node.params.model = models[node.id];
  return graph;
}

/** What the chunk nodes really cut, per node and pass, from a real run on the fake host. */
async function cutRects(graph: Graph, width: number, height: number): Promise<Map<string, PlanRect[]>> {
  const cut = new Map<string, PlanRect[]>();
  const onOutputs = (nodeId: string, outputs: OutputValues, iteration?: number) => {
    const tiles = outputs.tiles;
    if (graph.nodes.find((node) => node.id === nodeId)?.type === "chunk" && isTileSet(tiles)) {
      cut.set(`${nodeId}#${iteration ?? ""}`, tiles.tiles.map(({ x, y, width, height }) => ({ x, y, width, height })));
    }
  };
  await runGraph(graph, { registry: nodeRegistry, host: new MeasuredFakeHost({ inputs: { input: createImage(width, height) } }), onOutputs });
  return cut;
}

function plannedRects(plan: Awaited<ReturnType<typeof planOf>>): Map<string, PlanRect[]> {
  return new Map(plan.nodes.filter((node) => node.detail?.kind === "chunk").map((node) => [`${node.nodeId}#${node.iteration ?? ""}`, (node.detail as { rects: PlanRect[] }).rects]));
}

test("x8-twice: sizes through both stages, and every tile rect is what chunk really cuts", async () => {
  const graph = template("x8-twice", { generate1: "nearest-x4", generate2: "nearest-x2" });
  const plan = await planOf(graph, nodeRegistry, new FakePlanHost({ input: { width: 200, height: 150 } }));
  const output = (id: string) => plan.nodes.find((node) => node.nodeId === id)!.outputs.image;
  assert.deepEqual(output("stitch1"), { kind: "image", width: 800, height: 600 });
  assert.deepEqual(output("stitch2"), { kind: "image", width: 1600, height: 1200 });
  const generate1 = plan.nodes.find((node) => node.nodeId === "generate1")!.detail!;
  assert.equal(generate1.kind, "generate");
  assert.ok(generate1.kind === "generate" && generate1.tiles > 1 && generate1.modelPixelsPerOutputPixel > 1, "auto tiles under the budget overlap");
  assert.deepEqual(plannedRects(plan), await cutRects(graph, 200, 150));
  assert.deepEqual(plan.inputs, { input: { width: 200, height: 150 } });
  assert.ok(plan.totalMs > 0 && plan.peakBytes > 1600 * 1200 * 12, "the final image is held at the peak");
});

test("x16-loop: the body is planned once per pass, each pass on the previous one's output", async () => {
  const graph = template("x16-loop", { generate: "nearest-x4" });
  const plan = await planOf(graph, nodeRegistry, new FakePlanHost({ input: { width: 40, height: 30 } }));
  const stitches = plan.nodes.filter((node) => node.nodeId === "stitch");
  assert.deepEqual(stitches.map((node) => [node.iteration, node.outputs.image]), [
    [0, { kind: "image", width: 160, height: 120 }],
    [1, { kind: "image", width: 640, height: 480 }],
  ]);
  assert.deepEqual(plan.nodes.find((node) => node.nodeId === "loop")!.outputs.image, { kind: "image", width: 640, height: 480 });
  assert.deepEqual(plannedRects(plan), await cutRects(graph, 40, 30));
});

test("fixed tiles: the count and rects equal the cut, and the prediction adds up every tile", async () => {
  const graph = template("x4-chunked", { generate: "nearest-x2" });
  graph.nodes.find((node) => node.id === "chunk")!.params = { tileSize: 64, overlap: 8 };
  const host = new FakePlanHost({ input: { width: 300, height: 200 } });
  const plan = await planOf(graph, nodeRegistry, host);
  const rects = plannedRects(plan).get("chunk#")!;
  assert.deepEqual(plannedRects(plan), await cutRects(graph, 300, 200));
  assert.equal(rects.length, 6 * 4);
  const generate = plan.nodes.find((node) => node.nodeId === "generate")!;
  assert.equal(generate.ms, 5 + (24 * 64 * 64) / 1000, "the session start, then every tile");
  assert.deepEqual(host.tiles[0], { model: "nearest-x2", tile: { width: 64, height: 64 } });
});

test("an unknown model or a missing input is an error naming the node", async () => {
  const fixed = template("x4-chunked", { generate: "no-such-model" });
  fixed.nodes.find((node) => node.id === "chunk")!.params = { tileSize: 64, overlap: 8 };
  await assert.rejects(planOf(fixed, nodeRegistry, new FakePlanHost({ input: { width: 64, height: 64 } })), (error: Error) => {
    assert.ok(error instanceof NodeRunError);
    assert.match(error.message, /^node "generate" \(generate\): unknown model "no-such-model"/);
    return true;
  });
  await assert.rejects(planOf(template("x4-chunked", { generate: "nearest-x2" }), nodeRegistry, new FakePlanHost({})), /node "load" \(load-image\): the run has no input named "input"/);
});

test("peak memory: ONNX Runtime is counted once however many models the graph runs", async () => {
  const peakWith = async (runtimeBytes: number) => {
    const graph = template("x8-twice", { generate1: "nearest-x4", generate2: "nearest-x2" });
    for (const node of graph.nodes) if (node.type === "chunk") node.params = { tileSize: 64, overlap: 8 };
    return (await planOf(graph, nodeRegistry, new FakePlanHost({ input: { width: 64, height: 64 } }, runtimeBytes))).peakBytes;
  };
  assert.equal((await peakWith(RUNTIME_BYTES + 1e6)) - (await peakWith(RUNTIME_BYTES)), 1e6);
});
