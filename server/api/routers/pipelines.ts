import { z } from "zod";
import {
  createPipeline,
  deletePipeline,
  duplicatePipeline,
  getPipeline,
  listPipelines,
  listVersions,
  renamePipeline,
  restoreVersion,
  savePipelineVersion,
} from "../../db/pipelines";
import type { Graph } from "../../../nodes/graph/schema";
import { type GraphProblem, GraphValidationError, parseGraph, validateGraph } from "../../../nodes/graph/validate";
import { nodeRegistry } from "../../../nodes/index";
import { graphInput, idInput, nameInput, storableText, validGraph } from "../graph-input";
import { apiProcedure, createTRPCRouter } from "../trpc";

const versionNumber = z.number().int().positive();

/** What export writes and import reads: a name and a graph, nothing that belongs to this studio's database. */
export const pipelineFileSchema = z.object({
  format: z.literal("tudsr-pipeline").optional(),
  name: nameInput,
  graph: graphInput,
});

/** Store a graph that has semantic problems (a draft the editor saves while work is in progress). */
export const allowProblemsInput = z
  .boolean()
  .default(false)
  .describe("store a graph with semantic problems (unconnected inputs, cycles...) as a draft; schema errors are still refused");

/**
 * The graph to store and its semantic problems. Without `allowProblems` only a valid graph passes (400 listing
 * every problem otherwise); with it, a graph that passes the schema is kept with its problems, which the
 * result reports (a run of it is refused with the same problems). A graph failing the schema is always refused.
 */
function graphToStore(input: unknown, allowProblems: boolean): { graph: Graph; problems: GraphProblem[] } {
  if (!allowProblems) return { graph: validGraph(input), problems: [] };
  const parsed = parseGraph(input);
  if (!parsed.graph) throw new GraphValidationError(parsed.problems);
  return { graph: parsed.graph, problems: validateGraph(parsed.graph, nodeRegistry) };
}

export const pipelinesRouter = createTRPCRouter({
  list: apiProcedure
    .input(
      z
        .object({
          search: z.string().max(200).optional(),
          sort: z.enum(["updated", "created", "name"]).optional(),
        })
        .optional(),
    )
    .query(({ input }) => listPipelines(input ?? {})),

  get: apiProcedure
    .input(z.object({ id: idInput, version: versionNumber.optional() }))
    .query(({ input }) => getPipeline(input.id, input.version)),

  /** `problems`: the stored graph's semantic problems (empty unless `allowProblems`). */
  create: apiProcedure
    .input(z.object({ name: nameInput, graph: graphInput, allowProblems: allowProblemsInput }))
    .mutation(async ({ input }) => {
      const { graph, problems } = graphToStore(input.graph, input.allowProblems);
      return { ...(await createPipeline(input.name, graph)), problems };
    }),

  /** Saves the graph as the pipeline's next version; earlier versions stay as they were. */
  save: apiProcedure
    .input(z.object({ id: idInput, graph: graphInput, message: storableText.pipe(z.string().max(500)).optional(), allowProblems: allowProblemsInput }))
    .mutation(async ({ input }) => {
      const { graph, problems } = graphToStore(input.graph, input.allowProblems);
      return { ...(await savePipelineVersion(input.id, graph, input.message)), problems };
    }),

  versions: apiProcedure.input(z.object({ id: idInput })).query(({ input }) => listVersions(input.id)),

  /** Saves an old version's graph again as the newest version. */
  restore: apiProcedure
    .input(z.object({ id: idInput, version: versionNumber }))
    .mutation(({ input }) => restoreVersion(input.id, input.version)),

  rename: apiProcedure
    .input(z.object({ id: idInput, name: nameInput }))
    .mutation(({ input }) => renamePipeline(input.id, input.name)),

  duplicate: apiProcedure
    .input(z.object({ id: idInput, name: nameInput.optional() }))
    .mutation(({ input }) => duplicatePipeline(input.id, input.name)),

  delete: apiProcedure.input(z.object({ id: idInput })).mutation(async ({ input }) => {
    await deletePipeline(input.id);
    return { id: input.id, deleted: true };
  }),

  /** The pipeline file (a version's graph, the latest by default) as the editor downloads it. */
  export: apiProcedure
    .input(z.object({ id: idInput, version: versionNumber.optional() }))
    .query(async ({ input }) => {
      const pipeline = await getPipeline(input.id, input.version);
      return { format: "tudsr-pipeline" as const, name: pipeline.name, graph: pipeline.version.graph };
    }),

  /** Creates a new pipeline from an exported file; an invalid graph is refused with every problem listed. */
  import: apiProcedure
    .input(pipelineFileSchema)
    .mutation(({ input }) => createPipeline(input.name, validGraph(input.graph), "Imported")),
});
