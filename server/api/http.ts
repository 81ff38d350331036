// HTTP plumbing shared by the tRPC route and the /api/v1 handlers: body limits, JSON errors, status codes.
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { maxModelBytes } from "../models/library";
import { BadInputError, NotFoundError } from "../platform/errors";
import { uploadLimits } from "../storage/artifacts";
import { inputIssues } from "./trpc";

const MiB = 1024 * 1024;

function limitFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive number of bytes, got "${raw}"`);
  return value;
}

/**
 * Upload bodies: the storage's file limit (images: TUDSR_MAX_UPLOAD_BYTES, default 100 MB; .onnx models:
 * TUDSR_MAX_MODEL_BYTES, default 512 MB) plus room for a multipart form's framing.
 */
export function maxUploadBytes(kind: "image" | "model"): number {
  return (kind === "model" ? maxModelBytes() : uploadLimits().maxBytes) + 64 * 1024;
}

/** Every other body (JSON: graphs, run requests): TUDSR_MAX_JSON_BYTES, default 4 MiB. */
export function maxJsonBytes(): number {
  return limitFromEnv("TUDSR_MAX_JSON_BYTES", 4 * MiB);
}

/** A request the plumbing itself refuses (malformed JSON, a missing header...), with its HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the request body is over the limit of ${formatBytes(limit)}`);
    this.name = "BodyTooLargeError";
  }
}

function formatBytes(bytes: number): string {
  return bytes >= MiB ? `${+(bytes / MiB).toFixed(1)} MiB` : `${bytes} bytes`;
}

/** Whether a request carries a file (multipart or raw bytes) rather than JSON. */
export function isUpload(headers: Headers): boolean {
  const type = (headers.get("content-type") ?? "").toLowerCase();
  return type.startsWith("multipart/form-data") || (type !== "" && !type.includes("json") && !type.startsWith("text/"));
}

/**
 * Reads the whole body, refusing it as soon as it passes `limit`: first from Content-Length (nothing is read),
 * else while streaming (a chunked body is cut off at the limit, never buffered whole).
 */
export async function readBody(request: Request, limit: number): Promise<Buffer> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > limit) throw new BodyTooLargeError(limit);
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

/** The body as JSON, under the JSON limit; malformed JSON is a 400 that says where. */
export async function readJson(request: Request): Promise<unknown> {
  const text = (await readBody(request, maxJsonBytes())).toString("utf8");
  if (text.trim() === "") throw new HttpError(400, "BAD_REQUEST", "the request body is empty: send a JSON object");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, "BAD_REQUEST", `malformed JSON body: ${(error as Error).message}`);
  }
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body, null, 2), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    /** An invalid graph: every problem, with its node or edge id. */
    problems?: { nodeId?: string; edgeId?: string; message: string }[];
    /** Bad request fields. */
    issues?: { path: string; message: string }[];
  };
}

export function errorResponse(status: number, code: string, message: string, extra: Partial<ErrorBody["error"]> = {}): Response {
  const headers: Record<string, string> = status === 401 ? { "www-authenticate": 'Bearer realm="tudsr"' } : {};
  return json({ error: { code, message, ...extra } } satisfies ErrorBody, status, headers);
}

/** Any error from a procedure call or the plumbing as a JSON error response; unexpected ones are logged. */
export function responseForError(error: unknown): Response {
  if (error instanceof BodyTooLargeError) return errorResponse(413, "PAYLOAD_TOO_LARGE", error.message);
  if (error instanceof HttpError) return errorResponse(error.status, error.code, error.message);
  if (error instanceof TRPCError) {
    const status = getHTTPStatusCodeFromError(error);
    const data = error.cause;
    const extra: Partial<ErrorBody["error"]> = {};
    if (data && typeof data === "object" && "problems" in data && Array.isArray(data.problems)) {
      extra.problems = data.problems as ErrorBody["error"]["problems"];
    }
    if (error.code === "BAD_REQUEST") extra.issues = inputIssues(data);
    if (status >= 500) console.error(error.cause ?? error);
    // zod's own message is a JSON dump of the issues; one readable line instead.
    const message = extra.issues
      ? `invalid request: ${extra.issues.map((issue) => `${issue.path || "(body)"}: ${issue.message}`).join("; ")}`
      : status >= 500
        ? "internal error (see the server log)"
        : error.message;
    return errorResponse(status, error.code, message, extra);
  }
  if (error instanceof NotFoundError) return errorResponse(404, "NOT_FOUND", error.message);
  if (error instanceof BadInputError) return errorResponse(400, "BAD_REQUEST", error.message);
  console.error(error);
  return errorResponse(500, "INTERNAL_SERVER_ERROR", "internal error (see the server log)");
}
