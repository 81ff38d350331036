import { eventStream, v1 } from "../../../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** Server-sent events: `run-snapshot`, then node-started / node-progress / node-finished ... until the run ends. */
export const GET = v1<{ id: string }>(async ({ api, params, request }) => eventStream(await api.runs.events({ id: params.id }), request.signal));
