// tRPC set-up (create-t3-app layout): the context (who is calling), the procedure builders and the one place
// where the errors of plain modules become HTTP-meaningful tRPC errors.
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { type GraphProblem, GraphValidationError } from "../../nodes/graph/validate";
import { ImageDecodeError } from "../images/codec";
import { BadInputError, NotFoundError } from "../platform/errors";
import { authenticate, type Authentication, type Caller } from "./auth";

export interface Context {
  auth: Authentication;
}

/** For the tRPC route and the /api/v1 handlers: authenticates from the request headers. */
export async function createContext({ headers }: { headers: Headers }): Promise<Context> {
  return { auth: await authenticate(headers) };
}

/** For in-process callers (CLI, tests) that hold the data folder and need no key. */
export function localContext(caller: Caller = { kind: "local" }): Context {
  return { auth: { caller } };
}

/** A client's mistake that a plain module reports (bad upload, path tricks, unknown override node...). */
function isBadInput(error: unknown): error is Error {
  return error instanceof BadInputError || error instanceof ImageDecodeError;
}

/** The issues of a failed input validation (zod's, or the Standard Schema error tRPC wraps them in). */
export function inputIssues(cause: unknown): { path: string; message: string }[] | undefined {
  if (!cause || typeof cause !== "object" || !("issues" in cause) || !Array.isArray(cause.issues)) return undefined;
  return (cause.issues as { path?: readonly (PropertyKey | { key: PropertyKey })[]; message: string }[]).map((issue) => ({
    path: (issue.path ?? []).map((part) => String(typeof part === "object" ? part.key : part)).join("."),
    message: issue.message,
  }));
}

const t = initTRPC.context<Context>().create({
  // Dates (createdAt, finishedAt...) reach the browser as Dates; the client links use superjson too.
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    // Every problem of an invalid graph, each with the node or edge it is about.
    const problems: GraphProblem[] | undefined = cause instanceof GraphValidationError ? cause.problems : undefined;
    // Input validation: which field and why.
    const issues = error.code === "BAD_REQUEST" ? inputIssues(cause) : undefined;
    return { ...shape, data: { ...shape.data, ...(problems ? { problems } : {}), ...(issues ? { issues } : {}) } };
  },
});

/** Plain modules throw their own errors; the client sees 404 / 400 instead of 500 for them. */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (result.ok) return result;
  const cause = result.error.cause;
  if (cause instanceof NotFoundError) throw new TRPCError({ code: "NOT_FOUND", message: cause.message, cause });
  if (cause instanceof GraphValidationError || isBadInput(cause)) {
    throw new TRPCError({ code: "BAD_REQUEST", message: cause.message, cause });
  }
  return result;
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** No caller needed (nothing that reads or changes studio data). */
export const publicProcedure = t.procedure.use(mapErrors);

/** The browser UI (session cookie), a script (API key) or an in-process caller; anyone else gets 401. */
export const apiProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.auth.caller) throw new TRPCError({ code: "UNAUTHORIZED", message: ctx.auth.problem });
  return next({ ctx: { caller: ctx.auth.caller } });
});

/** How a run was started, as the runs table records it. */
export function triggerOf(caller: Caller): "ui" | "api" | "cli" {
  return caller.kind === "browser" ? "ui" : caller.kind === "key" ? "api" : "cli";
}

/** The studio's own users only (browser UI, CLI): an API key cannot manage keys, so a leaked key cannot mint more. */
export const ownerProcedure = apiProcedure.use(({ ctx, next }) => {
  if (ctx.caller.kind === "key") {
    throw new TRPCError({ code: "FORBIDDEN", message: "API keys are managed from the studio or the CLI, not with an API key" });
  }
  return next();
});
