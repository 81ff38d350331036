import { z } from "zod";
import type { RunContext } from "./graph/context";
import { defineNode, type OutputValues, throwIfAborted } from "./graph/define-node";
import type { TileReport } from "./graph/events";
import type { InferenceHost } from "./graph/host";
import { type InferenceOptions, type ModelInfo, paddedSize, type Precision, type ProviderChoice } from "./graph/models";
import type { NodePlanResult, PlanValue } from "./graph/plan";
import { streamTiles, tileRects } from "./graph/stream";
import type { Tile, TileSet } from "./graph/values";
import { crop, cutTiles, stitchTiles } from "./image/tiling";
import { createImage, type RgbImage } from "./image/types";

/** Below this size a tile that runs out of memory is not split again. */
const MIN_SPLIT_SIZE = 32;
const SPLIT_OVERLAP = 8;

export const generateNode = defineNode({
  type: "generate",
  title: "One-step generate",
  category: "Generate",
  description: "Runs a one-step super-resolution model (ONNX) on every tile, or on a whole image, in batches.",
  params: z.object({
    model: z.string().min(1).max(120).default("esrgan-thick-x4").describe("Model id (see the models list)"),
    batchSize: z.number().int().min(1).max(32).default(1).describe("Tiles per inference call"),
    precision: z
      .enum(["auto", "fp32", "int8"])
      .default("auto")
      .describe("auto: the model's int8 variant where it has one that passed its fidelity gate (much faster on CPUs with VNNI/AMX), else fp32"),
    provider: z.enum(["cpu", "cuda", "webgpu"]).default("cpu").describe("ONNX Runtime execution provider"),
    onMissingProvider: z
      .enum(["fallback-cpu", "error"])
      .default("fallback-cpu")
      .describe("When the provider is not available: run on CPU with a note, or fail"),
    distribute: z
      .enum(["auto", "off"])
      .default("off")
      .describe("auto: on a distributed queue (tudsr worker processes), spread the tile batches over the workers; off: run them all on this run's worker. The output is the same"),
  }),
  inputs: {
    tiles: { type: "tiles", label: "Tiles", optional: true },
    image: { type: "image", label: "Image", optional: true },
  },
  outputs: {
    tiles: { type: "tiles", label: "Tiles" },
    image: { type: "image", label: "Image" },
  },
  check: ({ connected, consumed }) => {
    const problems: string[] = [];
    if (connected.has("tiles") === connected.has("image")) problems.push("connect exactly one input: tiles or image");
    for (const port of ["tiles", "image"]) {
      if (consumed.has(port) && !connected.has(port)) problems.push(`output "${port}" is used but input "${port}" is not connected`);
    }
    return problems;
  },
  /** The model file, precision and provider the run uses: decided once, so its plan, tiles and stamp agree. */
  async prepare({ params, host, downstream }): Promise<ModelChoice> {
    const model = await host.describeModel(params.model);
    const precision = precisionFor(params.precision, model, downstream.has("generate"));
    return { model, precision, provider: await host.chooseProvider(params.provider, params.onMissingProvider) };
  },
  tileCost: ({ decision, host }) => host.modelCost!(decision.model.id, decision.precision, decision.provider.used),
  async plan({ inputs, params, decision, ctx }): Promise<NodePlanResult> {
    const { model, precision } = decision;
    const providerUsed = decision.provider.used;
    const source: PlanValue | undefined = inputs.image ?? inputs.tiles;
    if (!source || source.kind === "number") throw new Error("connect exactly one input: tiles or image");
    // What one model call sees: a tile (at the scale applied since chunking), padded to the model's size multiple.
    const scale = source.kind === "tiles" ? source.grid.scale : 1;
    const width = source.kind === "tiles" ? Math.round(source.grid.tileWidth * scale) : source.width;
    const height = source.kind === "tiles" ? Math.round(source.grid.tileHeight * scale) : source.height;
    const tiles = source.kind === "tiles" ? source.rects.length : 1;
    const padded = paddedSize({ width, height }, model);
    const batch = Math.min(params.batchSize, tiles);
    const predicted = await ctx.host.predictTile({ id: model.id, precision, provider: providerUsed }, padded, batch);
    const covered = source.kind === "tiles" ? source.grid.sourceWidth * source.grid.sourceHeight * scale * scale : width * height;
    const outputs: Record<string, PlanValue> =
      source.kind === "tiles"
        ? { tiles: { ...source, grid: { ...source.grid, scale: scale * model.scale } } }
        : { image: { kind: "image", width: width * model.scale, height: height * model.scale } };
    return {
      outputs,
      ms: predicted.startMs + tiles * predicted.ms,
      // The call's input and output tensors, beside what the session itself holds.
      workBytes: batch * padded.width * padded.height * 12 * (1 + model.scale * model.scale),
      held: [
        { key: `session ${model.id}:${precision}:${providerUsed}`, bytes: predicted.bytes },
        { key: `onnxruntime ${providerUsed}`, bytes: predicted.processBytes },
      ],
      detail: {
        kind: "generate",
        model: model.id,
        scale: model.scale,
        precision,
        provider: params.provider,
        providerUsed,
        tiles,
        tileWidth: width,
        tileHeight: height,
        modelPixelsPerOutputPixel: (tiles * width * height) / covered,
        basis: predicted.basis,
        startMs: predicted.startMs,
      },
    };
  },
  async run({ inputs, params, decision, ctx }): Promise<OutputValues> {
    const { model, precision, provider } = decision;
    if (provider.unavailable) ctx.log(`${provider.unavailable}; running ${model.id} on CPU`);
    const options: InferenceOptions = { provider: provider.used, precision, signal: ctx.signal };
    if (inputs.image) {
      const source = inputs.image as RgbImage;
      const canvas = { width: source.width * model.scale, height: source.height * model.scale };
      const report: TileReport = { index: 0, total: 1, rect: { x: 0, y: 0, ...canvas }, canvas };
      ctx.progress(0, 1);
      ctx.tileStarted(report);
      const [image] = await upscaleBatch([source], model, options, ctx);
      ctx.tileDone(report, image);
      ctx.progress(1, 1);
      return { image };
    }
    const set = inputs.tiles as TileSet;
    if (params.distribute === "auto" && ctx.host.fanOutTiles && equalSizes(set)) {
      const request = { nodeId: ctx.nodeId, modelId: model.id, images: set.tiles.map((tile) => tile.image), batchSize: params.batchSize, options: { provider: provider.used, precision } };
      const spread = await ctx.host.fanOutTiles(request, ctx.signal, ctx.progress);
      if (spread) return { tiles: { grid: { ...set.grid, scale: set.grid.scale * model.scale }, tiles: set.tiles.map((tile, i) => ({ ...tile, image: spread[i] })) } };
    }
    // The tiles are handed on as they finish (stitch blends each row of them as it completes).
    const grid = { ...set.grid, scale: set.grid.scale * model.scale };
    return { tiles: streamTiles(grid, tileRects(set), (push) => upscaleTiles(set, model, params.batchSize, options, ctx, push)) };
  },
});

