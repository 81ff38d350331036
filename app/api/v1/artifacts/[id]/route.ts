import { readArtifactContent } from "../../../../../server/db/artifacts";
import { imageType, v1 } from "../../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** The artifact's bytes (an uploaded input or a run output). */
export const GET = v1<{ id: string }>(async ({ api, params }) => {
  const artifact = await api.artifacts.get({ id: params.id }); // auth, 404 and validation as for every procedure
  const { bytes } = await readArtifactContent(artifact.id);
  const extension = artifact.format === "jpeg" ? "jpg" : artifact.format;
  const name = `${artifact.kind === "output" ? (artifact.name ?? "output") : "input"}-${artifact.id}.${extension}`;
  return new Response(new Uint8Array(bytes), {
    headers: {
      "content-type": imageType(artifact.format),
      "content-length": String(bytes.length),
      "content-disposition": `attachment; filename="${name}"`,
      "x-content-type-options": "nosniff",
      "cache-control": "private, max-age=31536000, immutable",
    },
  });
});
