// Static post-training int8 quantization of an fp32 image-to-image ONNX model, in QDQ form: s8 weights per
// output channel (symmetric, zero point 0: what ONNX Runtime's AVX512-VNNI / AMX conv kernels need), u8
// activations with ranges calibrated on real photo tiles, int32 biases. ONNX Runtime fuses each
// DequantizeLinear -> Conv -> QuantizeLinear group into QLinearConv when it loads the model.
//
// Hand-written because nothing on npm quantizes ONNX graphs (ONNX Runtime's quantizer is Python only).
// What stays fp32 is chosen from the graph's structure, not from node names: convs that read the image or
// write it (the first, the last, those feeding a pixel shuffle), upsampling, and the adds and concats whose
// results flow only into fp32 work (the global residual). Constant per-channel scalings after a conv (ESRGAN's
// residual scaling x0.2, written as a 1x1 depthwise conv or a Mul) are folded into that conv first.
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { halfToFloat } from "./onnx-builder";

const { onnx } = onnxProto;
type ModelProto = onnxProto.onnx.IModelProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

const DataType = onnx.TensorProto.DataType;
export const QUANTIZER_VERSION = "quantize-int8/2";

export class QuantizationError extends Error {}

export interface QuantizeOptions {
  /** Calibration inputs: NCHW float tensors in the model's own input range (real photo crops). */
  calibration: { data: Float32Array; dims: number[] }[];
  /** Activation tensors fetched per calibration pass (bounds the memory the calibration takes). */
  tensorsPerPass?: number;
  /**
   * Residual adds int8 too (default): fastest, as the whole trunk stays int8, but the residual stream is
   * requantized at every add. false keeps them fp32: closer to the parent, slower (layout changes around them).
   */
  int8Adds?: boolean;
  /**
   * 7-bit weights (+-63): for CPUs without VNNI, whose u8 x s8 multiply-add saturates at 16 bits with full-range
   * weights. VNNI / AMX CPUs take the full 8 bits.
   */
  reduceRange?: boolean;
  /**
   * Activation ranges clipped at this percentile of the calibration values (each tail, averaged over the tiles)
   * instead of their min / max: a rare outlier then no longer coarsens every other value. Undefined: min / max.
   */
  activationPercentile?: number;
  /**
   * Keep fp32 the convs of the upsampler too: those past the graph's last join (residual add or concat), whose
   * rounding no later layer averages out (at the output's resolution, it lands on the image nearly unfiltered).
   */
  fp32Upsampler?: boolean;
  /**
   * Keep fp32 the convs that write into a residual add (the last conv of each residual branch, and the conv that
   * starts the stream): their rounding accumulates along the residual stream, no later layer filters it.
   */
  fp32ResidualConvs?: boolean;
  /**
   * Keep fp32 the convs that read a concat whose parts' calibrated ranges differ by more than this factor (one u8
   * scale for the concat leaves the narrow parts a few levels). Undefined: none.
   */
  fp32WideConcats?: number;
  /** Convs kept fp32 by name (node name, else output tensor): for sensitivity probes. */
  keepFp32?: (name: string) => boolean;
  /** Calibrated ranges kept between quantizations of one model with the same calibration and range method. */
  rangeCache?: Map<string, { min: number; max: number }>;
  log?: (line: string) => void;
}

export interface QuantizedModel {
  bytes: Uint8Array;
  /** Convs now int8, and those kept fp32 with the reason. */
  int8Convs: number;
  fp32Convs: { name: string; why: string }[];
  /** Constant scalings folded into the conv before them. */
  foldedScalings: number;
}

// ---------------------------------------------------------------------------------------------------
// Constants

function attr(node: NodeProto, name: string): onnxProto.onnx.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}
function intAttr(node: NodeProto, name: string, fallback: number): number {
  const value = attr(node, name);
  return value?.i === undefined || value.i === null ? fallback : Number(value.i);
}