/** What a generate node runs: decided when its run (or plan) is prepared. */
export interface ModelChoice {
  model: ModelInfo;
  precision: Precision;
  provider: ProviderChoice;
}

/**
 * The precision a run uses: auto takes the int8 variant where one passed its gates, and where the output feeds
 * another model only if it keeps its quality there too (a next stage amplifies int8's rounding noise); int8
 * asked for without a variant is an error.
 */
export function precisionFor(asked: "auto" | Precision, model: ModelInfo, feedsModel: boolean): Precision {
  if (asked === "fp32") return "fp32";
  if (asked === "int8") {
    if (!model.int8.offered) throw new Error(`model ${model.id} has no int8 variant: ${model.int8.why}`);
    return "int8";
  }
  return model.int8.offered && (model.int8.chained || !feedsModel) ? "int8" : "fp32";
}

function equalSizes(set: TileSet): boolean {
  return set.tiles.every((tile) => tile.image.width === set.tiles[0].image.width && tile.image.height === set.tiles[0].image.height);
}

/**
 * One batch of a distributed generate node, where a worker runs it: exactly what the node does with the batch
 * here (the same packing, inference and out-of-memory fallbacks), so the tiles come back bit for bit the same.
 */
export function upscaleTileBatch(images: RgbImage[], model: ModelInfo, options: InferenceOptions, ctx: InferenceContext): Promise<RgbImage[]> {
  return upscaleBatch(images, model, options, ctx);
}

/** What running a model on images needs: inference, and somewhere to say what happened. */
export interface InferenceContext {
  host: InferenceHost;
  log(message: string): void;
}

type TilingContext = InferenceContext & Pick<RunContext, "signal" | "progress" | "tileStarted" | "tileDone">;

async function upscaleTiles(
  set: TileSet,
  model: ModelInfo,
  batchSize: number,
  options: InferenceOptions,
  ctx: TilingContext,
  push: (tile: Tile) => Promise<void>,
): Promise<void> {
  const reports = set.tiles.map((tile, index) => tileReport(set, tile, index, model.scale));
  ctx.progress(0, set.tiles.length);
  for (let start = 0; start < set.tiles.length; start += batchSize) {
    throwIfAborted(ctx.signal);
    const batch = set.tiles.slice(start, start + batchSize);
    reports.slice(start, start + batch.length).forEach((report) => ctx.tileStarted(report));
    const upscaled = await upscaleBatch(batch.map((tile) => tile.image), model, options, ctx);
    for (const [i, image] of upscaled.entries()) {
      ctx.tileDone(reports[start + i], image);
      await push({ ...batch[i], image });
    }
    ctx.progress(Math.min(start + batchSize, set.tiles.length), set.tiles.length);
  }
}

