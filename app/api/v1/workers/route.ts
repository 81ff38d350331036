import { v1 } from "../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** The processes executing runs and the queue's depth (the Workers page's data). */
export const GET = v1(({ api }) => api.workers.list());
