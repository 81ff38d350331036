// The PlanHost of this machine: models from the manifest, predictions from what this machine measured: real
// runs of the same model file, precision, provider, threading and tile size first (models/timings.json), else
// the model's speed curve (footprint.ts: measured here, or known for its file and scaled to this machine) scaled
// to what real runs of other tile sizes showed.
import type { PlanHost } from "../../nodes/graph/host";
import type { ExecutionProvider, Precision } from "../../nodes/graph/models";
import type { ImageShape, TilePrediction } from "../../nodes/graph/plan";
import { msPerMegapixelAt } from "../../nodes/image/tile-plan";
import type { InferenceService } from "../inference/inference-service";
import { nodeTimingKey, readTimings, refinedSpeed, sessionTimingKey, tileTimingKey, tileTimings } from "../inference/run-timings";
import { MachineModelHost } from "./model-host";

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
    const msPerMegapixel = msPerMegapixelAt(refinedSpeed(measured.speed, tileTimings(timings, key)), pixels);
    // Nothing known of the model yet (an upload being measured): a conservative estimate, said so.
    return { ms: (msPerMegapixel * pixels) / 1e6, startMs, bytes, processBytes, basis: measured.basis === "estimate" ? "estimate" : "calibration" };
  }

  async predictNodeMs(nodeType: string, megapixels: number): Promise<number> {
    const entry = (await readTimings(this.inference.modelsFolder))[nodeTimingKey(nodeType)];
    return entry ? entry.value * megapixels : 0;
  }
}