function tensorValues(tensor: TensorProto): Float32Array {
  const count = (tensor.dims ?? []).reduce((p: number, d) => p * Number(d), 1);
  if (tensor.dataType === DataType.FLOAT) {
    if (tensor.rawData?.length) {
      const raw = tensor.rawData;
      return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    }
    return Float32Array.from(tensor.floatData ?? []);
  }
  if (tensor.dataType === DataType.FLOAT16) {
    const raw = tensor.rawData!;
    const bits = new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    return Float32Array.from(bits, halfToFloat);
  }
  if (count === 0) return new Float32Array(0);
  throw new QuantizationError(`constant ${tensor.name} has data type ${tensor.dataType}, not float`);
}

function rawTensor(name: string, dims: number[], dataType: number, values: Float32Array | Int8Array | Uint8Array | Int32Array): TensorProto {
  return { name, dims, dataType, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

/** The float constants of a graph: initializers, Constant nodes, and Casts of either (fp16 weights). */
class Constants {
  private readonly values = new Map<string, { dims: number[]; data: Float32Array }>();

  constructor(graph: onnxProto.onnx.IGraphProto) {
    for (const tensor of graph.initializer ?? []) {
      if (tensor.dataType === DataType.FLOAT || tensor.dataType === DataType.FLOAT16) {
        this.values.set(tensor.name!, { dims: (tensor.dims ?? []).map(Number), data: tensorValues(tensor) });
      }
    }
    for (const node of graph.node ?? []) {
      if (node.opType === "Constant") {
        const value = attr(node, "value")?.t;
        if (value && (value.dataType === DataType.FLOAT || value.dataType === DataType.FLOAT16)) {
          this.values.set(node.output![0], { dims: (value.dims ?? []).map(Number), data: tensorValues(value) });
        }
      } else if (node.opType === "Cast" && intAttr(node, "to", 0) === DataType.FLOAT) {
        const source = this.values.get(node.input![0]);
        if (source) this.values.set(node.output![0], source);
      }
    }
  }

  get(name: string): { dims: number[]; data: Float32Array } | undefined {
    return this.values.get(name);
  }
  has(name: string): boolean {
    return this.values.has(name);
  }
  set(name: string, value: { dims: number[]; data: Float32Array }): void {
    this.values.set(name, value);
  }
}

// ---------------------------------------------------------------------------------------------------
// The graph as an editable list of nodes with producer / consumer lookups

class Graph {
  nodes: NodeProto[];
  readonly constants: Constants;
  readonly input: string;
  readonly output: string;

  constructor(readonly model: ModelProto) {
    const graph = model.graph!;
    if (graph.input?.length !== 1 || graph.output?.length !== 1) {
      throw new QuantizationError("the quantizer takes models with one image input and one image output");
    }
    this.nodes = [...(graph.node ?? [])];
    this.constants = new Constants(graph);
    this.input = graph.input[0].name!;
    this.output = graph.output[0].name!;
  }

  producer(tensor: string): NodeProto | undefined {
    return this.nodes.find((node) => node.output?.includes(tensor));
  }
  consumers(tensor: string): NodeProto[] {
    return this.nodes.filter((node) => node.input?.includes(tensor));
  }
  /** Inputs of a node that carry activations (not weights, biases, shapes). */
  activationInputs(node: NodeProto): string[] {
    return (node.input ?? []).filter((name) => name !== "" && !this.constants.has(name) && !this.isIntegerConstant(name));
  }
  private isIntegerConstant(name: string): boolean {
    const producer = this.producer(name);
    return producer?.opType === "Constant" || (this.model.graph!.initializer ?? []).some((t) => t.name === name);
  }
}

// ---------------------------------------------------------------------------------------------------
// Folding constant per-channel scalings into the conv before them

/** The per-channel factors of a node that only scales its input: a 1x1 depthwise Conv or a Mul by a constant. */
function scalingOf(graph: Graph, node: NodeProto, channels: number): { scale: Float32Array; bias?: Float32Array } | undefined {
  if (node.opType === "Mul") {
    const constant = node.input!.map((name) => graph.constants.get(name)).find(Boolean);
    if (!constant || graph.activationInputs(node).length !== 1) return undefined;
    if (constant.data.length === 1) return { scale: new Float32Array(channels).fill(constant.data[0]) };
    if (constant.data.length === channels && constant.dims.slice(-2).every((d) => d === 1)) return { scale: constant.data };
    return undefined;
  }
  if (node.opType === "Conv") {
    const weight = graph.constants.get(node.input![1]);
    if (!weight || intAttr(node, "group", 1) !== channels) return undefined;
    if (weight.dims.length !== 4 || weight.dims[0] !== channels || weight.dims.slice(1).some((d) => d !== 1)) return undefined;
    const bias = node.input![2] ? graph.constants.get(node.input![2])?.data : undefined;
    return { scale: weight.data, bias };
  }
  return undefined;
}

function foldScalings(graph: Graph, weights: Map<string, { w: Float32Array; dims: number[]; b: Float32Array }>): number {
  let folded = 0;
  for (let changed = true; changed; ) {
    changed = false;
    for (const conv of graph.nodes) {
      if (conv.opType !== "Conv") continue;
      const own = weights.get(conv.output![0]);
      if (!own) continue;
      const consumers = graph.consumers(conv.output![0]);
      if (consumers.length !== 1 || conv.output![0] === graph.output) continue;
      const scaling = scalingOf(graph, consumers[0], own.dims[0]);
      if (!scaling) continue;
      const perOut = own.w.length / own.dims[0];
      for (let c = 0; c < own.dims[0]; c++) {
        for (let i = 0; i < perOut; i++) own.w[c * perOut + i] *= scaling.scale[c];
        own.b[c] = own.b[c] * scaling.scale[c] + (scaling.bias?.[c] ?? 0);
      }
      // The conv now writes what the scaling wrote.
      const scaled = consumers[0].output![0];
      graph.nodes = graph.nodes.filter((node) => node !== consumers[0]);
      weights.delete(conv.output![0]);
      conv.output = [scaled];
      weights.set(scaled, own);
      folded++;
      changed = true;
    }
  }
  return folded;
}

// ---------------------------------------------------------------------------------------------------
// Which ops run int8

interface Plan {
  int8: Set<NodeProto>;
  fp32Convs: { name: string; why: string }[];
  /** Convs whose output only feeds a ReLU: the ReLU is dropped, the u8 quantization (zero point 0) clamps. */
  reluFolded: Map<NodeProto, NodeProto>;
}

function planInt8(graph: Graph, options: QuantizeOptions): Plan {
  const int8Adds = options.int8Adds ?? true;
  const fp32Convs: Plan["fp32Convs"] = [];
  const int8 = new Set<NodeProto>();
  /** Following only non-conv ops from `tensor`: does it reach the graph output, or an op of type `target`? */
  const flowsInto = (tensor: string, target: string, seen = new Set<string>()): boolean => {
    if (target === "graph output" && tensor === graph.output) return true;
    if (seen.has(tensor)) return false;
    seen.add(tensor);
    return graph.consumers(tensor).some((consumer) => consumer.opType === target || (consumer.opType !== "Conv" && consumer.output!.some((out) => flowsInto(out, target, seen))));
  };
  const fromInputThroughNonConv = (tensor: string): boolean => {
    if (tensor === graph.input) return true;
    const producer = graph.producer(tensor);
    return !!producer && producer.opType !== "Conv" && graph.activationInputs(producer).some(fromInputThroughNonConv);
  };
  /** Tensors from which no join (an Add or Concat of two activations) is reachable: the upsampler and output head. */
  const isJoin = (node: NodeProto) => (node.opType === "Add" || node.opType === "Concat") && graph.activationInputs(node).length >= 2;
  /** Following only non-conv, non-join ops from `tensor`: does it reach an Add of two activations? */
  const feedsResidualAdd = (tensor: string, seen = new Set<string>()): boolean => {
    if (seen.has(tensor)) return false;
    seen.add(tensor);
    return graph.consumers(tensor).some((reader) =>
      reader.opType === "Add" ? isJoin(reader) : reader.opType !== "Conv" && reader.opType !== "Concat" && reader.output!.some((out) => feedsResidualAdd(out, seen)),
    );
  };
  const pastLastJoin = new Set<string>();
  for (const node of [...graph.nodes].reverse()) {
    const outs = node.output ?? [];
    if (outs.every((out) => graph.consumers(out).every((reader) => !isJoin(reader) && (reader.output ?? []).every((o) => pastLastJoin.has(o))))) {
      for (const out of outs) pastLastJoin.add(out);
    }
  }
  for (const node of graph.nodes) {
    if (node.opType !== "Conv") continue;
    const name = node.name || node.output![0];
    const weight = graph.constants.get(node.input![1]);
    const [outChannels, inPerGroup] = weight?.dims ?? [0, 0];
    const why = !weight
      ? "its weights are not constant"
      : fromInputThroughNonConv(node.input![0])
        ? "it reads the image"
        : flowsInto(node.output![0], "graph output")
          ? "it writes the image"
          : flowsInto(node.output![0], "DepthToSpace")
            ? "its output is pixel-shuffled into the image"
            : options.fp32Upsampler && pastLastJoin.has(node.output![0])
              ? "upsampler conv (fp32 upsampler)"
              : options.fp32ResidualConvs && feedsResidualAdd(node.output![0])
                ? "it writes into a residual add (fp32 residual convs)"
                : options.keepFp32?.(name)
                ? "kept fp32 by name"
                : intAttr(node, "group", 1) !== 1 && !(inPerGroup === 1 && intAttr(node, "group", 1) === outChannels)
              ? "grouped convs (other than depthwise) have no int8 kernel"
              : inPerGroup !== 1 && (outChannels % 4 !== 0 || inPerGroup % 4 !== 0 || outChannels < 16)
                ? `${inPerGroup}->${outChannels} channels: the int8 kernel needs multiples of 4 and at least 16 outputs`
                : undefined;
    if (why) fp32Convs.push({ name, why });
    else int8.add(node);
  }
  // Concats and adds run int8 when everything reading their result does (else they carry fp32 work, such as
  // the global residual into the upsampler). Fixed point from the output side.
  for (let changed = true; changed; ) {
    changed = false;
    for (const node of graph.nodes) {
      if (int8.has(node) || (node.opType !== "Concat" && (node.opType !== "Add" || !int8Adds))) continue;
      if (node.opType === "Add" && graph.activationInputs(node).length !== 2) continue;
      const readers = graph.consumers(node.output![0]);
      if (readers.length > 0 && readers.every((reader) => int8.has(reader))) {
        int8.add(node);
        changed = true;
      }
    }
  }
  // Activations after an int8 conv run int8 too.
  const reluFolded = new Map<NodeProto, NodeProto>();
  for (const node of [...int8]) {
    if (node.opType !== "Conv") continue;
    const readers = graph.consumers(node.output![0]);
    if (readers.length === 1 && readers[0].opType === "Relu") reluFolded.set(node, readers[0]);
    else for (const reader of readers) if (reader.opType === "LeakyRelu") int8.add(reader);
  }
  return { int8, fp32Convs, reluFolded };
}

// ---------------------------------------------------------------------------------------------------
// Calibration

interface Range {
  min: number;
  max: number;
}

/** The values at the `percentile` and 100 - `percentile` of a tensor (a strided sample of it when large). */
function percentileRange(data: Float32Array, percentile: number): Range {
  const stride = Math.max(1, Math.floor(data.length / 262144));
  const sample = new Float32Array(Math.ceil(data.length / stride));
  for (let i = 0, j = 0; i < data.length; i += stride, j++) sample[j] = data[i];
  sample.sort();
  const tail = Math.floor(((100 - percentile) / 100) * (sample.length - 1));
  return { min: sample[tail], max: sample[sample.length - 1 - tail] };
}

async function calibrate(model: ModelProto, wanted: string[], options: QuantizeOptions): Promise<Map<string, Range>> {
  const ranges = new Map<string, Range>();
  const cache = options.rangeCache;
  const tensors = wanted.filter((name) => {
    const cached = cache?.get(name);
    if (cached) ranges.set(name, cached);
    return !cached;
  });
  const perPass = options.tensorsPerPass ?? 200;
  const percentile = options.activationPercentile;
  for (let start = 0; start < tensors.length; start += perPass) {
    const group = tensors.slice(start, start + perPass);
    const probe: ModelProto = {
      ...model,
      graph: { ...model.graph, output: group.map((name) => ({ name, type: { tensorType: { elemType: DataType.FLOAT } } })) },
    };
    const session = await ort.InferenceSession.create(onnx.ModelProto.encode(probe).finish(), { graphOptimizationLevel: "all", logSeverityLevel: 3 });
    // Percentile ranges: each tile's tails, averaged over the tiles.
    const sums = new Map<string, Range>();
    try {
      for (const input of options.calibration) {
        const outputs = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", input.data, input.dims) });
        for (const name of group) {
          const data = outputs[name].data as Float32Array;
          let min = Infinity;
          let max = -Infinity;
          if (percentile !== undefined) {
            ({ min, max } = percentileRange(data, percentile));
            const sum = sums.get(name) ?? { min: 0, max: 0 };
            sums.set(name, { min: sum.min + min / options.calibration.length, max: sum.max + max / options.calibration.length });
            continue;
          }
          for (let i = 0; i < data.length; i++) {
            const value = data[i];
            if (value < min) min = value;
            if (value > max) max = value;
          }
          const range = ranges.get(name);
          ranges.set(name, range ? { min: Math.min(range.min, min), max: Math.max(range.max, max) } : { min, max });
        }
      }
    } finally {
      await session.release();
    }
    for (const [name, range] of sums) ranges.set(name, range);
    for (const name of group) cache?.set(name, ranges.get(name)!);
    options.log?.(`calibrated ${Math.min(start + perPass, tensors.length)}/${tensors.length} activations`);
  }
  return ranges;
}

// ---------------------------------------------------------------------------------------------------
// Rewriting

function rangeOfInputs(inputs: QuantizeOptions["calibration"]): Range {
  let min = Infinity;
  let max = -Infinity;
  for (const { data } of inputs) for (let i = 0; i < data.length; i++) (min = Math.min(min, data[i])), (max = Math.max(max, data[i]));
  return { min, max };
}

function u8Params(range: Range): { scale: number; zeroPoint: number } {
  const low = Math.min(0, range.min);
  const high = Math.max(0, range.max);
  const scale = high > low ? (high - low) / 255 : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-low / scale))) };
}

