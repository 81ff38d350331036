// Artifact rows: uploaded input images (deduplicated by content) and run outputs. The files themselves are
// written and checked by server/storage/artifacts.ts.
import { BadInputError, NotFoundError, prismaCode } from "../platform/errors";
import { artifactFile, checkUploadedImage, checkUploadName, outputNameOf, readArtifactBytes, type UploadLimits, uploadLimits, writeInputFile } from "../storage/artifacts";
import { getDb } from "./client";

export interface ArtifactInfo {
  id: string;
  kind: "input" | "output";
  runId: string | null;
  /** A run output's name (e.g. "output"); null for inputs. */
  name: string | null;
  sizeBytes: number;
  width: number;
  height: number;
  format: string;
  sha256: string;
  createdAt: Date;
}

export interface StoredArtifact {
  artifact: ArtifactInfo;
  /** Absolute path of the file in the local artifact store (see readArtifactContent for any store). */
  file: string;
}

/** The database row: the output name is derived from its path. */
type ArtifactRow = Omit<ArtifactInfo, "name"> & { path: string };

export function toArtifactInfo(row: ArtifactRow): ArtifactInfo {
  const { id, kind, runId, sizeBytes, width, height, format, sha256, createdAt } = row;
  return { id, kind, runId, name: kind === "output" ? outputNameOf(row.path) : null, sizeBytes, width, height, format, sha256, createdAt };
}

/**
 * Stores an uploaded input image. Throws BadInputError for a file name with path tricks, an empty, oversized,
 * non-image or corrupt file, or one over the pixel limit. The same bytes uploaded again give the same artifact
 * (`deduplicated: true`).
 */
export async function storeUpload(
  upload: { bytes: Buffer; fileName: string },
  limits: UploadLimits = uploadLimits(),
): Promise<ArtifactInfo & { deduplicated: boolean }> {
  const fileName = checkUploadName(upload.fileName);
  const image = await checkUploadedImage(upload.bytes, fileName, limits);
  const db = await getDb();
  // The path is the content's sha256, so it finds an earlier upload of the same bytes. The file is written when
  // missing even then: it may have been removed from the data folder by hand.
  const path = await writeInputFile(upload.bytes, image);
  const existing = await db.artifact.findUnique({ where: { path } });
  if (existing) return { ...toArtifactInfo(existing), deduplicated: true };
  const { format, width, height, sizeBytes, sha256 } = image;
  try {
    const row = await db.artifact.create({ data: { kind: "input", path, format, width, height, sizeBytes, sha256 } });
    return { ...toArtifactInfo(row), deduplicated: false };
  } catch (error) {
    // The same bytes uploaded at the same moment: the other upload's row won.
    if (prismaCode(error) !== "P2002") throw error;
    return { ...toArtifactInfo(await db.artifact.findUniqueOrThrow({ where: { path } })), deduplicated: true };
  }
}

export async function getArtifact(id: string): Promise<ArtifactInfo> {
  return (await readArtifact(id)).artifact;
}

/** The row and the absolute path of its file (for downloads and for runs reading their inputs). */
export async function readArtifact(id: string): Promise<StoredArtifact> {
  const db = await getDb();
  const row = await db.artifact.findUnique({ where: { id } });
  if (!row) throw new NotFoundError("artifact", id);
  return { artifact: toArtifactInfo(row), file: artifactFile(row.path) };
}

/** The size of an uploaded input as a run sees it (recorded at upload: EXIF rotation applied), named by the input it is for. */
export async function inputArtifactSize(name: string, id: string): Promise<{ width: number; height: number }> {
  const db = await getDb();
  const row = await db.artifact.findUnique({ where: { id }, select: { kind: true, width: true, height: true } });
  if (!row) throw new NotFoundError("artifact", id);
  if (row.kind !== "input") throw new BadInputError(`input "${name}": artifact "${id}" is a run output; upload it as an input first`);
  return { width: row.width, height: row.height };
}

/** The row and the bytes of its file, from the artifact store (downloads; runs reading their inputs). */
export async function readArtifactContent(id: string): Promise<{ artifact: ArtifactInfo; bytes: Buffer }> {
  const db = await getDb();
  const row = await db.artifact.findUnique({ where: { id } });
  if (!row) throw new NotFoundError("artifact", id);
  return { artifact: toArtifactInfo(row), bytes: await readArtifactBytes(row.path) };
}

/** The kind (input or output) of each of these artifacts that exists. */
export async function artifactKinds(ids: string[]): Promise<Map<string, string>> {
  const db = await getDb();
  const rows = await db.artifact.findMany({ where: { id: { in: ids } }, select: { id: true, kind: true } });
  return new Map(rows.map((row) => [row.id, row.kind]));
}
