// What nodes know of models: the server's model registry describes them, its inference service runs them.

export type ExecutionProvider = "cpu" | "cuda" | "webgpu";

export type Precision = "fp32" | "int8";

/** What the engine knows about a model; the server's model registry supplies it. */
export interface ModelInfo {
  id: string;
  title: string;
  scale: number;
  layout: "NCHW" | "NHWC";
  valueRange: [number, number];
  sizeMultiple: number;
  speedClass: "fast" | "balanced" | "quality";
  /** Whether an int8 variant that passed its gates exists, and if not, why. */
  int8:
    | {
        offered: true;
        /** Worst PSNR of its output against fp32's. */
        psnrDb: number;
        speedup: number;
        /** Median ms of one `tile` px tile, each precision, measured here. */
        tile: number;
        fp32Ms: number;
        int8Ms: number;
        /** Mean Y-PSNR it costs against ground truth, alone (at most the gate's limit, or it would not be offered). */
        lossDb: number;
        /** Whether it keeps that quality feeding another model too; where not, precision auto runs fp32 there. */
        chained: boolean;
        /** Why not, where it does not. */
        chainedWhy?: string;
      }
    | { offered: false; why: string };
}

export interface Tensor {
  data: Float32Array;
  dims: number[];
}

/** Where a session asked for on `asked` runs on this machine, decided once when a run is prepared. */
export interface ProviderChoice {
  asked: ExecutionProvider;
  /** `asked`, or the CPU when `asked` is missing here and the node allows the fallback. */
  used: ExecutionProvider;
  /** Why `asked` is not available here, when `used` fell back to the CPU (the node logs it when it runs). */
  unavailable?: string;
}

export interface InferenceOptions {
  /** The provider the session runs on: the one the run's preparation chose (ProviderChoice.used). */
  provider: ExecutionProvider;
  /** Which file of the model runs (default fp32); int8 only where ModelInfo.int8 says it is offered. */
  precision?: Precision;
  signal?: AbortSignal;
}

/** The size a model is fed for an input of this size: padded up to its size multiple (the generate node pads so). */
export function paddedSize(shape: { width: number; height: number }, model: Pick<ModelInfo, "sizeMultiple">): { width: number; height: number } {
  const multiple = model.sizeMultiple;
  return { width: Math.ceil(shape.width / multiple) * multiple, height: Math.ceil(shape.height / multiple) * multiple };
}
