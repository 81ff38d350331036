import { z } from "zod";
import { NodeRunError } from "../../../nodes/graph/engine";
import type { ImageShape } from "../../../nodes/graph/plan";
import { inputArtifactSize } from "../../db/artifacts";
import { RUN_STATUSES, RUN_TRIGGERS } from "../../db/run-statuses";
import { getRun, listRuns } from "../../db/runs";
import { BadInputError } from "../../platform/errors";
import { watchRun } from "../../runs/events";
import { planningInference, planRun } from "../../runs/plan-run";
import { requeue, rerun, runQueue, submitRun } from "../../runs/queue";
import { resolveRunRequest } from "../../runs/request";
import { graphInput, idInput } from "../graph-input";
import { apiProcedure, createTRPCRouter, triggerOf } from "../trpc";

const overrideSchema = z.object({
  nodeId: z.string().min(1).max(64),
  param: z.string().min(1).max(64),
  value: z.unknown(),
});

export const startRunInput = z
  .object({
    /** A saved pipeline: its latest version, or `version`. */
    pipelineId: idInput.optional(),
    version: z.number().int().positive().optional(),
    /** A template's slug, e.g. `x4-chunked`. */
    template: z.string().min(1).max(100).optional(),
    /** An unsaved graph (the editor's current canvas). */
    graph: graphInput.optional(),
    /** Parameter overrides, e.g. `{ nodeId: "generate", param: "model", value: "esrgan-slim-x4" }`. */
    overrides: z.array(overrideSchema).max(200).default([]),
    /** load-image input name -> uploaded artifact id, e.g. `{ input: "cm..." }`. */
    inputs: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,40}$/), idInput).default({}),
  })
  .refine((run) => [run.pipelineId, run.template, run.graph].filter((source) => source !== undefined).length === 1, {
    message: "give exactly one of pipelineId, template or graph",
  })
  .refine((run) => run.version === undefined || run.pipelineId !== undefined, {
    message: "version needs pipelineId",
    path: ["version"],
  });

export const listRunsInput = z
  .object({
    status: z.union([z.enum(RUN_STATUSES), z.array(z.enum(RUN_STATUSES))]).optional(),
    pipelineId: idInput.optional(),
    template: z.string().min(1).max(100).optional(),
    trigger: z.enum(RUN_TRIGGERS).optional(),
    limit: z.number().int().min(1).max(200).optional(),
    cursor: idInput.optional(),
  })
  .optional();

export const rerunInput = z.object({
  id: idInput,
  force: z.boolean().default(false).describe("Run even where the stamp of the executing machine differs from the recorded one (the differences are recorded)"),
});

export const runsRouter = createTRPCRouter({
  /** Queues a run; it executes when a worker takes it. Follow it with `get` or the `events` subscription. */
  start: apiProcedure.input(startRunInput).mutation(({ input, ctx }) =>
    submitRun({
      pipelineId: input.pipelineId,
      pipelineVersion: input.version,
      templateSlug: input.template,
      graph: input.graph,
      overrides: input.overrides,
      inputs: input.inputs,
      trigger: triggerOf(ctx.caller),
    }),
  ),

  /**
   * What a run of the same input would do, before it runs: each chunk node's tiles, each generate node's model,
   * precision, provider, tiles and predicted time, the predicted total and peak memory (from this machine's
   * measurements). A mutation only because its input (a whole graph) can be too large for a GET's URL.
   */
  plan: apiProcedure.input(startRunInput).mutation(async ({ input }) => {
    const inference = planningInference();
    const request = { pipelineId: input.pipelineId, pipelineVersion: input.version, templateSlug: input.template, graph: input.graph, overrides: input.overrides };
    const { prepared } = await resolveRunRequest(request, inference);
    const sizes = new Map<string, ImageShape>();
    for (const [name, id] of Object.entries(input.inputs)) sizes.set(name, await inputArtifactSize(name, id));
    try {
      return await planRun(prepared, {
        inference,
        sizes: async (name) => {
          const size = sizes.get(name);
          if (!size) throw new Error(`the run has no input named "${name}" (given: ${[...sizes.keys()].join(", ") || "none"})`);
          return size;
        },
      });
    } catch (error) {
      // A node that cannot be planned (an unknown model, a missing input, an image too small) is the caller's to fix.
      throw error instanceof NodeRunError ? new BadInputError(error.message) : error;
    }
  }),

  /** A queued run never starts; a running one stops within a tile. */
  cancel: apiProcedure.input(z.object({ id: idInput })).mutation(async ({ input }) => {
    await getRun(input.id); // unknown id: 404
    const result = await runQueue.cancel(input.id);
    return { id: input.id, result, run: await getRun(input.id) };
  }),

  /** Runs an interrupted, failed or canceled run again, as a new run. */
  requeue: apiProcedure
    .input(z.object({ id: idInput }))
    .mutation(({ input, ctx }) => requeue(input.id, triggerOf(ctx.caller))),

  /**
   * Re-runs a run exactly (its stamp's graph, the same inputs, precisions and providers), as a new run. Its
   * executor compares the stamp of its machine with the recorded one first; unless `force`, any difference
   * fails the new run with the list of what changed.
   */
  rerun: apiProcedure
    .input(rerunInput)
    .mutation(({ input, ctx }) => rerun(input.id, { force: input.force, trigger: triggerOf(ctx.caller) })),

  get: apiProcedure.input(z.object({ id: idInput })).query(({ input }) => getRun(input.id)),

  list: apiProcedure.input(listRunsInput).query(({ input }) => {
    const { template, ...filter } = input ?? {};
    return listRuns({ ...filter, templateSlug: template });
  }),

  /** Live progress (tRPC subscription over SSE): a snapshot of the run, then its events until it ends. */
  events: apiProcedure.input(z.object({ id: idInput })).subscription(async ({ input, signal }) => {
    await getRun(input.id); // here, not in the stream: an unknown id fails the call itself, with NOT_FOUND
    return watchRun(input.id, { signal });
  }),
});
