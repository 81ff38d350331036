import { z } from "zod";
import type { RunContext } from "./graph/context";
import { defineNode, type OutputValues, type Ports, requireInput, throwIfAborted } from "./graph/define-node";
import { type NodePlanResult, planInput, type PlanValue } from "./graph/plan";
import { streamTiles, tileRects } from "./graph/stream";
import type { Tile, TileSet } from "./graph/values";
import type { RgbImage } from "./image/types";

const repeatPorts: { inputs: Ports; outputs: Ports } = {
  inputs: {
    image: { type: "image", label: "Image" },
    "body-out": { type: "image", label: "Body result", internal: true },
  },
  outputs: {
    image: { type: "image", label: "Image" },
    "body-in": { type: "image", label: "Body input", internal: true },
  },
};

const mapPorts: { inputs: Ports; outputs: Ports } = {
  inputs: {
    tiles: { type: "tiles", label: "Tiles" },
    "body-out": { type: "image", label: "Tile result", internal: true },
  },
  outputs: {
    tiles: { type: "tiles", label: "Tiles" },
    "body-in": { type: "image", label: "One tile", internal: true },
  },
};

export const loopNode = defineNode({
  type: "loop",
  title: "Loop",
  category: "Control",
  description: "Container: repeats its body N times (each pass feeds the next) or maps it over every tile.",
  params: z.object({
    mode: z.enum(["repeat", "map"]).default("repeat").describe("repeat: run the body N times in a row; map: run it once per tile"),
    times: z.number().int().min(1).max(8).default(2).describe("How many times to repeat (repeat mode)"),
  }),
  inputs: (params) => (params.mode === "map" ? mapPorts.inputs : repeatPorts.inputs),
  outputs: (params) => (params.mode === "map" ? mapPorts.outputs : repeatPorts.outputs),
  container: true,
  async plan({ inputs, params, ctx }): Promise<NodePlanResult> {
    if (params.mode === "repeat") {
      let value: PlanValue = planInput(inputs, "image", "image");
      for (let pass = 0; pass < params.times; pass++) value = await ctx.body!(value, pass);
      return { outputs: { image: value } };
    }
    const source = planInput(inputs, "tiles", "tiles");
    const tile = { kind: "image" as const, width: Math.round(source.grid.tileWidth * source.grid.scale), height: Math.round(source.grid.tileHeight * source.grid.scale) };
    let result: PlanValue = tile;
    for (let index = 0; index < source.rects.length; index++) result = await ctx.body!(tile, index);
    const scale = result.kind === "image" ? (source.grid.scale * result.width) / tile.width : source.grid.scale;
    return { outputs: { tiles: { ...source, grid: { ...source.grid, scale } } } };
  },
  async run({ inputs, params, ctx }): Promise<OutputValues> {
    return params.mode === "repeat"
      ? { image: await repeat(requireInput(inputs, "image", "image"), params.times, ctx) }
      : { tiles: await mapTiles(requireInput(inputs, "tiles", "tiles"), ctx) };
  },
});

async function repeat(image: RgbImage, times: number, ctx: RunContext): Promise<RgbImage> {
  for (let pass = 0; pass < times; pass++) {
    throwIfAborted(ctx.signal);
    image = (await ctx.body!(image, pass, ctx.signal)) as RgbImage;
    ctx.progress(pass + 1, times);
  }
  return image;
}

/**
 * Runs the body on each tile, handing the results on as they come (streamTiles: stitch blends each row of them
 * as it completes). The first tile runs before the set is handed on: its result gives the body's scale, which
 * stitch needs to place the tiles.
 */
async function mapTiles(source: TileSet, ctx: RunContext): Promise<TileSet> {
  if (!source.tiles.length) return source;
  const run = async (index: number): Promise<Tile> => {
    throwIfAborted(ctx.signal);
    const tile = source.tiles[index];
    const image = (await ctx.body!(tile.image, index, ctx.signal)) as RgbImage;
    ctx.progress(index + 1, source.tiles.length);
    return { ...tile, image };
  };
  const first = await run(0);
  const scale = (source.grid.scale * first.image.width) / source.tiles[0].image.width;
  return streamTiles({ ...source.grid, scale }, tileRects(source), async (push) => {
    await push(first);
    for (let index = 1; index < source.tiles.length; index++) {
      const tile = await run(index);
      if (tile.image.width !== first.image.width || tile.image.height !== first.image.height) {
        throw new Error(`tile ${index} came out ${tile.image.width}x${tile.image.height}, unlike the first (${first.image.width}x${first.image.height})`);
      }
      await push(tile);
    }
  });
}
