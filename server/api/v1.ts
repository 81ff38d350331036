// The plain-HTTP API for scripts (/api/v1/...): each route handler authenticates first (nothing is read or
// written for a caller without a valid key or browser session), then calls the same tRPC procedures as the UI
// through createCaller, and answers JSON errors with the procedure's HTTP status.
import { readArtifact, readArtifactContent } from "../db/artifacts";
import { artifactKeyOf, readDeepZoomTile } from "../storage/artifacts";
import { authenticate } from "./auth";
import { BodyTooLargeError, errorResponse, HttpError, json, maxUploadBytes, readBody, responseForError } from "./http";
import { createCaller } from "./root";

export type Api = ReturnType<typeof createCaller>;

export interface V1Request<P> {
  request: Request;
  api: Api;
  params: P;
}

/** Wraps a handler; what it returns is sent as JSON (a Response is sent as is). */
export function v1<P = Record<string, never>>(
  handler: (call: V1Request<P>) => Promise<unknown>,
  options: { status?: number } = {},
): (request: Request, context: { params: Promise<P> }) => Promise<Response> {
  return async (request, context) => {
    try {
      const auth = await authenticate(request.headers);
      if (!auth.caller) {
        // The body is left unread: an unauthenticated upload costs the server nothing.
        request.body?.cancel().catch(() => undefined);
        return errorResponse(401, "UNAUTHORIZED", auth.problem);
      }
      const params = context?.params ? await context.params : ({} as P);
      const result = await handler({ request, api: createCaller({ auth }, { signal: request.signal }), params });
      return result instanceof Response ? result : json(result, options.status ?? 200);
    } catch (error) {
      if (error instanceof BodyTooLargeError) request.body?.cancel().catch(() => undefined);
      return responseForError(error);
    }
  };
}

/**
 * An uploaded file as a form for the upload procedures: a multipart body (field `file`), or the raw bytes with
 * the file name in `?name=` or `Content-Disposition: attachment; filename="..."`.
 */
export async function uploadedForm(request: Request, kind: "image" | "model"): Promise<FormData> {
  const type = request.headers.get("content-type") ?? "";
  const body = await readBody(request, maxUploadBytes(kind));
  if (type.toLowerCase().startsWith("multipart/form-data")) {
    try {
      return await new Response(new Uint8Array(body), { headers: { "content-type": type } }).formData();
    } catch (error) {
      throw new HttpError(400, "BAD_REQUEST", `malformed multipart body: ${(error as Error).message}`);
    }
  }
  const name =
    new URL(request.url).searchParams.get("name") ??
    /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(request.headers.get("content-disposition") ?? "")?.[1] ??
    "upload";
  const form = new FormData();
  form.set("file", new File([new Uint8Array(body)], safeDecode(name)));
  // Other form fields (a model's id and title) as query parameters.
  for (const [field, value] of new URL(request.url).searchParams) if (field !== "name") form.set(field, value);
  return form;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Query-string values, for list filters. */
export function query(request: Request): URLSearchParams {
  return new URL(request.url).searchParams;
}

/** Content type of a stored image format. */
export function imageType(format: string): string {
  return { png: "image/png", jpeg: "image/jpeg", jpg: "image/jpeg", webp: "image/webp", gif: "image/gif", tiff: "image/tiff" }[format] ?? "application/octet-stream";
}

/** Keeps idle SSE connections (and proxies in between) from timing out while a long node runs. */
const SSE_PING_MS = 15_000;

/**
 * An async iterable of events as a `text/event-stream` response: `event: <type>` + `data: <json>` per event.
 * The first event is awaited before answering, so an error there (an unknown id) is still a plain HTTP error.
 */
export async function eventStream(events: AsyncIterable<{ type: string }>, signal: AbortSignal): Promise<Response> {
  const iterator = events[Symbol.asyncIterator]();
  const first = await iterator.next();
  const encoder = new TextEncoder();
  const frame = (event: { type: string }) => encoder.encode(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  let ping: ReturnType<typeof setInterval> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      ping = setInterval(() => controller.enqueue(encoder.encode(": ping\n\n")), SSE_PING_MS);
      try {
        if (!first.done) controller.enqueue(frame(first.value));
        for (let next = await iterator.next(); !next.done && !signal.aborted; next = await iterator.next()) {
          controller.enqueue(frame(next.value));
        }
      } catch (error) {
        if (!signal.aborted) controller.enqueue(frame({ type: "error", message: (error as Error).message } as { type: string }));
      } finally {
        clearInterval(ping);
        controller.close();
      }
    },
    async cancel() {
      clearInterval(ping);
      await iterator.return?.();
    },
  });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-accel-buffering": "no" },
  });
}

/** An artifact's bytes as a download (an uploaded input or a run output), after `api` checked the caller and the id. */
export async function artifactDownload(api: Api, id: string): Promise<Response> {
  const artifact = await api.artifacts.get({ id }); // auth, 404 and validation as for every procedure
  const { bytes } = await readArtifactContent(artifact.id);
  const extension = artifact.format === "jpeg" ? "jpg" : artifact.format;
  const name = `${artifact.kind === "output" ? (artifact.name ?? "output") : "input"}-${artifact.id}.${extension}`;
  return new Response(new Uint8Array(bytes), {
    headers: {
      "content-type": imageType(artifact.format),
      "content-length": String(bytes.length),
      "content-disposition": `attachment; filename="${name}"`,
      "x-content-type-options": "nosniff",
      "cache-control": "private, max-age=31536000, immutable",
    },
  });
}

/** One tile of a large output's Deep Zoom pyramid (`artifacts.tiles` describes it), after `api` checked the caller. */
export async function artifactTile(api: Api, id: string, level: string, tile: string): Promise<Response> {
  await api.artifacts.get({ id }); // auth, 404 and validation as for every procedure
  const bytes = await readDeepZoomTile(artifactKeyOf((await readArtifact(id)).file), level, tile);
  return new Response(new Uint8Array(bytes), {
    headers: {
      "content-type": imageType(tile.slice(tile.lastIndexOf(".") + 1)),
      "content-length": String(bytes.length),
      "x-content-type-options": "nosniff",
      "cache-control": "private, max-age=31536000, immutable",
    },
  });
}
