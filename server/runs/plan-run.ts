// Plans a run before it runs (the plan preview, runs.plan, POST /api/v1/plan, `tudsr plan`): the prepared
// graph walked with the input images' sizes only (read from their headers: nothing is decoded).
import type { ImageShape } from "../../nodes/graph/plan";
import { planGraph, type RunPlan } from "../../nodes/graph/plan-graph";
import type { PreparedGraph } from "../../nodes/graph/prepared-graph";
import { imageSize } from "../images/codec";
import { InferenceService } from "../inference/inference-service";
import { modelsDir } from "../models/manifest";
import { MeasuredPlanHost } from "./plan-host";

export function planRun(prepared: PreparedGraph, options: { inference: InferenceService; sizes: (name: string) => Promise<ImageShape> }): Promise<RunPlan> {
  return planGraph(prepared, new MeasuredPlanHost(options.inference, options.sizes));
}

/** Sizes of run inputs given as files (name -> path); an input the graph reads but is not given is named. */
export function fileSizes(files: Record<string, string>): (name: string) => Promise<ImageShape> {
  return async (name) => {
    if (!Object.hasOwn(files, name)) throw new Error(`the run has no input named "${name}" (given: ${Object.keys(files).join(", ") || "none"})`);
    return imageSize(files[name], files[name]);
  };
}

let planning: InferenceService | undefined;

/** The web app's inference service for planning: it runs nothing, it reads models and measurements (same threads as the executor). */
export function planningInference(): InferenceService {
  planning ??= new InferenceService(modelsDir(), Number(process.env.TUDSR_INTRA_OP_THREADS) || undefined);
  return planning;
}