/** Where a tile's output lands in the image the upscaled tiles cover (each tile's own scale, as stitch places it). */
function tileReport(set: TileSet, tile: Tile, index: number, modelScale: number): TileReport {
  const scale = (tile.image.width / tile.width) * modelScale;
  const canvasScale = set.grid.scale * modelScale;
  return {
    index,
    total: set.tiles.length,
    rect: { x: Math.round(tile.x * scale), y: Math.round(tile.y * scale), width: tile.image.width * modelScale, height: tile.image.height * modelScale },
    canvas: { width: Math.round(set.grid.sourceWidth * canvasScale), height: Math.round(set.grid.sourceHeight * canvasScale) },
  };
}

/** One inference call for equal-size images; out of memory: one at a time, then each at half size. */
async function upscaleBatch(images: RgbImage[], model: ModelInfo, options: InferenceOptions, ctx: InferenceContext): Promise<RgbImage[]> {
  try {
    return await infer(images, model, options, ctx);
  } catch (error) {
    if (!isOutOfMemory(error)) throw error;
    if (images.length > 1) {
      ctx.log(`batch of ${images.length} ran out of memory; running its tiles one at a time`);
      const results: RgbImage[] = [];
      for (const image of images) results.push(...(await upscaleBatch([image], model, options, ctx)));
      return results;
    }
    return [await upscaleInHalves(images[0], model, options, ctx, error)];
  }
}

async function upscaleInHalves(image: RgbImage, model: ModelInfo, options: InferenceOptions, ctx: InferenceContext, cause: unknown): Promise<RgbImage> {
  const half = (length: number) => Math.ceil(length / 2) + SPLIT_OVERLAP;
  if (Math.max(image.width, image.height) <= MIN_SPLIT_SIZE) {
    throw new Error(`out of memory even on a ${image.width}x${image.height} tile (${messageOf(cause)})`);
  }
  ctx.log(`a ${image.width}x${image.height} tile ran out of memory; retried at ${half(image.width)}x${half(image.height)}`);
  const parts = cutTiles(image, half(image.width), half(image.height), SPLIT_OVERLAP);
  const tiles = [];
  for (const tile of parts.tiles) tiles.push({ ...tile, image: (await upscaleBatch([tile.image], model, options, ctx))[0] });
  return stitchTiles({ grid: { ...parts.grid, scale: model.scale }, tiles }, "cosine");
}

function isOutOfMemory(error: unknown): boolean {
  return /out of memory|failed to allocate|bad_alloc|\bOOM\b/i.test(messageOf(error));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Packs images into the model's layout and range, runs it, and unpacks to 0..1 RGB CHW. */
async function infer(images: RgbImage[], model: ModelInfo, options: InferenceOptions, ctx: InferenceContext): Promise<RgbImage[]> {
  const { width, height } = images[0];
  const { width: paddedW, height: paddedH } = paddedSize(images[0], model);
  const [lo, hi] = model.valueRange;
  const plane = paddedW * paddedH;
  const input = new Float32Array(images.length * 3 * plane);
  images.forEach((source, n) => {
    const image = paddedW === width && paddedH === height ? source : padEdge(source, paddedW, paddedH);
    const base = n * 3 * plane;
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < plane; i++) {
        const value = image.data[c * plane + i] * (hi - lo) + lo;
        input[model.layout === "NCHW" ? base + c * plane + i : base + i * 3 + c] = value;
      }
    }
  });
  const dims = model.layout === "NCHW" ? [images.length, 3, paddedH, paddedW] : [images.length, paddedH, paddedW, 3];
  const output = await ctx.host.infer(model.id, { data: input, dims }, options);
  const [outH, outW] = model.layout === "NCHW" ? output.dims.slice(2) : output.dims.slice(1, 3);
  if (outW !== paddedW * model.scale || outH !== paddedH * model.scale) {
    throw new Error(`model ${model.id} returned ${outW}x${outH} for a ${paddedW}x${paddedH} input; expected x${model.scale}`);
  }
  const outPlane = outW * outH;
  const inv = 1 / (hi - lo);
  return images.map((_, n) => {
    const image = createImage(outW, outH);
    const base = n * 3 * outPlane;
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < outPlane; i++) {
        const raw = output.data[model.layout === "NCHW" ? base + c * outPlane + i : base + i * 3 + c];
        const value = (raw - lo) * inv;
        image.data[c * outPlane + i] = value < 0 ? 0 : value > 1 ? 1 : value;
      }
    }
    return paddedW === width && paddedH === height ? image : crop(image, 0, 0, width * model.scale, height * model.scale);
  });
}

/** Pads right and bottom by repeating the edge pixels, up to a model's size multiple. */
function padEdge(image: RgbImage, width: number, height: number): RgbImage {
  const out = createImage(width, height);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      const sy = Math.min(y, image.height - 1);
      for (let x = 0; x < width; x++) {
        out.data[c * width * height + y * width + x] = image.data[c * image.width * image.height + sy * image.width + Math.min(x, image.width - 1)];
      }
    }
  }
  return out;
}
