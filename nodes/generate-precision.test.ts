// Precision `auto` as a prepared run decides it: the int8 variant where one is offered, except where the node's
// output feeds another model and the variant was judged to cost quality there (x8-twice's first stage, a stage
// repeated by a loop). fp32 and int8 asked for are kept as asked.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ModelHost } from "./graph/host";
import type { ModelInfo } from "./graph/models";
import { decisionOf, prepareGraph } from "./graph/prepared-graph";
import type { ModelChoice } from "./generate";
import { nodeRegistry } from "./index";
import { findTemplate } from "./templates/index";

function hostOffering(chained: boolean): ModelHost {
  return {
    async describeModel(id: string): Promise<ModelInfo> {
      const int8 = { offered: true as const, psnrDb: 45, speedup: 1.8, tile: 128, fp32Ms: 180, int8Ms: 100, lossDb: 0.01, chained };
      return { id, title: id, scale: id.endsWith("x2") ? 2 : 4, layout: "NCHW", valueRange: [0, 1], sizeMultiple: 1, speedClass: "fast", int8 };
    },
    async chooseProvider(provider) {
      return { asked: provider, used: provider };
    },
  };
}

async function precisions(template: string, chained: boolean, overrides: { nodeId: string; param: string; value: unknown }[] = []): Promise<Record<string, string>> {
  const prepared = await prepareGraph(findTemplate(template)!.graph, { registry: nodeRegistry, host: hostOffering(chained), overrides });
  const generates = prepared.graph.nodes.filter((node) => node.type === "generate");
  return Object.fromEntries(generates.map((node) => [node.id, (decisionOf(prepared, node.id) as ModelChoice).precision]));
}

test("auto runs int8 on a stage that feeds another model only where the variant keeps its quality there", async () => {
  assert.deepEqual(await precisions("x8-twice", false), { generate1: "fp32", generate2: "int8" });
  assert.deepEqual(await precisions("x8-twice", true), { generate1: "int8", generate2: "int8" });
  assert.deepEqual(await precisions("x4-chunked", false), { generate: "int8" });
});

test("a generate node inside a repeating loop feeds itself: auto keeps it fp32 unless the variant holds chained", async () => {
  assert.deepEqual(await precisions("x16-loop", false), { generate: "fp32" });
  assert.deepEqual(await precisions("x16-loop", true), { generate: "int8" });
});

test("int8 asked for is kept, chained or not; fp32 asked for is kept", async () => {
  const int8 = [{ nodeId: "generate1", param: "precision", value: "int8" }];
  assert.deepEqual(await precisions("x8-twice", false, int8), { generate1: "int8", generate2: "int8" });
  const fp32 = [{ nodeId: "generate2", param: "precision", value: "fp32" }];
  assert.deepEqual(await precisions("x8-twice", true, fp32), { generate1: "int8", generate2: "fp32" });
});
