import { z } from "zod";
import { defineNode } from "./graph/define-node";
import { planValueBytes } from "./graph/plan";

export const loadImageNode = defineNode({
  type: "load-image",
  title: "Load image",
  category: "Input/Output",
  description: "Reads one of the run's input images (PNG, JPEG, WebP...) as 8-bit RGB, EXIF orientation applied.",
  params: z.object({
    input: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,40}$/, "input names use letters, digits, '_' and '-'")
      // A run's inputs travel as a JSON object, whose parsers drop (or turn into a prototype) a "__proto__" key.
      .refine((name) => name !== "__proto__", '"__proto__" cannot name a run input')
      .default("input")
      .describe("Name of the run input this node reads"),
  }),
  inputs: {},
  outputs: { image: { type: "image", label: "Image" } },
  identify: ({ params, host }) => host.inputKey(params.input),
  async plan({ params, ctx }) {
    const { width, height } = await ctx.host.inputSize(params.input);
    const image = { kind: "image" as const, width, height };
    // The decoder's 8-bit pixels beside the float image they become.
    return { outputs: { image }, workBytes: planValueBytes(image) / 4 };
  },
  async run({ params, ctx }) {
    const { image, notes } = await ctx.host.loadInput(params.input);
    for (const note of notes) ctx.log(note);
    return { image };
  },
});
