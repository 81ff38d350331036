import { z } from "zod";
import { executionProviders } from "../../inference/providers";
import { modelContentSchema, modelDegradationSchema, modelFilterSchema } from "../../models/filter";
import { deleteModel, getModel, listModels, makeModelInt8, type ModelUpload, type UploadedFile, uploadModel } from "../../models/library";
import { BadInputError } from "../../platform/errors";
import { apiProcedure, createTRPCRouter } from "../trpc";

const modelId = z.string().min(1).max(100);

/** The text fields of a model upload form; empty ones count as absent. */
export const modelUploadFields = z.object({
  id: z.string().trim().max(60).optional().describe("default: made from the file name"),
  title: z.string().trim().max(120).optional().describe("default: the file name"),
  content: modelContentSchema.optional().describe("what it was trained on: photo, art or unknown (the default)"),
  degradation: modelDegradationSchema.optional().describe("what it restores: bicubic (clean downscales), real-world or unknown (the default)"),
});

/**
 * A multipart form: one `.onnx` in the field `file`, or an ncnn pair in the fields `param` and `bin` (two
 * `file` fields holding a .param and a .bin work too), with the optional fields of modelUploadFields. The
 * fields are checked here, so a bad one is a 400 that names it (`error.issues`).
 */
export const modelUploadForm = z.instanceof(FormData).transform((form, ctx) => {
  const fields: Record<string, string> = {};
  for (const key of Object.keys(modelUploadFields.shape)) {
    const value = form.get(key);
    if (typeof value === "string" && value.trim() !== "") fields[key] = value;
    else if (value instanceof Blob) ctx.addIssue({ code: "custom", path: [key], message: "must be a text field, not a file" });
  }
  const parsed = modelUploadFields.safeParse(fields);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    return z.NEVER;
  }
  return { form, fields: parsed.data };
});

function isFile(value: FormDataEntryValue | null): value is File {
  return value instanceof Blob;
}

async function uploaded(file: Blob): Promise<UploadedFile> {
  const fileName = "name" in file && typeof file.name === "string" && file.name !== "" ? file.name : "upload";
  return { bytes: Buffer.from(await file.arrayBuffer()), fileName };
}

/** The file or files of an upload form: one .onnx, or a .param and a .bin. */
export async function modelFilesOfForm(form: FormData): Promise<Pick<ModelUpload, "bytes" | "fileName"> | { param: UploadedFile; bin: UploadedFile }> {
  const param = form.get("param");
  const bin = form.get("bin");
  const files = form.getAll("file").filter(isFile);
  if (isFile(param) || isFile(bin)) {
    if (files.length > 0) throw new BadInputError('send either a .onnx in "file" or an ncnn pair in "param" and "bin", not both');
    if (!isFile(param)) throw new BadInputError(`only the .bin${isFile(bin) && bin.name ? ` ("${bin.name}")` : ""} was sent: an ncnn model needs its .param too, in the form field "param"`);
    if (!isFile(bin)) throw new BadInputError(`only the .param${param.name ? ` ("${param.name}")` : ""} was sent: an ncnn model needs its .bin weights too, in the form field "bin"`);
    return { param: await uploaded(param), bin: await uploaded(bin) };
  }
  if (files.length === 0) throw new BadInputError('the upload has no file: send a .onnx in the form field "file", or an ncnn .param and .bin in "param" and "bin"');
  if (files.length === 1) {
    const only = await uploaded(files[0]);
    // A lone .param or .bin in "file": say what is missing rather than "not a .onnx file".
    if (/\.(param|bin)$/i.test(only.fileName)) {
      const missing = /\.param$/i.test(only.fileName) ? "its .bin weights" : "its .param";
      throw new BadInputError(`"${only.fileName}" is not a .onnx file, and an ncnn model needs ${missing} too: send the .param and the .bin together`);
    }
    return only;
  }
  if (files.length === 2) {
    const [a, b] = await Promise.all(files.map(uploaded));
    const paramFile = [a, b].find((file) => /\.param$/i.test(file.fileName));
    const binFile = [a, b].find((file) => /\.bin$/i.test(file.fileName));
    if (paramFile && binFile) return { param: paramFile, bin: binFile };
    throw new BadInputError(`two files ("${a.fileName}", "${b.fileName}") were sent: send one .onnx, or an ncnn .param with its .bin`);
  }
  throw new BadInputError(`${files.length} files were sent: send one .onnx, or an ncnn .param with its .bin`);
}

export const modelsRouter = createTRPCRouter({
  /**
   * Built-in models first, then uploads: scale, value range, layout, content, training degradation, padding,
   * the weights' origin and licence, the package's licence. Optionally only those matching a filter.
   */
  list: apiProcedure.input(modelFilterSchema.optional()).query(({ input }) => listModels(input ?? {})),

  get: apiProcedure.input(z.object({ id: modelId })).query(({ input }) => getModel(input.id)),

  /**
   * Makes the int8 variant of a model (a minute or several: calibration on real photo crops, then the fidelity
   * gate against fp32): the model comes back with `int8` offered, or refused with the reason.
   */
  makeInt8: apiProcedure.input(z.object({ id: modelId })).mutation(({ input }) => makeModelInt8(input.id)),

  /** The execution providers (cpu, webgpu, cuda) sessions can use on this server, and why not where not. */
  providers: apiProcedure.query(() => executionProviders()),

  /**
   * A super-resolution model: a `.onnx` in the form field `file`, or an ncnn `.param` + `.bin` pair in `param`
   * and `bin` (converted to ONNX); optional fields `id`, `title`, `content`, `degradation`. Probed for its
   * scale, layout and value range; a file or pair that is not such a model is refused with the reason.
   */
  upload: apiProcedure.input(modelUploadForm).mutation(async ({ input }) => {
    return uploadModel({ ...(await modelFilesOfForm(input.form)), ...input.fields } as ModelUpload);
  }),

  /** Uploaded models only. */
  delete: apiProcedure.input(z.object({ id: modelId })).mutation(async ({ input }) => {
    await deleteModel(input.id);
    return { id: input.id, deleted: true };
  }),
});
