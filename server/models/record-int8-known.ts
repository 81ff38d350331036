// `npm run int8:record`: adds the int8 outcomes of this machine's built-in models (measured here, by
// `npm run setup -- --int8` or the studio's background work) to int8-known.json, for this kind of CPU, so other
// machines of the kind skip the refusals. Commit the file after.
import { writeFileSync } from "node:fs";
import { cpuInfo } from "../platform/cpu-features";
import { KNOWN_INT8_FILE, type KnownInt8Outcome, readKnownInt8 } from "./int8-known";
import { readModelManifest } from "./manifest";

const known = readKnownInt8();
const manifest = await readModelManifest();
const measuredOn = `${cpuInfo().model}, ${new Date().toISOString().slice(0, 10)}`;
let added = 0;
for (const entry of manifest.models) {
  const status = entry.int8;
  // Only what was measured here, by the current gates (a status carries its CPU kind since they do).
  if (!entry.builtIn || !status?.cpuKind || ("known" in status && status.known)) continue;
  const outcome: KnownInt8Outcome = {
    model: entry.id,
    parentSha256: entry.sha256,
    quantizer: status.quantizer,
    cpuKind: status.cpuKind,
    ...("refused" in status ? { refused: status.refused } : {}),
    measuredOn,
  };
  const same = (other: KnownInt8Outcome) => other.parentSha256 === outcome.parentSha256 && other.quantizer === outcome.quantizer && other.cpuKind === outcome.cpuKind;
  const index = known.findIndex(same);
  if (index >= 0) known[index] = outcome;
  else known.push(outcome);
  added++;
}
known.sort((a, b) => a.cpuKind.localeCompare(b.cpuKind) || a.model.localeCompare(b.model));
writeFileSync(KNOWN_INT8_FILE, `${JSON.stringify({ outcomes: known }, null, 2)}\n`);
console.log(`${added} outcomes of ${cpuInfo().model} recorded in ${KNOWN_INT8_FILE}`);
