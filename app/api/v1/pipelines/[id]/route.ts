import { query, v1 } from "../../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** The pipeline with its latest graph, or ?version=N. */
export const GET = v1<{ id: string }>(({ api, request, params }) => {
  const version = query(request).get("version");
  return api.pipelines.get({ id: params.id, version: version === null ? undefined : Number(version) });
});

export const DELETE = v1<{ id: string }>(({ api, params }) => api.pipelines.delete({ id: params.id }));
