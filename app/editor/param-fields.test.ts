import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import type { AnyNodeDefinition } from "../../nodes/graph/define-node";
import { nodeDefinitions, nodeRegistry } from "../../nodes/index";
import {
  checkParam,
  type Field,
  formatText,
  groupValue,
  humanize,
  isDefaultValue,
  type NumberField,
  paramFields,
  parseJsonText,
  parseNumberText,
  parseStringText,
  randomSeed,
  stepNumber,
  summarizeParams,
  tupleValue,
  withParam,
} from "./param-fields";

const definition = (type: string) => nodeRegistry.get(type)!;
const field = (type: string, path: string): Field => {
  const [key, ...rest] = path.split(".");
  let found = paramFields(definition(type).params).find((f) => f.key === key)!;
  for (const part of rest) found = found.kind === "group" ? found.fields.find((f) => f.key === part)! : found.kind === "tuple" ? found.items[Number(part)] : found;
  assert.ok(found, `${type}.${path} has a field`);
  return found;
};
const numberField = (type: string, path: string) => {
  const found = field(type, path);
  assert.ok(found.kind === "number" || found.kind === "seed", `${type}.${path} is a number`);
  return found as NumberField;
};

/** Every field and nested field, with the node type for messages. */
function* allFields(fields: Field[]): Generator<Field> {
  for (const f of fields) {
    yield f;
    if (f.kind === "group") yield* allFields(f.fields);
    if (f.kind === "tuple") yield* f.items;
  }
}

function assertSensibleNumber(f: NumberField, where: string) {
  assert.ok(f.step > 0 && Number.isFinite(f.step), `${where}: step ${f.step}`);
  if (f.integer) assert.equal(f.step, 1, `${where}: integer step`);
  if (f.slider) assert.ok(f.min !== undefined && f.max !== undefined && f.max > f.min, `${where}: a slider needs both bounds`);
  if (f.min !== undefined && f.max !== undefined) assert.ok(f.max > f.min, `${where}: bounds ${f.min}..${f.max}`);
  if (typeof f.defaultValue === "number") {
    const parsed = parseNumberText(f, formatText(f.defaultValue));
    assert.deepEqual(parsed, { ok: true, value: f.defaultValue }, `${where}: the default reads back from its own text`);
    // The default sits on the step grid, so arrows and the slider can return to it.
    const steps = (f.defaultValue - (f.min ?? 0)) / f.step;
    assert.ok(Math.abs(steps - Math.round(steps)) < 1e-6, `${where}: default ${f.defaultValue} is on the ${f.step} grid from ${f.min}`);
  }
}

test("every param of every node type gets a sensible field, in schema order", () => {
  assert.ok(nodeDefinitions.length >= 9);
  for (const def of nodeDefinitions) {
    const fields = paramFields(def.params);
    assert.deepEqual(
      fields.map((f) => f.key),
      Object.keys(def.params.shape),
      `${def.type}: one field per param, in order`,
    );
    for (const top of fields) {
      assert.ok(top.help.length > 0, `${def.type}.${top.key}: help from .describe()`);
      assert.notEqual(top.defaultValue, undefined, `${def.type}.${top.key}: node params all have defaults`);
      assert.equal(checkParam(def, top.key, top.defaultValue), undefined, `${def.type}.${top.key}: the default is valid`);
      assert.equal(checkParam(def, top.key, undefined), undefined, `${def.type}.${top.key}: left out is valid`);
    }
    for (const f of allFields(fields)) {
      const where = `${def.type}.${f.path.join(".")}`;
      assert.notEqual(f.kind, "json", `${where}: no param of a built-in node should fall back to a JSON text box`);
      assert.match(f.label, /^\S/, `${where}: label`);
      switch (f.kind) {
        case "number":
        case "seed":
          assertSensibleNumber(f, where);
          break;
        case "enum":
          assert.ok(f.options.length > 0, `${where}: options`);
          assert.ok(f.options.includes(f.defaultValue as never), `${where}: default ${String(f.defaultValue)} is an option`);
          break;
        case "boolean":
          assert.equal(typeof f.defaultValue, "boolean", where);
          break;
        case "string":
        case "model":
          assert.deepEqual(parseStringText(f, String(f.defaultValue)), { ok: true, value: f.defaultValue }, where);
          break;
        case "tuple":
          assert.ok(f.items.length >= 2, where);
          assert.deepEqual(tupleValue(f, undefined), f.defaultValue, `${where}: items default to the tuple's default`);
          break;
        case "group":
          assert.ok(f.fields.length > 0, where);
          assert.deepEqual(groupValue(f, undefined), f.defaultValue, `${where}: children default to the group's default`);
          break;
      }
    }
    assert.equal(summarizeParams(def, {}), "", `${def.type}: nothing to summarize with no params`);
    assert.equal(summarizeParams(def, def.params.parse({})), "", `${def.type}: explicit defaults are not summarized`);
  }
});

