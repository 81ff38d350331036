import { z } from "zod";
import { defineNode, requireInput } from "./graph/define-node";
import { cutTiles } from "./image/tiling";

export const chunkNode = defineNode({
  type: "chunk",
  title: "Chunk",
  category: "Tiling",
  description: "Cuts an image into equal overlapping tiles that cover it edge to edge.",
  params: z.object({
    tileSize: z.number().int().min(16).max(4096).default(128).describe("Tile width and height in input pixels"),
    overlap: z.number().int().min(0).max(512).default(16).describe("Minimum overlap between neighbouring tiles, in pixels"),
    multiple: z.number().int().min(1).max(64).default(1).describe("Round the tile size down to a multiple of this (a model's size multiple)"),
  }),
  inputs: { image: { type: "image", label: "Image" } },
  outputs: { tiles: { type: "tiles", label: "Tiles" } },
  check: ({ params }) =>
    params.overlap * 2 > params.tileSize ? [`overlap ${params.overlap} is more than half the tile size ${params.tileSize}`] : [],
  async run({ inputs, params }) {
    const image = requireInput(inputs, "image", "image");
    const size = Math.max(params.multiple, params.tileSize - (params.tileSize % params.multiple));
    return { tiles: cutTiles(image, size, size, params.overlap) };
  },
});
