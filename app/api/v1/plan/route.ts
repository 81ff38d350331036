import { readJson } from "../../../../server/api/http";
import type { startRunInput } from "../../../../server/api/routers/runs";
import { v1 } from "../../../../server/api/v1";
import type { z } from "zod";

export const dynamic = "force-dynamic";

/** The body of POST /api/v1/runs; answers what that run would do and cost, before it runs (runs.plan). */
export const POST = v1(async ({ api, request }) => api.runs.plan((await readJson(request)) as z.input<typeof startRunInput>));
