import { z } from "zod";
import { deleteModel, getModel, listModels, uploadModel } from "../../db/models";
import { fileOfForm, uploadForm } from "./artifacts";
import { apiProcedure, createTRPCRouter } from "../trpc";

const modelId = z.string().min(1).max(100);

export const modelsRouter = createTRPCRouter({
  /** Built-in models first, then uploads: scale, value range, layout, size, source. */
  list: apiProcedure.query(() => listModels()),

  get: apiProcedure.input(z.object({ id: modelId })).query(({ input }) => getModel(input.id)),

  /**
   * A `.onnx` super-resolution model in the form field `file` (optional fields `id`, `title`): probed for its
   * scale, layout and value range; a file that is not such a model is refused with the reason.
   */
  upload: apiProcedure.input(uploadForm).mutation(async ({ input }) => {
    const text = (field: string) => {
      const value = input.get(field);
      return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
    };
    return uploadModel({ ...(await fileOfForm(input)), id: text("id"), title: text("title") });
  }),

  /** Uploaded models only. */
  delete: apiProcedure.input(z.object({ id: modelId })).mutation(async ({ input }) => {
    await deleteModel(input.id);
    return { id: input.id, deleted: true };
  }),
});