export async function quantizeModel(fp32: Uint8Array, options: QuantizeOptions): Promise<QuantizedModel> {
  const model = onnx.ModelProto.decode(fp32) as ModelProto;
  const graph = new Graph(model);

  // Each conv's float weights (keyed by its output tensor), editable by the folding.
  const weights = new Map<string, { w: Float32Array; dims: number[]; b: Float32Array }>();
  for (const node of graph.nodes) {
    if (node.opType !== "Conv") continue;
    const weight = graph.constants.get(node.input![1]);
    if (!weight) continue;
    const bias = node.input![2] ? graph.constants.get(node.input![2]) : undefined;
    weights.set(node.output![0], { w: Float32Array.from(weight.data), dims: weight.dims, b: bias ? Float32Array.from(bias.data) : new Float32Array(weight.dims[0]) });
  }
  const foldedScalings = foldScalings(graph, weights);
  let plan = planInt8(graph, options);
  const weightLevels = options.reduceRange ? 63 : 127;
  if (![...plan.int8].some((node) => node.opType === "Conv")) {
    throw new QuantizationError(`no conv can run int8 (${plan.fp32Convs.map((conv) => `${conv.name}: ${conv.why}`).join("; ")})`);
  }

  // The activations that get a Quantize/Dequantize pair: every input and output of an int8 op. A conv whose
  // ReLU is folded is quantized at the ReLU's output instead.
  const outputOf = (node: NodeProto) => (plan.reluFolded.get(node) ?? node).output![0];
  const quantizedBy = (plan: Plan) => {
    const tensors = new Set<string>();
    for (const node of plan.int8) {
      for (const input of graph.activationInputs(node).slice(0, node.opType === "Conv" ? 1 : undefined)) tensors.add(input);
      tensors.add((plan.reluFolded.get(node) ?? node).output![0]);
    }
    return tensors;
  };
  let quantized = quantizedBy(plan);
  // Wide concats: the parts of every concat an int8 conv reads are measured too, to find those of unlike ranges.
  const concatsRead = new Map<NodeProto, NodeProto>();
  if (options.fp32WideConcats) {
    for (const node of plan.int8) {
      const producer = node.opType === "Conv" ? graph.producer(node.input![0]) : undefined;
      if (producer?.opType === "Concat") concatsRead.set(node, producer);
    }
  }
  const concatParts = [...concatsRead.values()].flatMap((concat) => graph.activationInputs(concat));
  const measured = [...new Set([...quantized, ...concatParts])].filter((tensor) => tensor !== graph.input);

  // The graph the calibration runs: scalings folded, float weights (the fp32 parent's arithmetic).
  const initializers: TensorProto[] = [];
  for (const node of graph.nodes) {
    const own = node.opType === "Conv" ? weights.get(node.output![0]) : undefined;
    if (!own) continue;
    const weightName = `${node.output![0]}/w`;
    const biasName = `${node.output![0]}/b`;
    initializers.push(rawTensor(weightName, own.dims, DataType.FLOAT, own.w), rawTensor(biasName, [own.dims[0]], DataType.FLOAT, own.b));
    node.input = [node.input![0], weightName, biasName];
    graph.constants.set(weightName, { dims: own.dims, data: own.w });
  }
  const liveInputs = new Set(graph.nodes.flatMap((node) => node.input ?? []));
  const keptInitializers = (model.graph!.initializer ?? []).filter((tensor) => liveInputs.has(tensor.name!));
  const floatModel: ModelProto = { ...model, graph: { ...model.graph, node: graph.nodes, initializer: [...keptInitializers, ...initializers] } };
  const ranges = await calibrate(floatModel, measured, options);
  ranges.set(graph.input, rangeOfInputs(options.calibration));
  if (concatsRead.size) {
    // A conv reading a concat of tensors whose ranges differ by more than fp32WideConcats x stays fp32: one u8
    // scale for all of them leaves the narrow ones a few levels (RDN's global fusion of every block's output).
    const span = (tensor: string) => {
      const range = ranges.get(tensor)!;
      return Math.max(0, range.max) - Math.min(0, range.min);
    };
    const wide = new Set<string>();
    for (const [conv, concat] of concatsRead) {
      const spans = graph.activationInputs(concat).map(span);
      if (Math.max(...spans) > options.fp32WideConcats! * Math.min(...spans)) wide.add(conv.name || conv.output![0]);
    }
    if (wide.size) {
      plan = planInt8(graph, { ...options, keepFp32: (name) => wide.has(name) || !!options.keepFp32?.(name) });
      for (const conv of plan.fp32Convs) if (wide.has(conv.name)) conv.why = `it reads a concat of ranges more than ${options.fp32WideConcats}x apart`;
      quantized = quantizedBy(plan);
    }
  }

  // Rewrite: int8 weights and int32 biases for int8 convs, a Q/DQ pair per quantized activation.
  const rewritten: NodeProto[] = [];
  const extra: TensorProto[] = [];
  const qParams = new Map<string, { scale: number; zeroPoint: number }>();
  const paramsOf = (tensor: string) => {
    let params = qParams.get(tensor);
    if (!params) {
      const range = ranges.get(tensor);
      if (!range) throw new QuantizationError(`no calibrated range for ${tensor}`);
      params = u8Params(range);
      qParams.set(tensor, params);
      extra.push(rawTensor(`${tensor}/scale`, [], DataType.FLOAT, Float32Array.of(params.scale)));
      extra.push(rawTensor(`${tensor}/zero`, [], DataType.UINT8, Uint8Array.of(params.zeroPoint)));
    }
    return params;
  };
  const dequantized = (tensor: string) => `${tensor}/dq`;
  const quantizeAfter = (tensor: string) => {
    paramsOf(tensor);
    rewritten.push(
      { opType: "QuantizeLinear", name: `${tensor}/q`, input: [tensor, `${tensor}/scale`, `${tensor}/zero`], output: [`${tensor}/u8`] },
      { opType: "DequantizeLinear", name: `${tensor}/dq`, input: [`${tensor}/u8`, `${tensor}/scale`, `${tensor}/zero`], output: [dequantized(tensor)] },
    );
  };
  // Outputs of int8 ops: every reader, fp32 ones too, reads the Dequantize (ONNX Runtime fuses an op into its
  // int8 form only when the Quantize is the only reader of its output).
  const int8Outputs = new Set<string>();
  const droppedRelus = new Set(plan.reluFolded.values());
  if (quantized.has(graph.input)) quantizeAfter(graph.input);
  for (const node of graph.nodes) {
    if (droppedRelus.has(node)) continue;
    const out = outputOf(node);
    if (plan.int8.has(node)) {
      const inputs = [...(node.input ?? [])];
      if (node.opType === "Conv") {
        const own = weights.get(node.output![0])!;
        const input = inputs[0];
        const inputScale = input === graph.input ? 1 : paramsOf(input).scale;
        const channels = own.dims[0];
        const perOut = own.w.length / channels;
        const q = new Int8Array(own.w.length);
        const scales = new Float32Array(channels);
        const bias = new Int32Array(channels);
        const biasScales = new Float32Array(channels);
        for (let c = 0; c < channels; c++) {
          let peak = 0;
          for (let i = 0; i < perOut; i++) peak = Math.max(peak, Math.abs(own.w[c * perOut + i]));
          const scale = peak > 0 ? peak / weightLevels : 1;
          scales[c] = scale;
          for (let i = 0; i < perOut; i++) q[c * perOut + i] = Math.round(own.w[c * perOut + i] / scale);
          biasScales[c] = inputScale * scale;
          bias[c] = Math.round(own.b[c] / biasScales[c]);
        }
        const base = node.output![0];
        extra.push(
          rawTensor(`${base}/wq`, own.dims, DataType.INT8, q),
          rawTensor(`${base}/wscale`, [channels], DataType.FLOAT, scales),
          rawTensor(`${base}/wzero`, [channels], DataType.INT8, new Int8Array(channels)),
          rawTensor(`${base}/bq`, [channels], DataType.INT32, bias),
          rawTensor(`${base}/bscale`, [channels], DataType.FLOAT, biasScales),
          rawTensor(`${base}/bzero`, [channels], DataType.INT32, new Int32Array(channels)),
        );
        const axis0 = [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 0 }];
        rewritten.push(
          { opType: "DequantizeLinear", name: `${base}/w_dq`, input: [`${base}/wq`, `${base}/wscale`, `${base}/wzero`], output: [`${base}/wdq`], attribute: axis0 },
          { opType: "DequantizeLinear", name: `${base}/b_dq`, input: [`${base}/bq`, `${base}/bscale`, `${base}/bzero`], output: [`${base}/bdq`], attribute: axis0 },
        );
        inputs[0] = dequantized(input);
        inputs[1] = `${base}/wdq`;
        inputs[2] = `${base}/bdq`;
      } else {
        for (let i = 0; i < inputs.length; i++) if (quantized.has(inputs[i])) inputs[i] = dequantized(inputs[i]);
      }
      rewritten.push({ ...node, input: inputs, output: [out] });
      int8Outputs.add(out);
    } else {
      const inputs = (node.input ?? []).map((input) => (int8Outputs.has(input) ? dequantized(input) : input));
      rewritten.push({ ...node, input: inputs, output: [out] });
    }
    if (quantized.has(out)) quantizeAfter(out);
  }

  // Constants only the folded scalings read go too (ONNX Runtime warns about each one left).
  const read = new Set(rewritten.flatMap((node) => node.input ?? []));
  const nodes = rewritten.filter((node) => node.opType !== "Constant" || node.output!.some((out) => read.has(out) || out === graph.output));
  const live = new Set(nodes.flatMap((node) => node.input ?? []));
  const result: ModelProto = {
    ...model,
    producerVersion: `${model.producerVersion ?? ""} ${QUANTIZER_VERSION}`.trim(),
    graph: {
      ...model.graph,
      node: nodes,
      initializer: [...keptInitializers, ...initializers, ...extra].filter((tensor) => live.has(tensor.name!)),
    },
  };
  return {
    bytes: onnx.ModelProto.encode(result).finish(),
    int8Convs: [...plan.int8].filter((node) => node.opType === "Conv").length,
    fp32Convs: plan.fp32Convs,
    foldedScalings,
  };
}