test("field kinds of the built-in nodes", () => {
  const kinds = Object.fromEntries(nodeDefinitions.map((def) => [def.type, paramFields(def.params).map((f) => `${f.key}:${f.kind}`).join(" ")]));
  assert.equal(kinds["load-image"], "input:string");
  assert.equal(kinds["save-image"], "output:string format:enum quality:number");
  assert.equal(kinds.resize, "by:enum factor:number width:number height:number kernel:enum antialias:boolean");
  assert.equal(kinds.chunk, "tileSize:number overlap:number multiple:number");
  assert.equal(kinds.generate, "model:model batchSize:number precision:enum provider:enum onMissingProvider:enum distribute:enum");
  assert.equal(kinds.stitch, "blend:enum");
  assert.equal(kinds.loop, "mode:enum times:number");
  assert.equal(kinds.metrics, "label:string shave:number");
  assert.match(kinds.degrade, /^scale:number usmSharpen:boolean blurKernelSize:number kernelProb:group sincProb:number blurSigma:tuple /);
  assert.match(kinds.degrade, / mode:enum seed:seed$/);

  const tile = numberField("chunk", "tileSize");
  assert.deepEqual([tile.integer, tile.min, tile.max, tile.step, tile.slider], [true, 16, 4096, 1, false]);
  const quality = numberField("save-image", "quality");
  assert.deepEqual([quality.min, quality.max, quality.slider], [1, 100, true]);
  const factor = numberField("resize", "factor");
  assert.deepEqual([factor.integer, factor.min, factor.max, factor.step, factor.slider], [false, 0.01, 16, 0.01, true]);
  const seed = numberField("degrade", "seed");
  assert.deepEqual([seed.kind, seed.min, seed.max, seed.slider], ["seed", 0, 2 ** 32 - 1, false]);

  const kernelProb = field("degrade", "kernelProb");
  assert.ok(kernelProb.kind === "group");
  assert.deepEqual(kernelProb.fields.map((f) => `${f.label}=${String(f.defaultValue)}`), [
    "Iso=0.45",
    "Aniso=0.25",
    "Generalized iso=0.12",
    "Generalized aniso=0.03",
    "Plateau iso=0.12",
    "Plateau aniso=0.03",
  ]);
  const blurSigma = field("degrade", "blurSigma");
  assert.ok(blurSigma.kind === "tuple");
  assert.deepEqual(blurSigma.items.map((item) => [item.label, item.min, item.max, item.defaultValue]), [
    ["low", 0.05, 20, 0.2],
    ["high", 0.05, 20, 3],
  ]);
  const resizeProb = field("degrade", "resizeProb");
  assert.ok(resizeProb.kind === "tuple");
  assert.deepEqual(resizeProb.items.map((item) => item.label), ["up", "down", "keep"], "names from the description's [up, down, keep]");
  // "(down draws from [lo, 1], ...)" is not a list of names.
  const resizeRange = field("degrade", "resizeRange");
  assert.ok(resizeRange.kind === "tuple");
  assert.deepEqual(resizeRange.items.map((item) => item.label), ["low", "high"]);
  const poisson = field("degrade", "poissonScaleRange");
  assert.ok(poisson.kind === "tuple");
  assert.deepEqual(poisson.items.map((item) => item.step), [0.01, 0.01], "both ends of a range step alike");
});

test("labels are humanized param names", () => {
  assert.equal(humanize("tileSize"), "Tile size");
  assert.equal(humanize("onMissingProvider"), "On missing provider");
  assert.equal(humanize("usmSharpen"), "USM sharpen");
  assert.equal(humanize("blurSigma2"), "Blur sigma 2");
  assert.equal(humanize("generalized_aniso"), "Generalized aniso");
  assert.equal(humanize("jpegRange"), "JPEG range");
});

