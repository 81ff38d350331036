// int8 outcomes measured before on each kind of CPU, committed in int8-known.json: a fresh machine does not
// spend minutes learning again that a model's variant is refused on its kind of CPU (realesrgan-x4plus: three
// minutes of calibration for a 31-32 dB refusal). A known refusal is recorded as known, naming where it was
// measured; a model known to pass is made first, and confirmed by its own gates here.
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../platform/paths";
import type { Int8Refusal, ModelManifestEntry } from "./manifest";

export interface KnownInt8Outcome {
  model: string;
  parentSha256: string;
  /** quantizerId() where it was measured: the quantizer, its gates, 7-bit or not. */
  quantizer: string;
  cpuKind: string;
  /** Why it was refused, or absent where it was offered. */
  refused?: string;
  /** The CPU and date it was measured on, for people. */
  measuredOn: string;
}

export const KNOWN_INT8_FILE = path.join(REPO_ROOT, "server", "models", "int8-known.json");

export function readKnownInt8(file = KNOWN_INT8_FILE): KnownInt8Outcome[] {
  try {
    return (JSON.parse(readFileSync(/*turbopackIgnore: true*/ file, "utf8")) as { outcomes: KnownInt8Outcome[] }).outcomes;
  } catch {
    return [];
  }
}

/** What is known of this model file's int8 variant under this quantizer on this kind of CPU. */
export function knownInt8Outcome(entry: ModelManifestEntry, quantizer: string, cpuKind: string, known = readKnownInt8()): KnownInt8Outcome | undefined {
  return known.find((outcome) => outcome.parentSha256 === entry.sha256 && outcome.quantizer === quantizer && outcome.cpuKind === cpuKind);
}

/** The refusal to record without trying, where one is known for this file, quantizer and kind of CPU. */
export function knownRefusal(entry: ModelManifestEntry, quantizer: string, cpuKind: string, known = readKnownInt8()): Int8Refusal | undefined {
  const outcome = knownInt8Outcome(entry, quantizer, cpuKind, known);
  if (!outcome?.refused) return undefined;
  return { quantizer, parentSha256: entry.sha256, cpuKind, refused: outcome.refused, known: outcome.measuredOn };
}
