import assert from "node:assert/strict";
import { it } from "node:test";
import type { Graph } from "../../nodes/graph/schema";
import { builtInTemplates } from "../../nodes/templates/index";
import { groupModelsByFit, type ModelFacts, modelFit, templateModels, UNLABELLED_GROUP } from "./model-fit";

const MODELS: ModelFacts[] = [
  { id: "esrgan-thick-x4", builtIn: true, content: "photo", degradation: "bicubic" },
  { id: "psnr-small-x2", builtIn: true, content: "photo", degradation: "bicubic" },
  { id: "realesrgan-x4plus", builtIn: true, content: "photo", degradation: "real-world" },
  { id: "realesrgan-x4plus-anime", builtIn: true, content: "art", degradation: "real-world" },
  { id: "waifu2x-cunet-noise0-x2", builtIn: true, content: "art", degradation: "bicubic" },
  { id: "upload-mine", builtIn: false, content: "unknown", degradation: "unknown" },
  { id: "older-upload", builtIn: false },
  { id: "half-known", builtIn: false, content: "photo", degradation: "unknown" },
];

it("says what a model suits in a user's words", () => {
  assert.equal(modelFit({ id: "m", content: "photo", degradation: "real-world" }).label, "photo · real-world");
  assert.equal(modelFit({ id: "m", content: "art", degradation: "real-world" }).label, "art · real-world");
  assert.equal(modelFit({ id: "m", content: "photo", degradation: "bicubic" }).label, "photo · clean");
  assert.equal(modelFit({ id: "m", content: "photo", degradation: "unknown" }).label, "photo");
  assert.equal(modelFit({ id: "m", content: "unknown", degradation: "unknown" }).label, undefined);
  assert.equal(modelFit(undefined).label, undefined);
  assert.match(modelFit({ id: "m", content: "art", degradation: "real-world" }).description, /art .*real-world inputs \(blur, noise, JPEG\)/);
  assert.match(modelFit({ id: "m", content: "photo", degradation: "bicubic" }).description, /photos.*clean inputs \(bicubic downscales\)/);
  assert.match(modelFit(undefined).description, /not stated/);
});

it("groups a picker's models by what they suit, real-world first, unlabelled last, keeping the list's order", () => {
  const groups = groupModelsByFit(MODELS).map((group) => [group.label, group.models.map((model) => model.id)]);
  assert.deepEqual(groups, [
    ["photo · real-world", ["realesrgan-x4plus"]],
    ["art · real-world", ["realesrgan-x4plus-anime"]],
    ["photo · clean", ["esrgan-thick-x4", "psnr-small-x2"]],
    ["art · clean", ["waifu2x-cunet-noise0-x2"]],
    ["photo", ["half-known"]],
    [UNLABELLED_GROUP, ["upload-mine", "older-upload"]],
  ]);
  assert.deepEqual(groupModelsByFit([]), []);
});

it("reads a template's models off its generate nodes (defaults and loop bodies included), each once", () => {
  const of = (id: string) => templateModels(builtInTemplates.find((template) => template.id === id)!.graph, MODELS);
  const summary = (id: string) => of(id).map((entry) => `${entry.id}: ${entry.fit.label ?? "?"}`);
  assert.deepEqual(summary("x4-real"), ["realesrgan-x4plus: photo · real-world"]);
  assert.deepEqual(summary("x4-chunked"), ["esrgan-thick-x4: photo · clean"]);
  assert.deepEqual(summary("x8-twice-real"), ["realesrgan-x4plus: photo · real-world", "psnr-small-x2: photo · clean"]);
  assert.deepEqual(summary("eval-real-x4"), ["realesrgan-x4plus: photo · real-world", "esrgan-thick-x4: photo · clean"]);
  assert.deepEqual(of("x16-loop").map((entry) => entry.nodeIds), [["generate"]]);
  // Every built-in template uses at least one model, and all of them are ones the list above labels.
  for (const { id, graph } of builtInTemplates) {
    const used = templateModels(graph, MODELS);
    assert.ok(used.length > 0, id);
  }

  const graph: Graph = {
    version: 1,
    nodes: [
      { id: "load", type: "load-image", params: {}, position: { x: 0, y: 0 } },
      { id: "a", type: "generate", params: {}, position: { x: 0, y: 0 } },
      { id: "b", type: "generate", params: { model: "esrgan-thick-x4" }, position: { x: 0, y: 0 } },
      { id: "c", type: "generate", params: { model: "not-installed" }, position: { x: 0, y: 0 } },
    ],
    edges: [],
  };
  const used = templateModels(graph, MODELS);
  assert.deepEqual(
    used.map((entry) => [entry.id, entry.nodeIds, entry.model?.id, entry.fit.label]),
    [
      ["esrgan-thick-x4", ["a", "b"], "esrgan-thick-x4", "photo · clean"],
      ["not-installed", ["c"], undefined, undefined],
    ],
  );
  // The models list not loaded yet: the ids are known, what they suit is not.
  assert.deepEqual(templateModels(graph, undefined).map((entry) => entry.fit.label), [undefined, undefined]);
});
