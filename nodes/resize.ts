import { z } from "zod";
import { defineNode, requireInput } from "./graph/define-node";
import { planInput } from "./graph/plan";
import { resize } from "./image/resample";

export const resizeNode = defineNode({
  type: "resize",
  title: "Resize",
  category: "Transform",
  description: "Resizes by a factor or to a size with bicubic, lanczos, area, bilinear or nearest (MATLAB imresize rules).",
  params: z.object({
    by: z.enum(["factor", "size"]).default("factor").describe("Scale by a factor, or to a width and height"),
    factor: z.number().min(0.01).max(16).default(4).describe("Scale factor (by factor)"),
    width: z.number().int().min(0).max(16384).default(0).describe("Target width; 0 keeps the aspect ratio from height (by size)"),
    height: z.number().int().min(0).max(16384).default(0).describe("Target height; 0 keeps the aspect ratio from width (by size)"),
    kernel: z.enum(["bicubic", "lanczos", "area", "bilinear", "nearest"]).default("bicubic").describe("Interpolation kernel"),
    antialias: z.boolean().default(true).describe("Widen the kernel when shrinking, as MATLAB does"),
  }),
  inputs: { image: { type: "image", label: "Image" } },
  outputs: { image: { type: "image", label: "Image" } },
  check: ({ params }) =>
    params.by === "size" && params.width === 0 && params.height === 0 ? ["set a width, a height or both"] : [],
  async plan({ inputs, params }) {
    const image = planInput(inputs, "image", "image");
    const [width, height] = targetSize(image.width, image.height, params);
    return {
      outputs: { image: { kind: "image", width, height } },
      workBytes: width * image.height * 12, // the first pass's result
    };
  },
  async run({ inputs, params }) {
    const image = requireInput(inputs, "image", "image");
    const [width, height] = targetSize(image.width, image.height, params);
    return { image: resize(image, { width, height, kernel: params.kernel, antialias: params.antialias }) };
  },
});

function targetSize(w: number, h: number, params: { by: string; factor: number; width: number; height: number }): [number, number] {
  if (params.by === "factor") return [Math.max(1, Math.round(w * params.factor)), Math.max(1, Math.round(h * params.factor))];
  if (params.width && params.height) return [params.width, params.height];
  if (params.width) return [params.width, Math.max(1, Math.round((h * params.width) / w))];
  return [Math.max(1, Math.round((w * params.height) / h)), params.height];
}
