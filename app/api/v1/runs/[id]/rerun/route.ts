import { HttpError, maxJsonBytes, readBody } from "../../../../../../server/api/http";
import { v1 } from "../../../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** Re-runs a run exactly, as a new run; an optional body `{ "force": true }` runs it even where its stamp differs now. */
export const POST = v1<{ id: string }>(
  async ({ api, params, request }) => {
    // No body (`curl -X POST`) is a plain re-run: unlike the other POST routes, every field here is optional.
    const text = (await readBody(request, maxJsonBytes())).toString("utf8");
    let body: { force?: boolean } = {};
    try {
      if (text.trim() !== "") body = JSON.parse(text) as { force?: boolean };
    } catch (error) {
      throw new HttpError(400, "BAD_REQUEST", `malformed JSON body: ${(error as Error).message}`);
    }
    return api.runs.rerun({ ...body, id: params.id });
  },
  { status: 201 },
);
