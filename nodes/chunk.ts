import { z } from "zod";
import type { NodeReader } from "./graph/context";
import { defineNode, requireInput } from "./graph/define-node";
import type { ModelHost, RepeatedTiles } from "./graph/host";
import { type ImageShape, planInput } from "./graph/plan";
import { borderOverlap, type ModelCost, planTiles } from "./image/tile-plan";
import { cutTiles, tileLayout } from "./image/tiling";

const DEFAULT_TILE = 128;
const DEFAULT_OVERLAP = 16;

export const chunkNode = defineNode({
  type: "chunk",
  title: "Chunk",
  category: "Tiling",
  description: "Cuts an image into equal overlapping tiles that cover it edge to edge.",
  params: z.object({
    tileSize: z
      .union([z.literal("auto"), z.number().int().min(16).max(4096)])
      .default("auto")
      .describe("Tile width and height in input pixels; auto: the largest tiles (up to the whole image) whose measured memory for the model reading them fits TUDSR_MEMORY_BUDGET_MB"),
    overlap: z
      .union([z.literal("auto"), z.number().int().min(0).max(512)])
      .default("auto")
      .describe("Minimum overlap between neighbouring tiles, in pixels; auto: what the model's border needs (measured)"),
    multiple: z.number().int().min(1).max(64).default(1).describe("Round the tile size down to a multiple of this (a model's size multiple)"),
  }),
  inputs: { image: { type: "image", label: "Image" } },
  outputs: { tiles: { type: "tiles", label: "Tiles" } },
  check: ({ params }) =>
    typeof params.overlap === "number" && typeof params.tileSize === "number" && params.overlap * 2 > params.tileSize
      ? [`overlap ${params.overlap} is more than half the tile size ${params.tileSize}`]
      : [],
  async plan({ inputs, params, ctx }) {
    const image = planInput(inputs, "image", "image");
    const { size, overlap } = await chooseTiles(image, params, { readers: ctx.readers, host: ctx.host, log: () => {} });
    const { width, height, xs, ys } = tileLayout(image.width, image.height, size, size, overlap);
    const rects = ys.flatMap((y) => xs.map((x) => ({ x, y, width, height })));
    const grid = { sourceWidth: image.width, sourceHeight: image.height, tileWidth: width, tileHeight: height, overlap, cols: xs.length, rows: ys.length, scale: 1 };
    return {
      outputs: { tiles: { kind: "tiles", grid, rects } },
      detail: { kind: "chunk", source: { width: image.width, height: image.height }, tileWidth: width, tileHeight: height, overlap, cols: xs.length, rows: ys.length, rects },
    };
  },
  async run({ inputs, params, ctx }) {
    const image = requireInput(inputs, "image", "image");
    const repeated = ctx.host.repeatedTiles?.(ctx.nodeId, ctx.iteration);
    const { size, overlap } = repeated ? repeatTiles(params, repeated, ctx) : await chooseTiles(image, params, ctx);
    return { tiles: cutTiles(image, size, size, overlap) };
  },
});

type ChunkParams = { tileSize: number | "auto"; overlap: number | "auto"; multiple: number };
/** What tile sizing needs of a RunHost; the plan preview's host has the same. */
type SizingHost = Pick<ModelHost, "modelCost" | "memoryBudgetBytes">;

/** The tile side and overlap a run cuts (and a plan predicts) for an image of this size. */
async function chooseTiles(
  image: ImageShape,
  params: ChunkParams,
  ctx: { readers: NodeReader[]; host: SizingHost; log(message: string): void },
): Promise<{ size: number; overlap: number }> {
  const planned = params.tileSize === "auto" || params.overlap === "auto" ? await autoTiles(image, params.multiple, params.tileSize === "auto", ctx) : undefined;
  const tileSize = params.tileSize === "auto" ? (planned?.tileSize ?? DEFAULT_TILE) : params.tileSize;
  const overlap = params.overlap === "auto" ? Math.min(planned?.overlap ?? DEFAULT_OVERLAP, Math.floor(tileSize / 2)) : params.overlap;
  return { size: Math.max(params.multiple, tileSize - (tileSize % params.multiple)), overlap };
}

/** A re-run's tiles: the `auto` params take what the repeated run cut (a tile clamped to the image keeps its longer side). */
function repeatTiles(params: ChunkParams, repeated: RepeatedTiles, ctx: { log(message: string): void }): { size: number; overlap: number } {
  const size = params.tileSize === "auto" ? Math.max(repeated.tileWidth, repeated.tileHeight) : params.tileSize;
  const overlap = params.overlap === "auto" ? repeated.overlap : params.overlap;
  if (params.tileSize === "auto" || params.overlap === "auto") ctx.log(`auto tiles: ${size} px, overlap ${overlap}, as in the run this re-runs`);
  return { size, overlap };
}

/** The tile plan for the nodes with a model reading these tiles, from their models' measured costs on this machine. */
async function autoTiles(
  image: ImageShape,
  multiple: number,
  autoSize: boolean,
  ctx: { readers: NodeReader[]; host: SizingHost; log(message: string): void },
): Promise<{ tileSize: number; overlap: number } | undefined> {
  const modelReaders = ctx.readers.filter((reader) => reader.tileCost);
  const { modelCost, memoryBudgetBytes } = ctx.host;
  if (!modelReaders.length || !modelCost || !memoryBudgetBytes) {
    ctx.log(`auto tiles: ${modelReaders.length ? "nothing measured on this host" : "no generate node reads these tiles"}; ${DEFAULT_TILE} px tiles, overlap ${DEFAULT_OVERLAP}`);
    return undefined;
  }
  const costs: ModelCost[] = [];
  for (const reader of modelReaders) {
    // A model that cannot be described is the reading node's error to report (it names the param); here the
    // tiles fall back to the defaults.
    const cost = await reader.tileCost!().catch((error: Error) => {
      ctx.log(`auto tiles: ${error.message}; ${DEFAULT_TILE} px tiles, overlap ${DEFAULT_OVERLAP}`);
      return undefined;
    });
    if (!cost) return undefined;
    costs.push(cost);
  }
  const budget = memoryBudgetBytes.call(ctx.host);
  const plan = planTiles({ width: image.width, height: image.height, costs, budgetBytes: budget, multiple });
  // Tiles of a size set by hand overlap by what the models' borders need, even where auto tiles would be one.
  if (!autoSize) return { tileSize: plan.tileSize, overlap: borderOverlap(costs) };
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  ctx.log(
    `auto tiles: ${plan.cols}x${plan.rows} of ${Math.min(plan.tileSize, image.width)}x${Math.min(plan.tileSize, image.height)} px, overlap ${plan.overlap}; ` +
      `predicted ${mb(plan.predictedTileBytes)} MB per tile (budget ${mb(budget)} MB), ${plan.pixelsPerImagePixel.toFixed(2)} model pixels per image pixel`,
  );
  return plan;
}
