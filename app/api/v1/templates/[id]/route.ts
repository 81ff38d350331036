import { v1 } from "../../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** A template by slug or id, with its graph. */
export const GET = v1<{ id: string }>(({ api, params }) => api.templates.get({ id: params.id }));
