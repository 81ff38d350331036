import { v1 } from "../../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** The run: status, error with its node id, per-node timings, metrics and outputs (artifact ids). Poll this. */
export const GET = v1<{ id: string }>(({ api, params }) => api.runs.get({ id: params.id }));
