import { z } from "zod";
import { defineNode, requireInput } from "./graph/define-node";
import { planInput } from "./graph/plan";
import { degradeRealEsrgan, realEsrganDegradeOptions } from "./image/degrade";
import { bicubicDownscale } from "./image/resample";
import { createRng } from "./image/rng";

export const degradeNode = defineNode({
  type: "degrade",
  title: "Degrade",
  category: "Degrade",
  description: "Makes a low-resolution input from a clean photo: Real-ESRGAN second-order degradation, or MATLAB bicubic-down.",
  params: realEsrganDegradeOptions.extend({
    mode: z
      .enum(["bicubic-down", "realesrgan"])
      .default("bicubic-down")
      .describe("bicubic-down: the classic SR benchmark LR; realesrgan: random blur, resize, noise and JPEG, twice"),
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(0).describe("Seed for every random choice: same seed, same bytes"),
  }),
  inputs: { image: { type: "image", label: "Image" } },
  outputs: { image: { type: "image", label: "Low-res image" } },
  async plan({ inputs, params }) {
    const image = planInput(inputs, "image", "image");
    const width = Math.floor(image.width / params.scale);
    const height = Math.floor(image.height / params.scale);
    if (width < 1 || height < 1) throw new Error(`${image.width}x${image.height} is too small for scale ${params.scale}`);
    // Separable resampling keeps one pass's result; the Real-ESRGAN chain keeps a few full-size copies.
    const workBytes = params.mode === "bicubic-down" ? width * image.height * 12 : image.width * image.height * 12 * 3;
    return { outputs: { image: { kind: "image", width, height } }, workBytes };
  },
  async run({ inputs, params, ctx }) {
    const image = requireInput(inputs, "image", "image");
    if (params.mode === "bicubic-down") return { image: bicubicDownscale(image, params.scale) };
    const result = await degradeRealEsrgan(image, params, createRng(params.seed), (img, quality) => ctx.host.jpegRoundTrip(img, quality), ctx.signal);
    ctx.log(result.trace.join(", "));
    return { image: result.image };
  },
});
