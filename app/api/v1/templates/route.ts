import { v1 } from "../../../../server/api/v1";

export const dynamic = "force-dynamic";

export const GET = v1(({ api }) => api.templates.list());
