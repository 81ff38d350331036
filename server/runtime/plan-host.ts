// The PlanHost of this machine: models from the manifest, predictions from what this machine measured: real
// runs of the same model file, precision, provider, threading and tile size first (models/timings.json), else
// the nearest tile sizes real runs measured and the calibration (footprint.ts, made on first use).
import type { ExecutionProvider, Precision } from "../../nodes/graph/define-node";
import type { ImageShape, PlanHost, TilePrediction } from "../../nodes/graph/plan";
import { type InferenceService, memoryBudgetBytes } from "../inference/inference-service";
import { executionProviders } from "../inference/providers";
import { nodeTimingKey, readTimings, sessionTimingKey, tileTimingKey, tileTimings } from "../models/run-timings";

/** ms per megapixel at `pixels` a tile: linear in log(pixels) between the nearest measured sizes, flat beyond them. */
export function msPerMegapixelAt(points: { pixels: number; msPerMegapixel: number }[], pixels: number): number {
  const sorted = [...points].sort((a, b) => a.pixels - b.pixels);
  if (pixels <= sorted[0].pixels) return sorted[0].msPerMegapixel;
  const above = sorted.findIndex((point) => point.pixels >= pixels);
  if (above === -1) return sorted[sorted.length - 1].msPerMegapixel;
  const [low, high] = [sorted[above - 1], sorted[above]];
  const t = Math.log(pixels / low.pixels) / Math.log(high.pixels / low.pixels);
  return low.msPerMegapixel + t * (high.msPerMegapixel - low.msPerMegapixel);
}

export class MeasuredPlanHost implements PlanHost {
  constructor(
    private readonly inference: InferenceService,
    private readonly sizes: (name: string) => Promise<ImageShape>,
  ) {}

  inputSize(name: string): Promise<ImageShape> {
    return this.sizes(name);
  }

  describeModel(id: string) {
    return this.inference.describeModel(id);
  }

  modelCost(modelId: string, precision: Precision, provider: ExecutionProvider) {
    return this.inference.cost(modelId, precision, provider);
  }

  memoryBudgetBytes(): number {
    return memoryBudgetBytes();
  }

  async providerUsed(provider: ExecutionProvider, onMissing: "fallback-cpu" | "error"): Promise<ExecutionProvider> {
    if (provider === "cpu") return "cpu";
    const status = (await executionProviders()).find((candidate) => candidate.name === provider);
    if (status?.available) return provider;
    if (onMissing === "error") throw new Error(`execution provider "${provider}" is not available on this machine (${status?.why ?? "unknown"})`);
    return "cpu";
  }

  async predictTile(model: { id: string; precision: Precision; provider: ExecutionProvider }, tile: ImageShape, batch: number): Promise<TilePrediction> {
    const measured = await this.inference.measurement(model.id, model.precision, model.provider);
    const key = await this.inference.measurementKey(model.id, model.precision, model.provider);
    const timings = await readTimings(this.inference.modelsFolder);
    const pixels = tile.width * tile.height;
    const bytes = measured.baseBytes + measured.bytesPerInputPixel * pixels * batch;
    const startMs = timings[sessionTimingKey(key)]?.value ?? measured.sessionMs ?? 0;
    const exact = timings[tileTimingKey(key, tile.width, tile.height)];
    const { processBytes } = measured;
    if (exact) return { ms: (exact.value * pixels) / 1e6, startMs, bytes, processBytes, basis: "runs" };
    const calibrated = { pixels: measured.tiles[0] * measured.tiles[0], msPerMegapixel: measured.msPerInputMegapixel };
    const msPerMegapixel = msPerMegapixelAt([...tileTimings(timings, key), calibrated], pixels);
    return { ms: (msPerMegapixel * pixels) / 1e6, startMs, bytes, processBytes, basis: "calibration" };
  }

  async predictNodeMs(nodeType: string, megapixels: number): Promise<number> {
    const entry = (await readTimings(this.inference.modelsFolder))[nodeTimingKey(nodeType)];
    return entry ? entry.value * megapixels : 0;
  }
}
