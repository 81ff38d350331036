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
      .describe("Tile width and height in input pixels; auto: of the tilings (up to the whole image) whose predicted memory for the model reading them fits TUDSR_MEMORY_BUDGET_MB, the one predicted fastest from this machine's speed per tile size (auto tiles need not be square)"),
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
    const tiles = await chooseTiles(image, params, { readers: ctx.readers, host: ctx.host, log: () => {} });
    const { width, height, xs, ys } = tileLayout(image.width, image.height, tiles.width, tiles.height, tiles.overlap);
    const { overlap } = tiles;
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
    const { width, height, overlap } = repeated ? repeatTiles(params, repeated, ctx) : await chooseTiles(image, params, ctx);
    return { tiles: cutTiles(image, width, height, overlap) };
  },
});

type ChunkParams = { tileSize: number | "auto"; overlap: number | "auto"; multiple: number };
/** What tile sizing needs of a RunHost; the plan preview's host has the same. */
type SizingHost = Pick<ModelHost, "modelCost" | "memoryBudgetBytes">;
/** Tiles as cut: width and height in input pixels (auto tiles need not be square), and the overlap. */
type TileShape = { width: number; height: number; overlap: number };

/** The tiles a run cuts (and a plan predicts) for an image of this size. */
async function chooseTiles(image: ImageShape, params: ChunkParams, ctx: { readers: NodeReader[]; host: SizingHost; log(message: string): void }): Promise<TileShape> {
  const planned = params.tileSize === "auto" || params.overlap === "auto" ? await autoTiles(image, params.multiple, params.tileSize === "auto", ctx) : undefined;
  if (params.tileSize === "auto" && planned) return { width: planned.tileWidth, height: planned.tileHeight, overlap: params.overlap === "auto" ? planned.overlap : params.overlap };
  const tileSize = params.tileSize === "auto" ? DEFAULT_TILE : params.tileSize;
  const size = Math.max(params.multiple, tileSize - (tileSize % params.multiple));
  const overlap = params.overlap === "auto" ? Math.min(planned?.overlap ?? DEFAULT_OVERLAP, Math.floor(size / 2)) : params.overlap;
  return { width: size, height: size, overlap };
}

/** A re-run's tiles: the `auto` params take what the repeated run cut. */
function repeatTiles(params: ChunkParams, repeated: RepeatedTiles, ctx: { log(message: string): void }): TileShape {
  const [width, height] = params.tileSize === "auto" ? [repeated.tileWidth, repeated.tileHeight] : [params.tileSize, params.tileSize];
  const overlap = params.overlap === "auto" ? repeated.overlap : params.overlap;
  if (params.tileSize === "auto" || params.overlap === "auto") ctx.log(`auto tiles: ${width}x${height} px, overlap ${overlap}, as in the run this re-runs`);
  return { width, height, overlap };
}

/** The tile plan for the nodes with a model reading these tiles, from their models' costs on this machine. */
async function autoTiles(
  image: ImageShape,
  multiple: number,
  autoSize: boolean,
  ctx: { readers: NodeReader[]; host: SizingHost; log(message: string): void },
): Promise<{ tileWidth: number; tileHeight: number; overlap: number } | undefined> {
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
  if (!autoSize) return { ...plan, overlap: borderOverlap(costs) };
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  ctx.log(
    `auto tiles: ${plan.cols}x${plan.rows} of ${plan.tileWidth}x${plan.tileHeight} px, overlap ${plan.overlap}; ` +
      `predicted ${(plan.predictedMs / 1000).toFixed(1)} s, ${mb(plan.predictedTileBytes)} MB per tile (budget ${mb(budget)} MB), ${plan.pixelsPerImagePixel.toFixed(2)} model pixels per image pixel`,
  );
  return plan;
}
