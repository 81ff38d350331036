import { v1 } from "../../../../../server/api/v1";

export const dynamic = "force-dynamic";

export const GET = v1<{ id: string }>(({ api, params }) => api.models.get({ id: params.id }));

/** Uploaded models only. */
export const DELETE = v1<{ id: string }>(({ api, params }) => api.models.delete({ id: params.id }));
