// The browser UI's API: tRPC over fetch (queries, mutations, and run progress as SSE subscriptions).
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { BodyTooLargeError, isUpload, maxJsonBytes, maxUploadBytes, readBody, responseForError } from "../../../../server/api/http";
import { appRouter } from "../../../../server/api/root";
import { createContext } from "../../../../server/api/trpc";

export const dynamic = "force-dynamic";

async function handler(request: Request): Promise<Response> {
  let limited = request;
  if (request.method === "POST") {
    // tRPC would read any body whole: read it here first, under the limit, so an oversized one is a 413.
    try {
      const upload = isUpload(request.headers) ? (new URL(request.url).pathname.endsWith("/models.upload") ? "model" : "image") : undefined;
      const body = await readBody(request, upload ? maxUploadBytes(upload) : maxJsonBytes());
      limited = new Request(request.url, { method: "POST", headers: request.headers, body: new Uint8Array(body), signal: request.signal });
    } catch (error) {
      if (error instanceof BodyTooLargeError) return responseForError(error);
      throw error;
    }
  }
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req: limited,
    router: appRouter,
    createContext: ({ req }) => createContext({ headers: req.headers }),
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR") console.error(`tRPC ${path ?? "?"}:`, error.cause ?? error);
    },
  });
}

export { handler as GET, handler as POST };
