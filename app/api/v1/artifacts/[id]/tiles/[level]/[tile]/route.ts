import { artifactTile, v1 } from "../../../../../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** One tile of a large output's Deep Zoom pyramid: <level>/<col>_<row>.<format> (see artifacts.tiles). */
export const GET = v1<{ id: string; level: string; tile: string }>(({ api, params }) => artifactTile(api, params.id, params.level, params.tile));
