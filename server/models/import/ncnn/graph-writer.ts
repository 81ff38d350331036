// Writing the ONNX graph of an ncnn model: the shared GraphBuilder (../../onnx-builder), the value each ncnn blob
// has in it, node names, the weights read from the .bin, and the finished ModelProto.
//
// Blobs are CHW (3-D) or 1-D vectors (InnerProduct, global pooling); here a vector of C is [N, C, 1, 1], so ncnn's
// per-channel broadcasting of a vector against a CHW blob is ONNX broadcasting.
import { encodeImageModel, GraphBuilder, halfToFloat, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from "../../onnx-builder";
import { BinReader, type StoredWeights } from "./bin";
import { layerError, NcnnImportError, type NcnnLayer } from "./param";

/** Bumped whenever the produced graph changes, so `npm run setup` knows to convert again. */
export const NCNN_CONVERTER_VERSION = "ncnn-to-onnx/2";

const OPSET = 13;
const IR_VERSION = 7;

/**
 * A blob: its ONNX value, whether ncnn holds it as CHW or as a 1-D vector ([N, C, 1, 1] here), its channel count
 * and its height and width for the two probe input sizes (used to find the scale and how much the network crops).
 */
export interface Value {
  name: string;
  vector: boolean;
  channels: number;
  h: number[];
  w: number[];
}

export const PROBE_SIZES = [96, 192]; // input sizes the graph's shapes are worked out for (multiples of 2, 3, 4, 8, 12, ...)

/** The ONNX value name of an ncnn blob a layer produces. */
export function blobName(blob: string): string {
  return `blob/${blob}`;
}

/** One conversion's graph: the blobs' values, unique node names, and the .bin read in layer order. */
export class NcnnGraphWriter {
  readonly graph = new GraphBuilder();
  readonly reader: BinReader;
  private readonly values = new Map<string, Value>();
  private readonly usedNames = new Set<string>();

  constructor(
    bin: Uint8Array,
    private readonly fp16: "keep" | "widen",
  ) {
    this.reader = new BinReader(bin);
  }

  /** A name for a layer's ONNX nodes and weights, unique even if ncnn names repeat. */
  layerName(layer: NcnnLayer): string {
    let name = layer.name;
    for (let n = 2; this.usedNames.has(name); n++) name = `${layer.name}_${n}`;
    this.usedNames.add(name);
    return name;
  }

  value(blob: string): Value {
    const value = this.values.get(blob);
    if (!value) throw new NcnnImportError(`blob "${blob}" has no value`); // parseNcnnParam checked every bottom
    return value;
  }

  set(blob: string, value: Value): void {
    this.values.set(blob, value);
  }

  storeWeight(name: string, dims: number[], weights: StoredWeights): string {
    if (weights.kind === "f32") return this.graph.weight(name, dims, weights.values);
    if (this.fp16 === "keep") return this.graph.weight16(name, dims, weights.bits);
    return this.graph.weight(name, dims, Float32Array.from(weights.bits, halfToFloat));
  }

  /**
   * The inputs of a Conv or ConvTranspose: the data, the weights, then `biasCount` biases read from the .bin
   * (undefined: the layer has none).
   */
  withWeights(layer: NcnnLayer, base: string, input: string, dims: number[], weights: StoredWeights, biasCount: number | undefined): string[] {
    const inputs = [input, this.storeWeight(`${base}/weight`, dims, weights)];
    if (biasCount !== undefined) inputs.push(this.graph.weight(`${base}/bias`, [biasCount], this.reader.floats(layer, "bias", biasCount)));
    return inputs;
  }

  scalar(value: number): string {
    return this.graph.constant([], [value]);
  }

  only(layer: NcnnLayer, count = 1): Value[] {
    if (layer.bottoms.length !== count) throw layerError(layer, `takes ${count} bottom blob${count === 1 ? "" : "s"}, not ${layer.bottoms.length}`);
    return layer.bottoms.map((bottom) => this.value(bottom));
  }

  oneTop(layer: NcnnLayer): string {
    if (layer.tops.length !== 1) throw layerError(layer, `produces ${layer.tops.length} top blobs; one is supported`);
    return layer.tops[0];
  }

  chw(layer: NcnnLayer, value: Value, what = "its input"): void {
    if (value.vector) throw layerError(layer, `${what} is a 1-D blob; this layer needs a CHW blob`);
  }

  /** A one-in, one-out layer that keeps the shape. */
  unary(layer: NcnnLayer, emit: (input: Value, output: string) => void): void {
    const [input] = this.only(layer);
    const top = this.oneTop(layer);
    const output = blobName(top);
    emit(input, output);
    this.set(top, { ...input, name: output });
  }

  /** [H, W] of a value as an int64 tensor (Shape + Slice). */
  spatialShape(base: string, value: string): string {
    const shape = `${base}/shape`;
    this.graph.node("Shape", `${base}/shape`, [value], shape);
    this.graph.node("Slice", `${base}/hw`, [shape, this.graph.int64Constant([1], [2]), this.graph.int64Constant([1], [4])], `${base}/hw`);
    return `${base}/hw`;
  }

  /** [N, C] of a value as an int64 tensor. */
  batchAndChannels(base: string, value: string): string {
    this.graph.node("Shape", `${base}/nc_shape`, [value], `${base}/nc_shape`);
    this.graph.node("Slice", `${base}/nc`, [`${base}/nc_shape`, this.graph.int64Constant([1], [0]), this.graph.int64Constant([1], [2])], `${base}/nc`);
    return `${base}/nc`;
  }

  /**
   * The serialized model, with `finalName` as the graph's output: input "input" [N,3,H,W], output "output"
   * [N,3,H*scale,W*scale] (symbolic "outH" and "outW" when the scale is not known).
   */
  encode(finalName: string, modelName: string, scale: number | undefined): Uint8Array {
    if (finalName === ONNX_INPUT_NAME) {
      this.graph.node("Identity", "output", [ONNX_INPUT_NAME], ONNX_OUTPUT_NAME);
    } else {
      renameValue(this.graph, finalName, ONNX_OUTPUT_NAME);
    }
    // Identity nodes from activation type 0 etc. are removed by ORT at load; the graph stays as ncnn wrote it.
    return encodeImageModel({
      graph: this.graph,
      opset: OPSET,
      irVersion: IR_VERSION,
      producerVersion: NCNN_CONVERTER_VERSION,
      docString: `${modelName}: converted from ncnn by ${NCNN_CONVERTER_VERSION}`,
      outputDims: scale === undefined ? ["outH", "outW"] : [`H*${scale}`, `W*${scale}`],
    });
  }
}

/** Renames a value everywhere in the graph (a node output, and every input that reads it). */
function renameValue(graph: GraphBuilder, from: string, to: string): void {
  for (const node of graph.nodes) {
    node.input = node.input?.map((name) => (name === from ? to : name));
    node.output = node.output?.map((name) => (name === from ? to : name));
  }
}
