import { readJson } from "../../../../../../server/api/http";
import { v1 } from "../../../../../../server/api/v1";

export const dynamic = "force-dynamic";

export const GET = v1<{ id: string }>(({ api, params }) => api.pipelines.versions({ id: params.id }));

/** { graph, message?, allowProblems? }: saves a new version (a draft with problems when allowProblems is true). */
export const POST = v1<{ id: string }>(
  async ({ api, request, params }) => {
    const body = (await readJson(request)) as { graph?: unknown; message?: string; allowProblems?: boolean };
    return api.pipelines.save({ id: params.id, graph: body?.graph, message: body?.message, allowProblems: body?.allowProblems });
  },
  { status: 201 },
);
