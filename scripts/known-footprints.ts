// `node --import tsx scripts/known-footprints.ts [model...]`: measures the footprint (memory line, border) and the
// speed curve of the models the built-in templates run (and the small slim ones), fp32 and int8 where a variant passed, each in fresh child
// processes, and writes server/inference/known-footprints.json (keyed by each file's sha256), so a fresh machine's
// first run of them starts at once. Run it on a quiet machine after set-up whenever a converter, the quantizer or
// ONNX Runtime changes (a stale entry is harmless: its sha256 no longer matches, and the model is measured there).
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { builtInTemplates } from "../nodes/templates/index";
import { type KnownFootprints, KNOWN_FOOTPRINTS_FILE, measureFootprint, measureSpeedCurve } from "../server/inference/footprint";
import { onnxRuntimeVersion } from "../server/inference/inference-service";
import { sessionSettings } from "../server/inference/session-settings";
import { modelFilePath, modelsDir, readModelManifest } from "../server/models/manifest";

const only = process.argv.slice(2);
// The templates' models, and the small ones tests and quick pipelines run.
const templateModels = new Set([
  ...builtInTemplates.flatMap((template) => template.graph.nodes.filter((node) => node.type === "generate").map((node) => String(node.params.model))),
  "esrgan-slim-x2",
  "esrgan-slim-x4",
]);
const manifest = await readModelManifest();
const settings = sessionSettings(modelsDir());
const known: KnownFootprints = {
  version: "k1",
  onnxRuntime: onnxRuntimeVersion(),
  reference: { cpu: `${os.cpus()[0].model} (${os.availableParallelism()} cores)`, threads: settings.threads, spinning: settings.spinning, measuredAt: new Date().toISOString() },
  // Measuring some models keeps the others' figures.
  models: only.length ? ((JSON.parse(await readFile(KNOWN_FOOTPRINTS_FILE, "utf8").catch(() => "{}")) as Partial<KnownFootprints>).models ?? {}) : {},
};
/** Written after each model (a long measurement cut short keeps what it measured). */
const write = () => writeFile(KNOWN_FOOTPRINTS_FILE, `${JSON.stringify(known, null, 2)}\n`);
const dir = await mkdtemp(path.join(os.tmpdir(), "known-footprints-"));
try {
  for (const entry of manifest.models.filter((model) => (only.length ? only.includes(model.id) : templateModels.has(model.id)))) {
    const int8 = entry.int8 && "file" in entry.int8 ? entry.int8 : undefined;
    for (const file of [entry.file, ...(int8 ? [int8.file] : [])]) await symlink(modelFilePath({ file }), path.join(dir, file)).catch(() => undefined);
    for (const precision of int8 ? (["fp32", "int8"] as const) : (["fp32"] as const)) {
      const options = { dir, precision, provider: "cpu", settings, onnxRuntime: known.onnxRuntime };
      const measured = await measureFootprint(entry, options);
      const { speed } = await measureSpeedCurve(entry, options);
      const sha = precision === "int8" ? int8!.sha256 : entry.sha256;
      const { baseBytes, bytesPerInputPixel, processBytes, borderPx, sessionMs, tiles } = measured;
      known.models[sha] = { model: entry.id, precision, baseBytes, bytesPerInputPixel, processBytes, borderPx, sessionMs: sessionMs ?? 0, tiles, speed };
      await write();
      console.log(`${entry.id} ${precision}: border ${borderPx} px, ${bytesPerInputPixel} B/px, ${speed.map((point) => `${Math.sqrt(point.pixels)}: ${point.msPerMegapixel}`).join(", ")} ms/MP`);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log(`wrote ${KNOWN_FOOTPRINTS_FILE}`);
