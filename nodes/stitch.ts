import { z } from "zod";
import { defineNode, requireInput } from "./graph/define-node";
import { planInput } from "./graph/plan";
import { stitchTiles } from "./image/tiling";

export const stitchNode = defineNode({
  type: "stitch",
  title: "Stitch",
  category: "Tiling",
  description: "Places tiles at their scaled positions and blends the overlaps into one seamless image.",
  params: z.object({
    blend: z
      .enum(["crop", "linear", "cosine", "gaussian"])
      .default("cosine")
      .describe("crop: centre of each overlap; linear: feather; cosine: half-sine feather; gaussian: per-tile Gaussian weights"),
  }),
  inputs: { tiles: { type: "tiles", label: "Tiles" } },
  outputs: { image: { type: "image", label: "Image" } },
  async plan({ inputs }) {
    const { grid } = planInput(inputs, "tiles", "tiles");
    const width = Math.round(grid.sourceWidth * grid.scale);
    const height = Math.round(grid.sourceHeight * grid.scale);
    // The blend weights' sum per output pixel.
    return { outputs: { image: { kind: "image", width, height } }, workBytes: width * height * 4 };
  },
  async run({ inputs, params }) {
    return { image: stitchTiles(requireInput(inputs, "tiles", "tiles"), params.blend) };
  },
});
