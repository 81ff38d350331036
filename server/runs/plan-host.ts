// The PlanHost of this machine: models from the manifest, predictions from what this machine measured: real
// runs of the same model file, precision, provider, threading and tile size first (models/timings.json), else
// the nearest tile sizes real runs measured and the calibration (footprint.ts, made on first use).
import type { PlanHost } from "../../nodes/graph/host";
import type { ExecutionProvider, Precision } from "../../nodes/graph/models";
import type { ImageShape, TilePrediction } from "../../nodes/graph/plan";
import type { InferenceService } from "../inference/inference-service";
import { nodeTimingKey, readTimings, sessionTimingKey, tileTimingKey, tileTimings } from "../inference/run-timings";
import { MachineModelHost } from "./model-host";

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

export class MeasuredPlanHost extends MachineModelHost implements PlanHost {
  constructor(
    inference: InferenceService,
    private readonly sizes: (name: string) => Promise<ImageShape>,
  ) {
    super(inference);
  }

  inputSize(name: string): Promise<ImageShape> {
    return this.sizes(name);
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
