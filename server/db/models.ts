// Models: the built-in conversions and user uploads. The models folder's manifest.json stays the one list that
// inference reads (the app, the CLI, the bench and any worker process find uploads there, with no database);
// an upload is probed, written into that folder as upload-<id>.onnx and added to the manifest with
// builtIn: false (`npm run setup` keeps such entries). The Model table mirrors the manifest, like the
// Template table mirrors nodes/templates/, and keeps when each model was added.
import { rm, stat } from "node:fs/promises";
import { writeFileAtomic } from "../files";
import { BUILTIN_MODELS } from "../models/builtin";
import { type ModelManifestEntry, modelFilePath, modelsDir, readModelManifest, writeModelManifest } from "../models/manifest";
import { type ProbedModel, probeOnnxModel } from "../models/probe";
import { checkUploadName, sha256Hex } from "../storage/artifacts";
import { getDb } from "./client";
import { BadInputError, NotFoundError } from "./errors";

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
  source: ModelManifestEntry["source"];
  license: string;
  sha256: string;
  /** Size of the .onnx file on disk; null when the file is missing (the manifest lists it, setup has not written it). */
  fileBytes: number | null;
  /** When this database first saw it. */
  addedAt: Date;
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

async function toSummary(entry: ModelManifestEntry, addedAt: Date): Promise<ModelSummary> {
  const { id, title, builtIn, scale, valueRange, layout, sizeMultiple, parameterCount, speedClass, source, license, sha256 } = entry;
  const fileBytes = await fileBytesOf(entry);
  return { id, title, builtIn, scale, valueRange, layout, sizeMultiple, parameterCount, speedClass, source, license, sha256, fileBytes, addedAt };
}

/** Built-in models first (in manifest order), then uploads. */
export async function listModels(): Promise<ModelSummary[]> {
  const manifest = await readModelManifest();
  const added = await mirror(manifest.models);
  return Promise.all(manifest.models.map((entry) => toSummary(entry, added.get(entry.id) ?? new Date())));
}

export async function getModel(id: string): Promise<ModelSummary> {
  const model = (await listModels()).find((candidate) => candidate.id === id);
  if (!model) throw new NotFoundError("model", id);
  return model;
}

/** A model id from an uploaded file name: "My ESRGAN x4.onnx" -> "my-esrgan-x4". */
export function modelIdFromName(name: string): string {
  const id = name
    .replace(/\.onnx$/i, "")
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

export interface ModelUpload {
  bytes: Buffer;
  /** The client's file name; must end in .onnx. */
  fileName: string;
  /** Default: made from the file name. Lowercase letters, digits, '.', '_' and '-'. */
  id?: string;
  title?: string;
}

/**
 * Probes an uploaded .onnx model (see probeOnnxModel), stores it in the models folder and lists it. Throws
 * BadInputError for a bad file name, an oversized or bad model, or an id that is taken.
 */
export async function uploadModel(upload: ModelUpload): Promise<ModelSummary & { probe: ProbedModel }> {
  const fileName = checkUploadName(upload.fileName);
  if (!/\.onnx$/i.test(fileName)) throw new BadInputError(`"${fileName}" is not a .onnx file`);
  const limit = maxModelBytes();
  if (upload.bytes.length > limit) {
    throw new BadInputError(`"${fileName}" is ${(upload.bytes.length / 2 ** 20).toFixed(1)} MB, over the model upload limit of ${(limit / 2 ** 20).toFixed(1)} MB`);
  }
  const id = upload.id ?? modelIdFromName(fileName);
  if (!/^[a-z0-9][a-z0-9._-]{0,59}$/.test(id)) {
    throw new BadInputError(`model id "${id}" must be 1 to 60 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  if (BUILTIN_MODELS.some((model) => model.id === id)) throw new BadInputError(`"${id}" is the id of a built-in model; choose another`);
  let probe: ProbedModel;
  try {
    probe = await probeOnnxModel(upload.bytes);
  } catch (error) {
    if (error instanceof BadInputError) throw new BadInputError(`"${fileName}": ${error.message}`);
    throw error;
  }
  const entry: ModelManifestEntry = {
    id,
    title: upload.title?.trim() || fileName.replace(/\.onnx$/i, ""),
    scale: probe.scale,
    file: `upload-${id}.onnx`,
    layout: probe.layout,
    valueRange: probe.valueRange,
    inputName: probe.inputName,
    outputName: probe.outputName,
    sizeMultiple: probe.sizeMultiple,
    parameterCount: probe.parameterCount,
    speedClass: speedClassOf(probe.parameterCount),
    architecture: "unknown",
    content: "unknown",
    degradation: "unknown",
    padding: { mode: "none", pixels: 0, inGraph: true },
    weights: { origin: `uploaded as ${fileName}`, license: "unknown" },
    source: { upload: fileName },
    license: "unknown (uploaded)",
    sha256: sha256Hex(upload.bytes),
    builtIn: false,
  };
  const models = await withManifest(async () => {
    const manifest = await readModelManifest();
    if (manifest.models.some((model) => model.id === id)) throw new BadInputError(`a model "${id}" already exists; choose another id`);
    const file = modelFilePath(entry, modelsDir());
    await writeFileAtomic(file, upload.bytes);
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
  return { ...(await toSummary(entry, added.get(id) ?? new Date())), probe };
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
    return next.models;
  });
  await mirror(models);
}
