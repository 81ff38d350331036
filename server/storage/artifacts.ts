// Artifact files under the key artifacts/: uploaded inputs named by their sha256 (content-addressed, never by the
// client's name), run outputs under runs/<run id>/<output name>.<ext> (runs/<run id>/<attempt>/... on the
// distributed queue, so a stale worker never touches another attempt's files). The bytes live in the artifact
// store (./store.ts: the data folder by default, or S3-compatible storage); the rows in server/db/artifacts.ts;
// this module checks uploads and owns the files. An output of DEEP_ZOOM_MIN_PIXELS or more also gets a Deep Zoom
// pyramid beside its file (<name>.dzi, <name>_files/<level>/<col>_<row>.<ext>), which the run page's viewer
// reads by tiles; the file itself stays the download.
import { createHash } from "node:crypto";
import path from "node:path";
import { decodeImage, DEFAULT_MAX_PIXELS, ImageDecodeError, readImageHeader } from "../images/codec";
import { DEEP_ZOOM_MIN_PIXELS, type DeepZoomInfo, parseDzi, type TileFormat, writeDeepZoom } from "../images/deep-zoom";
import { BadInputError, NotFoundError } from "../platform/errors";
import { dataDir } from "../platform/paths";
import { ArtifactMissingError, artifactStore } from "./store";

export interface UploadLimits {
  /** Largest accepted width x height, checked from the header before decoding. */
  maxPixels: number;
  maxBytes: number;
}

export const DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

/** Raster formats an input may have (sharp's names), with the file extension each is stored under. */
const EXTENSIONS: Record<string, string> = { png: "png", jpeg: "jpg", webp: "webp", gif: "gif", tiff: "tif" };

/** The extension a format is stored under (own keys only: a format named "constructor" is not one of them). */
function extensionOf(format: string): string | undefined {
  return Object.hasOwn(EXTENSIONS, format) ? EXTENSIONS[format] : undefined;
}

function positiveIntegerEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (!text) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, got "${text}"`);
  return value;
}

/** $TUDSR_MAX_PIXELS (default 64 MP) and $TUDSR_MAX_UPLOAD_BYTES (default 100 MB); runs use the same pixel limit. */
export function uploadLimits(): UploadLimits {
  return {
    maxPixels: positiveIntegerEnv("TUDSR_MAX_PIXELS", DEFAULT_MAX_PIXELS),
    maxBytes: positiveIntegerEnv("TUDSR_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES),
  };
}

/**
 * Checks a client's file name and returns it: a plain file name only (no folders, `..`, absolute paths, drive
 * letters, backslashes, NUL or other control characters). The name is never used to name a file on disk; a
 * name with path tricks is still refused, since it says the client is not what it claims.
 */
export function checkUploadName(name: string): string {
  const shown = JSON.stringify(name);
  const bad = (why: string) => new BadInputError(`file name ${shown} ${why}`);
  if (name.trim() === "") throw bad("is empty");
  if (name.length > 255) throw bad("is longer than 255 characters");
  if (name.includes("\0")) throw bad("contains a NUL character");
  if (/[\u0000-\u001f\u007f]/.test(name)) throw bad("contains control characters");
  if (name.includes("\\")) throw bad("contains a backslash");
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw bad("is an absolute path");
  if (name.split("/").some((part) => part === ".." || part === ".")) throw bad("contains '..' or '.' path segments");
  if (name.includes("/")) throw bad("contains a folder; send the file name only");
  return name;
}

export interface CheckedImage {
  format: string;
  width: number;
  height: number;
  sizeBytes: number;
  sha256: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Checks an uploaded image: size in bytes, a raster format, the pixel limit (from the header, before any pixel
 * is decoded), then a full decode with the same decoder runs use, so an accepted upload is one a run can read.
 * Width and height are as a run sees the image (EXIF rotation applied).
 */
export async function checkUploadedImage(bytes: Buffer, fileName: string, limits = uploadLimits()): Promise<CheckedImage> {
  const what = JSON.stringify(fileName);
  if (bytes.length === 0) throw new BadInputError(`${what} is empty`);
  if (bytes.length > limits.maxBytes) {
    throw new BadInputError(`${what} is ${megabytes(bytes.length)}, over the upload limit of ${megabytes(limits.maxBytes)}`);
  }
  const meta = await readImageHeader(bytes).catch((error: unknown) => {
    if (!(error instanceof ImageDecodeError)) throw error;
    if (error.kind === "not-an-image") throw new BadInputError(`${what} is not an image (accepted: PNG, JPEG, WebP, GIF, TIFF)`);
    throw new BadInputError(`${what}: ${error.message.replace(/^image data: /, "")}`);
  });
  const format = meta.format ?? "unknown";
  if (extensionOf(format) === undefined) {
    throw new BadInputError(`${what} is a ${format} file, not an accepted image format (PNG, JPEG, WebP, GIF, TIFF)`);
  }
  let width: number;
  let height: number;
  try {
    ({ width, height } = (await decodeImage(bytes, { maxPixels: limits.maxPixels })).image);
  } catch (error) {
    if (!(error instanceof ImageDecodeError)) throw error;
    throw new BadInputError(`${what}: ${error.message.replace(/^image data: /, "")}`);
  }
  return { format, width, height, sizeBytes: bytes.length, sha256: sha256Hex(bytes) };
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Absolute path of a row's relative, '/'-separated path; refuses one that would leave the data folder. */
export function artifactFile(relative: string): string {
  const root = dataDir();
  const file = path.resolve(root, ...relative.split("/"));
  if (!file.startsWith(root + path.sep)) throw new Error(`artifact path "${relative}" is outside the data folder`);
  return file;
}

/** Writes an input's bytes under their sha256 (once: the same content is the same file). Returns the relative path. */
export async function writeInputFile(bytes: Buffer, image: Pick<CheckedImage, "sha256" | "format">): Promise<string> {
  const extension = extensionOf(image.format);
  if (extension === undefined) throw new BadInputError(`a ${image.format} file is not an accepted image format (PNG, JPEG, WebP, GIF, TIFF)`);
  const relative = `artifacts/${image.sha256}.${extension}`;
  const store = artifactStore();
  if (!(await store.has(relative))) await store.put(relative, bytes);
  return relative;
}

export interface OutputFile {
  /** The run output's name (the save-image node's `output`). */
  name: string;
  path: string;
  format: string;
  width: number;
  height: number;
  sizeBytes: number;
  sha256: string;
}

const OUTPUT_NAME = /^[A-Za-z0-9_-]{1,40}$/;

/** Writes one run output as artifacts/runs/<run id>/<name>.<ext> (names are checked by the save-image node too). */
export async function writeOutputFile(
  runId: string,
  output: { name: string; format: string; width: number; height: number; bytes: Buffer },
  attempt?: string,
): Promise<OutputFile> {
  if (!OUTPUT_NAME.test(output.name) || !OUTPUT_NAME.test(runId) || (attempt !== undefined && !OUTPUT_NAME.test(attempt))) {
    throw new Error(`bad output name "${output.name}" of run "${runId}"`);
  }
  const relative = `artifacts/runs/${runId}/${output.name}.${extensionOf(output.format) ?? output.format}`;
  const key = attempt === undefined ? relative : `artifacts/runs/${runId}/${attempt}/${path.posix.basename(relative)}`;
  await artifactStore().put(key, output.bytes);
  if (output.width * output.height >= DEEP_ZOOM_MIN_PIXELS) await storeDeepZoom(key, output);
  const { name, format, width, height, bytes } = output;
  return { name, path: key, format, width, height, sizeBytes: bytes.length, sha256: sha256Hex(bytes) };
}

/** Where an output's pyramid goes: its key without the extension, + ".dzi" / "_files/...". */
function deepZoomBase(key: string): string {
  return key.replace(/\.[^./]*$/, "");
}

/**
 * Writes an output's pyramid beside it, the descriptor last (a pyramid without one is never shown). A failure
 * is only logged: the output is stored, and the viewer shows the whole file instead.
 */
async function storeDeepZoom(key: string, output: { format: string; bytes: Buffer }): Promise<void> {
  const format: TileFormat = output.format === "jpeg" || output.format === "webp" ? output.format : "png";
  const base = deepZoomBase(key);
  const store = artifactStore();
  try {
    const files = await writeDeepZoom(output.bytes, format);
    try {
      // A few at a time: an 8192 x 8192 output has about 1,400 tiles.
      const queue = [...files.tiles];
      const worker = async () => {
        for (let tile = queue.shift(); tile !== undefined; tile = queue.shift()) {
          await store.put(`${base}_files/${tile.slice("image_files/".length)}`, await files.read(tile));
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      await store.put(`${base}.dzi`, files.dzi.bytes);
    } finally {
      await files.remove();
    }
  } catch (error) {
    console.warn(`no tiled view of ${key}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The key of an artifact file (artifactFile's inverse). */
export function artifactKeyOf(file: string): string {
  return path.relative(dataDir(), file).split(path.sep).join("/");
}

/** An output's pyramid (see writeOutputFile), or null where it has none (a small or older output). */
export async function readDeepZoom(key: string): Promise<DeepZoomInfo | null> {
  const dzi = `${deepZoomBase(key)}.dzi`;
  const store = artifactStore();
  if (!(await store.has(dzi))) return null;
  return parseDzi((await store.get(dzi)).toString("utf8"));
}

/** One tile of an output's pyramid: `tile` is "<col>_<row>.<ext>"; BadInputError for any other name. */
export async function readDeepZoomTile(key: string, level: string, tile: string): Promise<Buffer> {
  if (!/^\d{1,2}$/.test(level) || !/^\d{1,5}_\d{1,5}\.(png|jpeg|webp)$/.test(tile)) throw new BadInputError(`no tile "${level}/${tile}"`);
  return artifactStore()
    .get(`${deepZoomBase(key)}_files/${Number(level)}/${tile}`)
    .catch((error: unknown) => {
      throw error instanceof ArtifactMissingError ? new NotFoundError("tile", `${level}/${tile}`) : error;
    });
}

/** The output name an output file was stored under. */
export function outputNameOf(relative: string): string {
  return path.posix.basename(relative).replace(/\.[^.]*$/, "");
}

/**
 * Removes a run's output folder (a run that was canceled or failed after writing them keeps none); with
 * `attempt`, only that attempt's.
 */
export async function removeRunOutputFiles(runId: string, attempt?: string): Promise<void> {
  if (!OUTPUT_NAME.test(runId) || (attempt !== undefined && !OUTPUT_NAME.test(attempt))) return;
  await artifactStore().deletePrefix(attempt === undefined ? `artifacts/runs/${runId}/` : `artifacts/runs/${runId}/${attempt}/`);
}

/** The bytes of an artifact row's file (its `path` is the store key). */
export function readArtifactBytes(key: string): Promise<Buffer> {
  return artifactStore().get(key);
}
