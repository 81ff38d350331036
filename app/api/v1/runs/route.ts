import { readJson } from "../../../../server/api/http";
import type { listRunsInput, startRunInput } from "../../../../server/api/routers/runs";
import { query, v1 } from "../../../../server/api/v1";
import type { z } from "zod";

export const dynamic = "force-dynamic";

/** ?status=running&status=queued&pipelineId=&template=&trigger=api&limit=50&cursor= */
export const GET = v1(({ api, request }) => {
  const params = query(request);
  const statuses = params.getAll("status");
  const limit = params.get("limit");
  const filter: z.input<typeof listRunsInput> = {
    status: statuses.length === 0 ? undefined : (statuses as never),
    pipelineId: params.get("pipelineId") ?? undefined,
    template: params.get("template") ?? undefined,
    trigger: (params.get("trigger") ?? undefined) as never,
    limit: limit === null ? undefined : Number(limit),
    cursor: params.get("cursor") ?? undefined,
  };
  return api.runs.list(filter);
});

/** { template | pipelineId (+ version) | graph, overrides: [{ nodeId, param, value }], inputs: { input: artifactId } } */
export const POST = v1(async ({ api, request }) => api.runs.start((await readJson(request)) as z.input<typeof startRunInput>), {
  status: 201,
});
