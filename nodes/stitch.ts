import { z } from "zod";
import { defineNode, requireInput } from "./graph/define-node";
import { planInput } from "./graph/plan";
import { readsStreams, streamImage, tileRects, tilesOf } from "./graph/stream";
import { BandStitcher } from "./image/tiling";

/**
 * Blends tiles as they come (row-major) and hands on each band of output rows once no tile still to come
 * reaches it: read part by part (save-image), the whole image never exists; a reader wanting it whole gets it.
 */
export const stitchNode = readsStreams(
  defineNode({
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
      const set = requireInput(inputs, "tiles", "tiles");
      const stitcher = new BandStitcher(set.grid, tileRects(set), params.blend);
      const image = streamImage(stitcher.width, stitcher.height, async (push) => {
        for await (const tile of tilesOf(set)) {
          for (const band of stitcher.add(tile)) await push(band);
        }
      });
      return { image };
    },
  }),
  "tiles",
);
