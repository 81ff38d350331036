import { artifactDownload, v1 } from "../../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** The artifact's bytes (an uploaded input or a run output). */
export const GET = v1<{ id: string }>(({ api, params }) => artifactDownload(api, params.id));
