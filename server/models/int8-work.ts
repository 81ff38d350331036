// Which int8 variants the built-in models want, in which order, and making them one model at a time: in the
// background after the studio is up (int8-background.ts), or in the foreground for `npm run setup -- --int8`
// (the tests). Nothing is made twice for one model file, quantizer and CPU kind, and a refusal known for this
// kind of CPU (int8-known.ts) is recorded without the minutes of work.
import { builtInTemplates } from "../../nodes/templates/index";
import { cpuKind } from "../platform/cpu-features";
import { knownInt8Outcome, type KnownInt8Outcome, knownRefusal, readKnownInt8 } from "./int8-known";
import { chainedModels, keptInt8Status, newInt8Status, quantizerId } from "./int8-variant";
import type { Int8Status, ModelManifest, ModelManifestEntry } from "./manifest";

/**
 * Which models get int8 variants without being asked: $TUDSR_INT8 = `templates` (default: the models the
 * built-in templates run), `all` (every built-in model), or `off`. Any other model gets one on request
 * (`tudsr models int8 <id>`).
 */
export function int8Scope(env: NodeJS.ProcessEnv = process.env): "templates" | "all" | "off" {
  const value = env.TUDSR_INT8 || "templates";
  if (value !== "templates" && value !== "all" && value !== "off") throw new Error(`TUDSR_INT8 must be templates, all or off, got "${value}"`);
  return value;
}

/** The status to keep without work: the previous one while still valid, else a refusal known for this kind of CPU. */
export async function settledInt8Status(entry: ModelManifestEntry, previous: Int8Status | undefined, dir: string, known = readKnownInt8()): Promise<Int8Status | undefined> {
  return (await keptInt8Status(entry, previous, dir)) ?? knownRefusal(entry, quantizerId(), cpuKind(), known);
}

/**
 * The built-in models whose variant $TUDSR_INT8 wants and whose status is not settled (manifest entries carry
 * what settledInt8Status kept): those known to pass on this kind of CPU first, then the templates' models.
 */
export async function int8Backlog(
  manifest: ModelManifest,
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
  known: KnownInt8Outcome[] = readKnownInt8(),
): Promise<ModelManifestEntry[]> {
  const scope = int8Scope(env);
  if (scope === "off") return [];
  const templateModels = new Set(builtInTemplates.flatMap(({ graph }) => graph.nodes.filter((node) => node.type === "generate").map((node) => String(node.params?.model))));
  const backlog: ModelManifestEntry[] = [];
  for (const entry of manifest.models) {
    if (!entry.builtIn || (scope === "templates" && !templateModels.has(entry.id))) continue;
    if (!(await settledInt8Status(entry, entry.int8, dir, known))) backlog.push(entry);
  }
  const rank = (entry: ModelManifestEntry) => (knownInt8Outcome(entry, quantizerId(), cpuKind(), known) ? 0 : templateModels.has(entry.id) ? 1 : 2);
  return backlog.sort((a, b) => rank(a) - rank(b));
}

/** Makes (or refuses) one model's variant, judged feeding the models it may feed (those of `manifest`). */
export function makeInt8Status(entry: ModelManifestEntry, manifest: ModelManifest, dir: string, log: (line: string) => void): Promise<Int8Status> {
  const followers = chainedModels(entry.id).flatMap((id) => manifest.models.filter((model) => model.id === id));
  return newInt8Status(entry, dir, followers, log);
}
