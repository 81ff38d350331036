import { z } from "zod";
import { defineNode, requireInput } from "./graph/define-node";
import { planInput } from "./graph/plan";
import { psnrY, ssimY } from "./image/metrics";
import { crop } from "./image/tiling";

export const metricsNode = defineNode({
  type: "metrics",
  title: "Metrics",
  category: "Evaluate",
  description: "PSNR and SSIM on the Y channel against a reference, border shaved by the scale (BasicSR rules).",
  params: z.object({
    label: z.string().min(1).max(80).default("result").describe("Name of this result in the run's metrics table"),
    shave: z.number().int().min(0).max(64).default(4).describe("Border pixels left out on every side (usually the scale)"),
  }),
  inputs: {
    image: { type: "image", label: "Image" },
    reference: { type: "image", label: "Reference" },
  },
  outputs: {
    psnr: { type: "number", label: "PSNR (dB)" },
    ssim: { type: "number", label: "SSIM" },
  },
  sideEffect: true,
  async plan({ inputs }) {
    const { width, height } = planInput(inputs, "image", "image");
    planInput(inputs, "reference", "image");
    // Y planes of both images and SSIM's filtered planes.
    return { outputs: { psnr: { kind: "number" }, ssim: { kind: "number" } }, workBytes: width * height * 4 * 7 };
  },
  async run({ inputs, params, ctx }) {
    const image = requireInput(inputs, "image", "image");
    let reference = requireInput(inputs, "reference", "image");
    // A reference a few pixels larger is the usual mod-crop case (its size was not a multiple of the scale).
    const dw = reference.width - image.width;
    const dh = reference.height - image.height;
    if (dw >= 0 && dh >= 0 && dw < 16 && dh < 16 && (dw || dh)) {
      ctx.log(`reference cropped from ${reference.width}x${reference.height} to ${image.width}x${image.height}`);
      reference = crop(reference, 0, 0, image.width, image.height);
    }
    const psnr = psnrY(image, reference, params.shave);
    const ssim = ssimY(image, reference, params.shave);
    ctx.host.reportMetric({ nodeId: ctx.nodeId, label: params.label, psnr, ssim, width: image.width, height: image.height, shave: params.shave });
    return { psnr, ssim };
  },
});
