// The multiply-add work of an image model per input pixel, counted from its graph: what the bench divides by
// time to report achieved GFLOP/s. Convolutions are counted (they are all but a fraction of a percent of an
// SR network's work); their output shapes come from running the model once on a small input, so any graph
// ONNX Runtime can run is counted, whatever resamples between its convs.
import { readFile } from "node:fs/promises";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";

const { onnx } = onnxProto;
type ModelProto = onnxProto.onnx.IModelProto;

/** The side of the square input the shapes are measured on (rounded to the model's size multiple). */
const PROBE_SIDE = 64;

/** Floating-point operations (a multiply-add is two) per input pixel of an NCHW image model. */
export async function flopsPerInputPixel(file: string, sizeMultiple = 1): Promise<number> {
  const model = onnx.ModelProto.decode(await readFile(file)) as ModelProto;
  const graph = model.graph!;
  // Weight shapes: initializers, and the Casts that turn half-float initializers into float weights.
  const dims = new Map<string, number[]>((graph.initializer ?? []).map((t) => [t.name!, (t.dims ?? []).map(Number)]));
  for (const node of graph.node ?? []) if (node.opType === "Cast" && dims.has(node.input![0])) dims.set(node.output![0], dims.get(node.input![0])!);
  const convs = (graph.node ?? []).filter((node) => (node.opType === "Conv" || node.opType === "ConvTranspose") && dims.has(node.input![1]));
  if (convs.length === 0) return 0;
  // A conv's work scales with its output (ConvTranspose: its input) element count: fetch those tensors.
  const measured = convs.map((node) => (node.opType === "Conv" ? node.output![0] : node.input![0]));
  const probe: ModelProto = {
    ...model,
    graph: { ...graph, output: [...new Set(measured)].map((name) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } })) },
  };
  const side = Math.max(sizeMultiple, PROBE_SIDE - (PROBE_SIDE % sizeMultiple));
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(probe).finish(), { graphOptimizationLevel: "disabled", logSeverityLevel: 3 });
  try {
    const input = new ort.Tensor("float32", new Float32Array(3 * side * side).fill(0.5), [1, 3, side, side]);
    const outputs = await session.run({ [session.inputNames[0]]: input });
    let flops = 0;
    for (const [i, node] of convs.entries()) {
      const elements = outputs[measured[i]].dims.reduce((product, d) => product * d, 1);
      // Conv weight [Cout, Cin/group, kh, kw]: each output element is Cin/group x kh x kw multiply-adds;
      // ConvTranspose weight [Cin, Cout/group, kh, kw]: each input element spreads into Cout/group x kh x kw.
      const perElement = dims.get(node.input![1])!.slice(1).reduce((product, d) => product * d, 1);
      flops += 2 * elements * perElement;
    }
    return flops / (side * side);
  } finally {
    await session.release();
  }
}
