import { z } from "zod";
import {
  createPipelineFromTemplate,
  deleteTemplate,
  getTemplate,
  listTemplates,
  saveTemplate,
  saveTemplateFromPipeline,
} from "../../db/templates";
import { graphInput, idInput, nameInput } from "../graph-input";
import { apiProcedure, createTRPCRouter } from "../trpc";

const slugOrId = z.string().min(1).max(100);
const description = z.string().max(2000).optional();
const slug = z.string().min(1).max(60).optional();

export const templatesRouter = createTRPCRouter({
  /** Built-in templates first, then user templates. */
  list: apiProcedure.query(() => listTemplates()),

  /** By slug (`x4-chunked`) or id, with its graph. */
  get: apiProcedure.input(z.object({ id: slugOrId })).query(({ input }) => getTemplate(input.id)),

  /** A new pipeline whose version 1 is the template's graph. */
  createPipeline: apiProcedure
    .input(z.object({ id: slugOrId, name: nameInput.optional() }))
    .mutation(({ input }) => createPipelineFromTemplate(input.id, input.name)),

  /** Saves a pipeline's graph (latest version or `version`) as a user template. */
  saveFromPipeline: apiProcedure
    .input(
      z.object({
        pipelineId: idInput,
        version: z.number().int().positive().optional(),
        name: nameInput.optional(),
        description,
        slug,
      }),
    )
    .mutation(({ input }) => {
      const { pipelineId, ...options } = input;
      return saveTemplateFromPipeline(pipelineId, options);
    }),

  /** Saves a graph (e.g. the editor's canvas) as a user template. */
  create: apiProcedure
    .input(z.object({ name: nameInput, graph: graphInput, description, slug }))
    .mutation(({ input }) => saveTemplate(input)),

  /** User templates only; built-in ones come from the repository. */
  delete: apiProcedure.input(z.object({ id: slugOrId })).mutation(async ({ input }) => {
    await deleteTemplate(input.id);
    return { id: input.id, deleted: true };
  }),
});
