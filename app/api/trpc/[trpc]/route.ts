// The browser UI's API: tRPC over fetch (queries, mutations, and run progress as SSE subscriptions).
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { authenticate } from "../../../../server/api/auth";
import { BodyTooLargeError, isUpload, maxJsonBytes, maxUploadBytes, readBody, responseForError } from "../../../../server/api/http";
import { appRouter } from "../../../../server/api/root";

export const dynamic = "force-dynamic";

async function handler(request: Request): Promise<Response> {
  // Who is calling is decided from the headers alone, before a byte of the body is read.
  const auth = await authenticate(request.headers);
  let body: Request = request;
  if (request.method === "POST") {
    if (!auth.caller) {
      // Nothing from an unknown caller is read: its body is dropped and tRPC answers the 401 (in its own error
      // shape, which the browser client shows) for a body-less copy of the request.
      request.body?.cancel().catch(() => undefined);
      const headers = new Headers(request.headers);
      headers.delete("content-length");
      headers.set("content-type", "application/json");
      body = new Request(request.url, { method: "POST", headers, signal: request.signal });
    } else {
      // tRPC would read any body whole: read it here first, under the limit, so an oversized one is a 413.
      try {
        const upload = isUpload(request.headers) ? (new URL(request.url).pathname.endsWith("/models.upload") ? "model" : "image") : undefined;
        const bytes = await readBody(request, upload ? maxUploadBytes(upload) : maxJsonBytes());
        body = new Request(request.url, { method: "POST", headers: request.headers, body: new Uint8Array(bytes), signal: request.signal });
      } catch (error) {
        if (error instanceof BodyTooLargeError) return responseForError(error);
        throw error;
      }
    }
  }
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req: body,
    router: appRouter,
    createContext: () => ({ auth }),
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR") console.error(`tRPC ${path ?? "?"}:`, error.cause ?? error);
    },
  });
}

export { handler as GET, handler as POST };
