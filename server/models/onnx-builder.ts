// What the model importers (TF.js, ncnn) share to write an ONNX file with onnx-proto: attribute and tensor
// helpers, a small graph builder, and the model wrapper with the studio's input/output names.
import onnxProto from "onnx-proto";

export const { onnx } = onnxProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

/** The names every converted model's graph input and output have (the manifest records them too). */
export const ONNX_INPUT_NAME = "input";
export const ONNX_OUTPUT_NAME = "output";

const INTS = onnx.AttributeProto.AttributeType.INTS;
const INT = onnx.AttributeProto.AttributeType.INT;
const FLOAT_ATTRIBUTE = onnx.AttributeProto.AttributeType.FLOAT;
const STRING = onnx.AttributeProto.AttributeType.STRING;
const TENSOR = onnx.AttributeProto.AttributeType.TENSOR;
export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
export const INT64 = onnx.TensorProto.DataType.INT64;

export function intsAttribute(name: string, values: number[]): AttributeProto {
  return { name, type: INTS, ints: values };
}
export function intAttribute(name: string, value: number): AttributeProto {
  return { name, type: INT, i: value };
}
export function floatAttribute(name: string, value: number): AttributeProto {
  return { name, type: FLOAT_ATTRIBUTE, f: value };
}
export function stringAttribute(name: string, value: string): AttributeProto {
  return { name, type: STRING, s: new TextEncoder().encode(value) };
}
export function tensorAttribute(name: string, value: TensorProto): AttributeProto {
  return { name, type: TENSOR, t: value };
}

function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
export function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  return { name, dims, dataType: FLOAT, rawData: bytesOf(values) };
}
/** IEEE half floats, as their 16-bit patterns (little-endian raw data, as ONNX stores them). */
export function float16Tensor(name: string, dims: number[], bits: Uint16Array): TensorProto {
  return { name, dims, dataType: FLOAT16, rawData: bytesOf(bits) };
}
export function int64Tensor(name: string, dims: number[], values: readonly number[]): TensorProto {
  return { name, dims, dataType: INT64, rawData: bytesOf(BigInt64Array.from(values, (value) => BigInt(value))) };
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** IEEE half -> float (exact: every half is a float). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  parameterCount = 0;
  private readonly constants = new Map<string, string>();

  node(opType: string, name: string, inputs: string[], output: string, attribute: AttributeProto[] = []) {
    this.nodes.push({ opType, name, input: inputs, output: [output], attribute });
  }

  weight(name: string, dims: number[], values: Float32Array): string {
    this.initializers.push(floatTensor(name, dims, values));
    this.parameterCount += values.length;
    return name;
  }

  /**
   * A half-float weight kept as half floats in the file (half the bytes) and cast to float in the graph: ONNX
   * Runtime folds the Cast of an initializer when it loads the model, so it runs as a float weight would.
   */
  weight16(name: string, dims: number[], bits: Uint16Array): string {
    const stored = `${name}/fp16`;
    this.initializers.push(float16Tensor(stored, dims, bits));
    this.parameterCount += bits.length;
    this.node("Cast", `${name}/cast`, [stored], name, [intAttribute("to", FLOAT)]);
    return name;
  }

  /** A float constant as a Constant node (not an initializer), so initializers are exactly the trained weights. */
  constant(dims: number[], values: number[]): string {
    const key = `${dims.join("x")}:${values.join(",")}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_${this.constants.size}`;
      this.constants.set(key, name);
      const value = floatTensor(name, dims, Float32Array.from(values));
      this.nodes.push({ opType: "Constant", name, input: [], output: [name], attribute: [tensorAttribute("value", value)] });
    }
    return name;
  }

  /** An int64 constant (shapes, pads, slice bounds) as a Constant node. */
  int64Constant(dims: number[], values: readonly number[]): string {
    const key = `i64:${dims.join("x")}:${values.join(",")}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_${this.constants.size}`;
      this.constants.set(key, name);
      const value = int64Tensor(name, dims, values);
      this.nodes.push({ opType: "Constant", name, input: [], output: [name], attribute: [tensorAttribute("value", value)] });
    }
    return name;
  }
}

export interface ImageModelOptions {
  graph: GraphBuilder;
  opset: number;
  irVersion: number;
  producerVersion: string;
  docString: string;
  /** Symbolic output height and width, e.g. "H*4" and "W*4". */
  outputDims: [string, string];
}

/** The serialized ModelProto of an image-to-image graph: input [N,3,H,W] float, output [N,3,outH,outW] float. */
export function encodeImageModel({ graph, opset, irVersion, producerVersion, docString, outputDims }: ImageModelOptions): Uint8Array {
  const imageType = (height: string, width: string): onnxProto.onnx.ITypeProto => ({
    tensorType: {
      elemType: FLOAT,
      shape: { dim: [{ dimParam: "N" }, { dimValue: 3 }, { dimParam: height }, { dimParam: width }] },
    },
  });
  const model: onnxProto.onnx.IModelProto = {
    irVersion,
    opsetImport: [{ domain: "", version: opset }],
    producerName: "tudsr-studio",
    producerVersion,
    docString,
    graph: {
      name: "super_resolution",
      node: graph.nodes,
      initializer: graph.initializers,
      input: [{ name: ONNX_INPUT_NAME, type: imageType("H", "W") }],
      output: [{ name: ONNX_OUTPUT_NAME, type: imageType(outputDims[0], outputDims[1]) }],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}
