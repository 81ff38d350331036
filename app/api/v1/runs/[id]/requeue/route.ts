import { v1 } from "../../../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** Runs an interrupted, failed or canceled run again, as a new run. */
export const POST = v1<{ id: string }>(({ api, params }) => api.runs.requeue({ id: params.id }), { status: 201 });
