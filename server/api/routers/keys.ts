import { z } from "zod";
import { createApiKey, listApiKeys, revokeApiKey } from "../../db/keys";
import { nameInput } from "../graph-input";
import { createTRPCRouter, ownerProcedure } from "../trpc";

export const keysRouter = createTRPCRouter({
  list: ownerProcedure.query(() => listApiKeys()),

  /** The answer carries `secret`, the whole key: it is shown this once and never stored. */
  create: ownerProcedure.input(z.object({ name: nameInput })).mutation(({ input }) => createApiKey(input.name)),

  /** By id or by prefix (`tudsr_3f9a1c2b`). */
  revoke: ownerProcedure
    .input(z.object({ id: z.string().min(1).max(100) }))
    .mutation(({ input }) => revokeApiKey(input.id)),
});
