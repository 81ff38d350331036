import { readJson } from "../../../../server/api/http";
import { query, v1 } from "../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** ?search=&sort=updated|created|name */
export const GET = v1(({ api, request }) => {
  const params = query(request);
  return api.pipelines.list({
    search: params.get("search") ?? undefined,
    sort: (params.get("sort") ?? undefined) as "updated" | "created" | "name" | undefined,
  });
});

/** { name, graph }: a new pipeline (version 1). */
export const POST = v1(async ({ api, request }) => api.pipelines.create((await readJson(request)) as { name: string; graph: unknown }), { status: 201 });
