// `npm run setup`: converts the built-in models into the models folder and writes its manifest.
import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../files";
import { BUILTIN_MODELS, type BuiltinModel, installedPackage } from "./builtin";
import {
  type ModelManifest,
  type ModelManifestEntry,
  ModelManifestError,
  ModelManifestMissingError,
  modelFilePath,
  modelsDir,
  readModelManifest,
  writeModelManifest,
} from "./manifest";
import { CONVERTER_VERSION, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, convertTfjsLayersModel } from "./tfjs-to-onnx";

export interface SetupOptions {
  dir?: string;
  log?: (line: string) => void;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function fileSha256(file: string): Promise<string | undefined> {
  try {
    return sha256(await readFile(file));
  } catch {
    return undefined;
  }
}

async function previousManifest(dir: string, log: (line: string) => void): Promise<ModelManifest | undefined> {
  try {
    return await readModelManifest(dir);
  } catch (error) {
    if (!(error instanceof ModelManifestError)) throw error;
    // Missing is the normal first run; an unreadable manifest is reported and rewritten.
    if (!(error instanceof ModelManifestMissingError)) log(`rewriting the manifest: ${error.message}`);
    return undefined;
  }
}

/** An entry before conversion: what the file itself determines is still unknown. */
type PlannedEntry = Omit<ModelManifestEntry, "parameterCount" | "sha256">;

/** A previous conversion can be kept when the converter, the source package and the file are all unchanged. */
async function reusable(previous: ModelManifest | undefined, entry: PlannedEntry, dir: string): Promise<ModelManifestEntry | undefined> {
  if (previous?.converter !== CONVERTER_VERSION) return undefined;
  const old = previous.models.find((candidate) => candidate.id === entry.id && candidate.builtIn);
  if (!old || old.file !== entry.file || JSON.stringify(old.source) !== JSON.stringify(entry.source)) return undefined;
  if ((await fileSha256(modelFilePath(old, dir))) !== old.sha256) return undefined;
  return { ...entry, parameterCount: old.parameterCount, sha256: old.sha256 };
}

async function setupModel(model: BuiltinModel, previous: ModelManifest | undefined, dir: string) {
  const pkg = installedPackage(model.package);
  const base: PlannedEntry = {
    id: model.id,
    title: model.title,
    scale: model.scale,
    file: `${model.id}.onnx`,
    layout: "NCHW",
    valueRange: [...model.valueRange],
    inputName: ONNX_INPUT_NAME,
    outputName: ONNX_OUTPUT_NAME,
    sizeMultiple: 1,
    speedClass: model.speedClass,
    architecture: model.architecture,
    content: model.content,
    degradation: model.degradation,
    padding: { mode: "none", pixels: 0, inGraph: true },
    weights: model.weights,
    source: { package: model.package, version: pkg.version, path: model.modelPath },
    license: pkg.license,
    builtIn: true,
  };
  const kept = await reusable(previous, base, dir);
  if (kept) return { entry: kept, converted: false };

  const converted = await convertTfjsLayersModel(
    path.join(pkg.dir, model.modelPath),
    `${model.title}: converted from ${model.package}@${pkg.version}/${model.modelPath} (${pkg.license})`,
  );
  if (converted.scale !== model.scale) {
    throw new Error(`${model.id}: the converted graph upscales x${converted.scale}, expected x${model.scale}`);
  }
  await writeFileAtomic(modelFilePath(base, dir), converted.bytes);
  return { entry: { ...base, parameterCount: converted.parameterCount, sha256: sha256(converted.bytes) }, converted: true };
}

/**
 * Converts every built-in model into `dir` (skipping those already converted by this converter version) and
 * rewrites manifest.json, keeping entries of uploaded models. Returns the new manifest.
 */
export async function setupModels({ dir = modelsDir(), log = () => {} }: SetupOptions = {}): Promise<ModelManifest> {
  await mkdir(dir, { recursive: true });
  const previous = await previousManifest(dir, log);
  const builtIn: ModelManifestEntry[] = [];
  for (const model of BUILTIN_MODELS) {
    const started = performance.now();
    const { entry, converted } = await setupModel(model, previous, dir);
    const ms = Math.round(performance.now() - started);
    log(
      `${entry.id.padEnd(16)} x${entry.scale}  ${entry.parameterCount.toLocaleString("en-US").padStart(9)} params  ` +
        `${converted ? "converted" : "up to date"} in ${ms} ms`,
    );
    builtIn.push(entry);
  }
  const uploads = previous?.models.filter((entry) => !entry.builtIn) ?? [];
  const manifest: ModelManifest = { version: 1, converter: CONVERTER_VERSION, models: [...builtIn, ...uploads] };
  await writeModelManifest(manifest, dir);
  return manifest;
}

async function main(): Promise<void> {
  const dir = modelsDir();
  try {
    const manifest = await setupModels({ dir, log: (line) => console.log(line) });
    console.log(`${manifest.models.length} models ready in ${dir}`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`npm run setup failed: ${message.replace(/\s*\n\s*/g, " ")}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
