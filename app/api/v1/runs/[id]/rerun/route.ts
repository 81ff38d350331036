import { readJson } from "../../../../../../server/api/http";
import { v1 } from "../../../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** Re-runs a run exactly, as a new run; body (optional) `{ "force": true }` runs it even where its stamp differs now. */
export const POST = v1<{ id: string }>(
  async ({ api, params, request }) => {
    const body = request.headers.get("content-length") === "0" || !request.body ? {} : ((await readJson(request)) as { force?: boolean });
    return api.runs.rerun({ ...body, id: params.id });
  },
  { status: 201 },
);
