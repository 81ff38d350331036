// The models folder's manifest.json: which ONNX models exist and how to feed them.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { ModelInfo, Precision } from "../../nodes/graph/models";
import { writeFileAtomic } from "../platform/files";
import { REPO_ROOT } from "../platform/paths";
import { INT8_MAX_LOSS_DB, type Int8Quality, int8Losses } from "./int8-gates";

export interface ModelManifestEntry {
  id: string;
  title: string;
  scale: number;
  file: string; // file name inside the models folder, e.g. "esrgan-thick-x4.onnx"
  layout: "NCHW" | "NHWC";
  valueRange: [number, number]; // input and output range, e.g. [0, 1] or [0, 255]
  inputName: string;
  outputName: string;
  sizeMultiple: number; // input H and W must be multiples of this
  parameterCount: number;
  speedClass: "fast" | "balanced" | "quality";
  /** The network family, e.g. "RRDBNet (Real-ESRGAN)", "SRVGGNetCompact", "Real-CUGAN se", "ESRGAN (UpscalerJS)". */
  architecture: string;
  /** What it was trained on: photos, or art (anime, illustrations). */
  content: ModelContent;
  /** The inputs it was trained to restore: clean bicubic downscales, or real-world degradations (blur, noise, JPEG). */
  degradation: ModelDegradation;
  /**
   * What the model needs at an image's border: its own programs pad each tile (reflect or replicate, `pixels`
   * on every side, before the size multiple) and crop the upscaled padding away. `inGraph`: the ONNX graph does
   * it itself; otherwise the generate node does.
   */
  padding: ModelPadding;
  /** Where the weights come from and under which licence (the carrying package's licence is `license`). */
  weights: { origin: string; license: string };
  source: { package: string; version: string; path: string } | { upload: string };
  /** The licence of the package (or upload) the file was made from. */
  license: string;
  sha256: string; // of the .onnx file
  builtIn: boolean;
  /** Its int8 variant (made in the background after set-up, or by `npm run setup -- --int8`), or why there is none; absent until tried. */
  int8?: Int8Status;
}

export type ModelContent = "photo" | "art" | "unknown";
export type ModelDegradation = "bicubic" | "real-world" | "unknown";

/** An int8 variant: a file of its own beside its fp32 parent, with its measured fidelity and speed. */
export interface Int8Variant {
  quantizer: string;
  /** The fp32 file it was made from: a changed parent means a new variant. */
  parentSha256: string;
  /** Which of the quantizer's recipes passed the gate (e.g. "int8 trunk"). */
  recipe: string;
  file: string;
  sha256: string;
  /** Worst PSNR of its output against the parent's on photos the calibration never saw. */
  psnrDb: number;
  int8Convs: number;
  fp32Convs: number;
  /** Median time of one tile of `tile` px, each precision, measured on this machine (interleaved, so load hits both alike). */
  speed: { tile: number; fp32Ms: number; int8Ms: number };
  /** The CPU kind (platform/cpu-features.ts cpuKind) the speed was measured on; absent in older statuses, made again. */
  cpuKind?: string;
  /** What it costs against ground truth, alone and feeding other models; absent in older statuses, made again. */
  quality?: Int8Quality;
}

export interface Int8Refusal {
  quantizer: string;
  parentSha256: string;
  cpuKind?: string;
  refused: string;
  /** Set where the refusal was not measured here but known for this CPU kind (int8-known.json): when and where. */
  known?: string;
}
export type Int8Status = Int8Variant | Int8Refusal;
export interface ModelPadding {
  mode: "none" | "reflect" | "replicate";
  pixels: number;
  inGraph: boolean;
}

export interface ModelManifest {
  version: 1;
  converter: string;
  models: ModelManifestEntry[];
}

export const MANIFEST_FILE = "manifest.json";

const entrySchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "lowercase letters, digits, '.', '_' and '-'"),
  title: z.string().min(1),
  scale: z.number().int().positive(),
  // A bare file name: the manifest must not point outside its folder.
  file: z.string().regex(/^[^/\\]+\.onnx$/, "a .onnx file name without folders"),
  layout: z.enum(["NCHW", "NHWC"]),
  valueRange: z.tuple([z.number(), z.number()]).refine(([low, high]) => low < high, "low must be below high"),
  inputName: z.string().min(1),
  outputName: z.string().min(1),
  sizeMultiple: z.number().int().positive(),
  parameterCount: z.number().int().nonnegative(),
  speedClass: z.enum(["fast", "balanced", "quality"]),
  // Defaults: entries of uploads written before these fields existed.
  architecture: z.string().min(1).default("unknown"),
  content: z.enum(["photo", "art", "unknown"]).default("unknown"),
  degradation: z.enum(["bicubic", "real-world", "unknown"]).default("unknown"),
  padding: z
    .object({ mode: z.enum(["none", "reflect", "replicate"]), pixels: z.number().int().nonnegative(), inGraph: z.boolean() })
    .default({ mode: "none", pixels: 0, inGraph: true }),
  weights: z.object({ origin: z.string().min(1), license: z.string().min(1) }).default({ origin: "uploaded by a user", license: "unknown" }),
  source: z.union([
    z.object({ package: z.string().min(1), version: z.string().min(1), path: z.string().min(1) }),
    z.object({ upload: z.string().min(1) }),
  ]),
  license: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex digits"),
  builtIn: z.boolean(),
  int8: z
    .union([
      z.object({
        quantizer: z.string(),
        parentSha256: z.string(),
        recipe: z.string(),
        file: z.string().regex(/^[^/\\]+\.onnx$/, "a .onnx file name without folders"),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        psnrDb: z.number(),
        int8Convs: z.number().int().nonnegative(),
        fp32Convs: z.number().int().nonnegative(),
        speed: z.object({ tile: z.number().int().positive(), fp32Ms: z.number().nonnegative(), int8Ms: z.number().nonnegative() }),
        cpuKind: z.string().optional(),
        quality: z
          .object({
            alone: z.object({ fp32Db: z.number(), int8Db: z.number() }),
            chained: z.array(z.object({ into: z.string(), fp32Db: z.number(), int8Db: z.number() })),
          })
          .optional(),
      }),
      z.object({ quantizer: z.string(), parentSha256: z.string(), cpuKind: z.string().optional(), refused: z.string().min(1), known: z.string().optional() }),
    ])
    .optional(),
});

// Annotated with the interface, so the schema cannot accept anything the interface does not describe.
export const modelManifestSchema: z.ZodType<ModelManifest> = z
  .object({ version: z.literal(1), converter: z.string(), models: z.array(entrySchema) })
  .refine((manifest) => new Set(manifest.models.map((entry) => entry.id)).size === manifest.models.length, {
    message: "model ids must be unique",
    path: ["models"],
  });

export class ModelManifestError extends Error {}
/** manifest.json does not exist yet: `npm run setup` has not run in this models folder. */
export class ModelManifestMissingError extends ModelManifestError {}

/** The models folder: $TUDSR_MODELS_DIR (an empty value counts as unset), else `models/` at the repository root. */
export function modelsDir(): string {
  const configured = process.env.TUDSR_MODELS_DIR;
  return configured ? path.resolve(configured) : path.join(REPO_ROOT, "models");
}

export function modelFilePath(entry: Pick<ModelManifestEntry, "file">, dir = modelsDir()): string {
  return path.join(dir, entry.file);
}

export async function readModelManifest(dir = modelsDir()): Promise<ModelManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ModelManifestMissingError(`no model manifest at ${file}: run \`npm run setup\` to convert the built-in models`);
    }
    throw new ModelManifestError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelManifestError(`${file} is not valid JSON (${(error as Error).message}): run \`npm run setup\` to rewrite it`);
  }
  const parsed = modelManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
    throw new ModelManifestError(`${file} is not a valid model manifest (${issues}): run \`npm run setup\` to rewrite it`);
  }
  return parsed.data;
}

/** Writes manifest.json through a temporary file and a rename, so readers never see half a manifest. */
export async function writeModelManifest(manifest: ModelManifest, dir = modelsDir()): Promise<void> {
  const checked = modelManifestSchema.parse(manifest);
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), `${JSON.stringify(checked, null, 2)}\n`);
}

/** An int8 run of a model that has no int8 variant that passed its gate. */
export class NoInt8VariantError extends Error {}

export function int8Offer(entry: ModelManifestEntry): ModelInfo["int8"] {
  const status = entry.int8;
  if (!status) return { offered: false, why: "no int8 variant has been made (the studio makes those of the templates' models in the background; any model's on request: tudsr models int8 <id>)" };
  if ("refused" in status) return { offered: false, why: status.known ? `${status.refused} (known for this CPU kind: ${status.known})` : status.refused };
  // Judged before losses against ground truth were measured: not offered until judged again.
  if (!status.quality) return { offered: false, why: "the int8 variant predates the ground-truth quality gate; it is judged again in the background" };
  const { tile, fp32Ms, int8Ms } = status.speed;
  const losses = int8Losses(status.quality);
  const chained = losses.chained <= INT8_MAX_LOSS_DB;
  return {
    offered: true,
    psnrDb: status.psnrDb,
    speedup: Number((fp32Ms / int8Ms).toFixed(2)),
    tile,
    fp32Ms,
    int8Ms,
    lossDb: losses.alone,
    chained,
    ...(chained ? {} : { chainedWhy: `feeding ${losses.worstInto} it costs ${losses.chained} dB Y-PSNR against ground truth (the limit is ${INT8_MAX_LOSS_DB} dB)` }),
  };
}

/** The file of a model at a precision. */
export function modelFile(entry: ModelManifestEntry, precision: Precision): string {
  if (precision === "fp32") return entry.file;
  const status = entry.int8;
  if (status && !("refused" in status)) return status.file;
  throw new NoInt8VariantError(`model ${entry.id} has no int8 variant: ${(int8Offer(entry) as { why: string }).why}`);
}
