import { createTRPCRouter, publicProcedure } from "../trpc";

export const sessionRouter = createTRPCRouter({
  /** Who this request is, without failing: lets the UI tell a signed-out browser to open the sign-in link. */
  whoami: publicProcedure.query(({ ctx }) =>
    ctx.auth.caller
      ? { signedIn: true as const, kind: ctx.auth.caller.kind, key: ctx.auth.caller.kind === "key" ? ctx.auth.caller.key.prefix : null }
      : { signedIn: false as const, problem: ctx.auth.problem },
  ),
});