test("typed numbers: bounds, whole numbers and non-numbers are named, valid text parses", () => {
  const tile = numberField("chunk", "tileSize");
  assert.deepEqual(parseNumberText(tile, "8"), { ok: false, error: "must be at least 16" });
  assert.deepEqual(parseNumberText(tile, "5000"), { ok: false, error: "must be at most 4096" });
  assert.deepEqual(parseNumberText(tile, "12.5"), { ok: false, error: "must be a whole number" });
  assert.deepEqual(parseNumberText(tile, "12px"), { ok: false, error: '"12px" is not a number or auto' });
  assert.deepEqual(parseNumberText(tile, "0x20"), { ok: false, error: '"0x20" is not a number or auto' });
  // "auto | number": the word is a value of its own, the number keeps its bounds.
  assert.equal(tile.keyword, "auto");
  assert.deepEqual(parseNumberText(tile, " Auto "), { ok: true, value: "auto" });
  assert.deepEqual(parseNumberText(numberField("resize", "factor"), "auto"), { ok: false, error: '"auto" is not a number' });
  assert.deepEqual(parseNumberText(tile, " "), { ok: false, error: "enter a number" });
  assert.deepEqual(parseNumberText(tile, " 256 "), { ok: true, value: 256 });
  const factor = numberField("resize", "factor");
  assert.deepEqual(parseNumberText(factor, "0,5"), { ok: true, value: 0.5 });
  assert.deepEqual(parseNumberText(factor, ".25"), { ok: true, value: 0.25 });
  assert.deepEqual(parseNumberText(factor, "0"), { ok: false, error: "must be at least 0.01" });
  assert.deepEqual(parseNumberText(factor, "1e400"), { ok: false, error: '"1e400" is too large' });
});

test("the schema judges what the field checks cannot: refinements and patterns", () => {
  const degrade = definition("degrade");
  assert.equal(checkParam(degrade, "blurKernelSize", 21), undefined);
  assert.equal(checkParam(degrade, "blurKernelSize", 22), "must be odd");
  assert.equal(checkParam(degrade, "blurSigma", [3, 1]), "the lower bound must not exceed the upper bound");
  assert.equal(checkParam(degrade, "blurSigma", [0.5, 2]), undefined);
  const zeros = { iso: 0, aniso: 0, generalized_iso: 0, generalized_aniso: 0, plateau_iso: 0, plateau_aniso: 0 };
  assert.equal(checkParam(degrade, "kernelProb", zeros), "at least one kernel weight must be positive");
  assert.equal(checkParam(definition("load-image"), "input", "a b"), "input names use letters, digits, '_' and '-'");
  assert.equal(checkParam(definition("load-image"), "nope", 1), '"nope" is not a param of load-image');
  const label = field("metrics", "label");
  assert.ok(label.kind === "string");
  assert.deepEqual(parseStringText(label, ""), { ok: false, error: "must not be empty" });
  assert.deepEqual(parseStringText(label, "x".repeat(81)), { ok: false, error: "must be at most 80 characters" });
});

test("defaults: left-out and equal values count as default; editing one child keeps the rest of a group", () => {
  const tile = field("chunk", "tileSize");
  assert.equal(isDefaultValue(tile, undefined), true);
  assert.equal(isDefaultValue(tile, "auto"), true);
  assert.equal(isDefaultValue(tile, 128), false);
  const kernelProb = field("degrade", "kernelProb");
  assert.ok(kernelProb.kind === "group");
  assert.equal(isDefaultValue(kernelProb, { ...(kernelProb.defaultValue as object) }), true);
  const edited = withParam(groupValue(kernelProb, undefined), "iso", 1);
  assert.deepEqual(edited, { iso: 1, aniso: 0.25, generalized_iso: 0.12, generalized_aniso: 0.03, plateau_iso: 0.12, plateau_aniso: 0.03 });
  assert.equal(checkParam(definition("degrade"), "kernelProb", edited), undefined);
  assert.deepEqual(withParam({ a: 1, b: 2 }, "a", undefined), { b: 2 });
  assert.deepEqual(withParam({ a: 1 }, "b", 3), { a: 1, b: 3 });
});

test("arrow stepping stays on the step grid and inside the bounds", () => {
  assert.equal(stepNumber(numberField("save-image", "quality"), 100, 1, false), 100);
  assert.equal(stepNumber(numberField("save-image", "quality"), 92, -1, true), 82);
  assert.equal(stepNumber(numberField("degrade", "sincProb"), 0.1, 1, false), 0.11);
  assert.equal(stepNumber(numberField("degrade", "sincProb"), 0.2, 1, false), 0.21);
  assert.equal(stepNumber(numberField("degrade", "sincProb"), 0.05, -1, true), 0);
});

