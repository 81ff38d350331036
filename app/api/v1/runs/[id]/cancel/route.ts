import { v1 } from "../../../../../../server/api/v1";

export const dynamic = "force-dynamic";

export const POST = v1<{ id: string }>(({ api, params }) => api.runs.cancel({ id: params.id }));
