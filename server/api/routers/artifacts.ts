import { z } from "zod";
import { getArtifact, readArtifact, storeUpload } from "../../db/artifacts";
import { artifactKeyOf, readDeepZoom } from "../../storage/artifacts";
import { BadInputError } from "../../platform/errors";
import { idInput } from "../graph-input";
import { apiProcedure, createTRPCRouter } from "../trpc";

/** The download address of an artifact's file (a plain GET: the browser's cookie or a script's key). */
export function artifactUrl(id: string): string {
  return `/api/v1/artifacts/${encodeURIComponent(id)}`;
}

/** A multipart form with the image in the field `file` (the browser's FormData; /api/v1 builds one too). */
export const uploadForm = z.instanceof(FormData);

export async function fileOfForm(form: FormData): Promise<{ bytes: Buffer; fileName: string }> {
  const file = form.get("file");
  if (!(file instanceof Blob)) throw new BadInputError('the upload has no file: send it in the form field "file"');
  const fileName = "name" in file && typeof file.name === "string" && file.name !== "" ? file.name : "upload";
  return { bytes: Buffer.from(await file.arrayBuffer()), fileName };
}

export const artifactsRouter = createTRPCRouter({
  /** Stores an input image; the same bytes uploaded twice give the same artifact. */
  upload: apiProcedure.input(uploadForm).mutation(async ({ input }) => {
    const artifact = await storeUpload(await fileOfForm(input));
    return { ...artifact, url: artifactUrl(artifact.id) };
  }),

  /** An artifact's details; its bytes are at `url`. */
  get: apiProcedure.input(z.object({ id: idInput })).query(async ({ input }) => {
    const artifact = await getArtifact(input.id);
    return { ...artifact, url: artifactUrl(artifact.id) };
  }),

  /**
   * A large output's Deep Zoom pyramid (made when it was stored: 4096 x 4096 pixels or more), or null: its
   * tiles are at `${url}/<level>/<col>_<row>.<format>` (level 0 is one pixel, the last the full size).
   */
  tiles: apiProcedure.input(z.object({ id: idInput })).query(async ({ input }) => {
    const { artifact, file } = await readArtifact(input.id);
    const info = artifact.kind === "output" ? await readDeepZoom(artifactKeyOf(file)) : null;
    return info && { ...info, url: `${artifactUrl(artifact.id)}/tiles` };
  }),
});