test("random seeds cover the seed's whole range", () => {
  const seed = numberField("degrade", "seed");
  assert.equal(randomSeed(seed, () => 0), 0);
  assert.equal(randomSeed(seed, () => 0.9999999999), 2 ** 32 - 1);
  const value = randomSeed(seed);
  assert.ok(Number.isInteger(value) && value >= 0 && value <= 2 ** 32 - 1);
});

test("summaries list the non-default params on one line", () => {
  assert.equal(summarizeParams(definition("chunk"), { tileSize: 256, overlap: 32, multiple: 1 }), "tile size 256 · overlap 32");
  assert.equal(summarizeParams(definition("resize"), { kernel: "lanczos", antialias: false }), "kernel lanczos · antialias off");
  assert.equal(summarizeParams(definition("generate"), { model: "esrgan-slim-x4", batchSize: 4 }), "model esrgan-slim-x4 · batch size 4");
  const degradeDefaults = definition("degrade").params.parse({}) as { kernelProb: object };
  assert.equal(
    summarizeParams(definition("degrade"), { mode: "realesrgan", seed: 7, blurSigma: [0.5, 2], resizeProb: [0.2, 0.5, 0.3], kernelProb: { ...degradeDefaults.kernelProb, iso: 1 } }),
    "kernel prob iso 1 · blur sigma 0.5–2 · resize prob 0.2/0.5/0.3 · mode realesrgan · seed 7",
  );
  assert.equal(summarizeParams(definition("resize"), { factor: 1 / 3 }), "factor 0.3333");
});

test("schemas beyond the built-in nodes: optional, nullable, unbounded, exclusive, literals, and a JSON fallback", () => {
  const schema = z.object({
    count: z.number().int(),
    ratio: z.number().positive().max(1),
    limit: z.number().nullable().default(null),
    note: z.string().optional(),
    side: z.union([z.literal("left"), z.literal("right")]),
    flag: z.boolean().optional(),
    level: z.enum(["low", "high"]).nullable(),
    seed: z.int().min(0).max(9),
    extra: z.record(z.string(), z.number()),
  });
  const testNode = { type: "test", params: schema } as unknown as AnyNodeDefinition;
  const fields = Object.fromEntries(paramFields(schema).map((f) => [f.key, f]));

  const count = fields.count as NumberField;
  assert.deepEqual([count.kind, count.integer, count.min, count.max, count.slider], ["number", true, undefined, undefined, false]);
  const ratio = fields.ratio as NumberField;
  assert.deepEqual(parseNumberText(ratio, "0"), { ok: false, error: "must be more than 0" });
  assert.deepEqual(parseNumberText(ratio, "1"), { ok: true, value: 1 });
  assert.equal(stepNumber(ratio, 0.01, -1, false), 0, "exclusive bounds are not clamped; the check names them");
  const limit = fields.limit as NumberField;
  assert.deepEqual([limit.nullable, limit.defaultValue, limit.optional], [true, null, false]);
  assert.deepEqual(parseNumberText(limit, ""), { ok: true, value: null });
  assert.equal(isDefaultValue(limit, null), true);
  const note = fields.note;
  assert.ok(note.kind === "string" && note.optional);
  assert.deepEqual(parseStringText(note, ""), { ok: true, value: undefined });
  assert.equal(checkParam(testNode, "note", undefined), undefined);
  assert.deepEqual([fields.side.kind, (fields.side as { options: unknown[] }).options], ["enum", ["left", "right"]]);
  assert.deepEqual([fields.flag.kind, (fields.flag as { options: unknown[] }).options, fields.flag.optional], ["enum", [true, false], true]);
  assert.deepEqual([fields.level.kind, fields.level.nullable, (fields.level as { options: unknown[] }).options], ["enum", true, ["low", "high"]]);
  assert.equal(fields.seed.kind, "seed");
  assert.equal(randomSeed(fields.seed as NumberField, () => 0.99), 9);
  const extra = fields.extra;
  assert.ok(extra.kind === "json");
  assert.deepEqual(parseJsonText(extra, '{"a": 1}'), { ok: true, value: { a: 1 } });
  assert.match((parseJsonText(extra, "{a") as { error: string }).error, /^not valid JSON: /);
  assert.match(checkParam(testNode, "extra", { a: "x" })!, /^a: /);
});
