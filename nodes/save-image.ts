import { z } from "zod";
import { defineNode, requireInput } from "./graph/define-node";
import { planInput } from "./graph/plan";
import { readsStreams, savesRows, wholeValue } from "./graph/stream";

export const saveImageNode = readsStreams(
  defineNode({
    type: "save-image",
    title: "Save image",
    category: "Input/Output",
    description: "Writes an image as one of the run's outputs (PNG, JPEG or WebP, 8-bit RGB).",
    params: z.object({
      output: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,40}$/, "output names use letters, digits, '_' and '-'")
        .default("output")
        .describe("Name of the run output"),
      format: z.enum(["png", "jpeg", "webp"]).default("png").describe("File format"),
      quality: z.number().int().min(1).max(100).default(92).describe("JPEG/WebP quality"),
    }),
    inputs: { image: { type: "image", label: "Image" } },
    outputs: {},
    sideEffect: true,
    async plan({ inputs }) {
      const { width, height } = planInput(inputs, "image", "image");
      // 8-bit pixels for the encoder, and the encoder's own copy.
      return { outputs: {}, workBytes: width * height * 6 };
    },
    async run({ inputs, params, ctx }) {
      const image = requireInput(inputs, "image", "image");
      const options = { format: params.format, quality: params.quality };
      // A host that encodes rows as they come takes the image streamed; any other gets it whole.
      if (savesRows(ctx.host)) await ctx.host.saveOutputRows(params.output, image, options);
      else await ctx.host.saveOutput(params.output, await wholeValue(image), options);
      return {};
    },
  }),
  "image",
);
