// Which ONNX Runtime execution providers this machine can run, found by creating a one-conv session on each:
// onnxruntime-node bundles CPU and WebGPU on Linux (WebGPU needs a Vulkan GPU driver), CUDA only after its
// install script downloaded it. The studio and the CLI show the answer next to the generate node's setting.
import * as ort from "onnxruntime-node";
import type { ExecutionProvider, ProviderChoice } from "../../nodes/graph/models";
import { encodeImageModel, GraphBuilder, intsAttribute, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from "../models/onnx-builder";

export interface ProviderStatus {
  name: ExecutionProvider;
  available: boolean;
  /** Why not, and what would make it available. */
  why?: string;
}

const PROVIDERS: ExecutionProvider[] = ["cpu", "webgpu", "cuda"];
const INSTALL_CUDA = "ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci downloads it (needs CUDA 12 and cuDNN 9)";

function probeModel(): Uint8Array {
  const graph = new GraphBuilder();
  const weight = graph.weight("w", [3, 3, 1, 1], Float32Array.from({ length: 9 }, (_, i) => (i % 4 === 0 ? 1 : 0)));
  graph.node("Conv", "conv", [ONNX_INPUT_NAME, weight], ONNX_OUTPUT_NAME, [intsAttribute("kernel_shape", [1, 1])]);
  return encodeImageModel({ graph, opset: 13, irVersion: 7, producerVersion: "probe", docString: "provider probe", outputDims: ["H", "W"] });
}

async function probe(name: ExecutionProvider, model: Uint8Array): Promise<ProviderStatus> {
  const bundled = ort.listSupportedBackends().find((backend) => backend.name === name);
  if (!bundled) return { name, available: false, why: "this onnxruntime-node build does not know it" };
  try {
    // Fatal-only logging: a missing provider is an expected answer here, not an error to print.
    const session = await ort.InferenceSession.create(model, { executionProviders: [name], logSeverityLevel: 4 });
    try {
      await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", new Float32Array(3 * 8 * 8), [1, 3, 8, 8]) });
    } finally {
      await session.release();
    }
    return { name, available: true };
  } catch (error) {
    const message = (error as Error).message.split("\n")[0];
    if (name === "cuda") return { name, available: false, why: `not installed: ${INSTALL_CUDA}` };
    if (/adapter/i.test(message)) return { name, available: false, why: "no WebGPU adapter: needs a GPU with a Vulkan driver (libvulkan1 and the vendor's ICD)" };
    return { name, available: false, why: message };
  }
}

let probed: Promise<ProviderStatus[]> | undefined;

/** Each execution provider and whether sessions can use it here (probed once per process). */
export function executionProviders(): Promise<ProviderStatus[]> {
  probed ??= (async () => {
    const model = probeModel();
    const statuses: ProviderStatus[] = [];
    for (const name of PROVIDERS) statuses.push(await probe(name, model));
    return statuses;
  })();
  return probed;
}

/**
 * Where a session asked for on `provider` runs here: the one place that decides a fallback to the CPU, when a
 * run (or its plan) is prepared. `onMissing: "error"` throws instead, naming why the provider is missing.
 */
export async function chooseProvider(provider: ExecutionProvider, onMissing: "fallback-cpu" | "error"): Promise<ProviderChoice> {
  if (provider === "cpu") return { asked: provider, used: provider };
  const status = (await executionProviders()).find((candidate) => candidate.name === provider);
  if (status?.available) return { asked: provider, used: provider };
  const unavailable = `execution provider "${provider}" is not available on this machine (${status?.why ?? "unknown"})`;
  if (onMissing === "error") throw new ProviderUnavailableError(unavailable);
  return { asked: provider, used: "cpu", unavailable };
}

export class ProviderUnavailableError extends Error {}
