// Converts an ncnn model (the text `.param` graph + the `.bin` weights) into an NCHW ONNX model (opset 13) with
// symbolic batch, height and width. Covers the layers of the ncnn super-resolution zoo (Real-ESRGAN, Real-CUGAN,
// waifu2x and the like); anything else is an NcnnImportError naming the layer (type, name, line of the .param).
//
// Facts of the format (ncnn src/net.cpp, modelbin.cpp, layer/*.cpp):
// - .param: "7767517", "<layer count> <blob count>", then one layer a line:
//   `Type name <bottom count> <top count> bottoms... tops... id=value...`, where an id of -23300-k is the array
//   parameter k written "count,v1,v2,...". Values with a '.' or an exponent are floats.
// - .bin has no index: each layer reads its blobs in layer order, in its own order (weights, then bias...). The
//   weights of Convolution, Deconvolution (and their depthwise forms) and InnerProduct carry a 4-byte tag
//   (0x01306B47 fp16, padded to 4 bytes; 0 or 0x0002C056 fp32; 0x000D4B38 int8; other non-zero: a 256-float
//   table then uint8 indices); biases, PReLU slopes, Scale and BatchNorm data are untagged fp32.
// - Blobs are CHW (3-D) or 1-D vectors (InnerProduct, global pooling); here a vector of C is [N, C, 1, 1], so
//   ncnn's per-channel broadcasting of a vector against a CHW blob is ONNX broadcasting.
import {
  GraphBuilder,
  ONNX_INPUT_NAME,
  ONNX_OUTPUT_NAME,
  type AttributeProto,
  encodeImageModel,
  floatAttribute,
  halfToFloat,
  intAttribute,
  intsAttribute,
  stringAttribute,
} from "./onnx-builder";

/** Bumped whenever the produced graph changes, so `npm run setup` knows to convert again. */
export const NCNN_CONVERTER_VERSION = "ncnn-to-onnx/2";

const OPSET = 13;
const IR_VERSION = 7;
const MAGIC = "7767517";
const INT64_MAX = Number.MAX_SAFE_INTEGER; // "to the end" for Slice (any bound past the end is clamped)

/** A problem with an ncnn model: the message names the layer (type, name, line of the .param) where one is to blame. */
export class NcnnImportError extends Error {}

/**
 * The pre/post-processing a model's own program does around every tile, baked into the graph so the ONNX file
 * runs the same anywhere: pad the input, run the network, crop what the padding grew back to input x scale.
 */
export interface NcnnPrePost {
  /** Pixels added on every side before the network: reflect (Real-ESRGAN, Real-CUGAN) or replicate (waifu2x). */
  padding?: { mode: "reflect" | "replicate"; pixels: number };
  /** The padded input is grown further at the right and bottom (same mode) to a multiple of this, cropped after. */
  sizeMultiple?: number;
  /** The network's output is a residual: the nearest-upscaled input is added to it (Real-CUGAN up4x). */
  residual?: boolean;
}

export interface NcnnConversion {
  bytes: Uint8Array; // the serialized ONNX ModelProto
  parameterCount: number; // elements in all weight initializers
  /** The upscaling factor, when the graph's output is an integer multiple of its input. */
  scale?: number;
}

// ---------------------------------------------------------------------------------------------------
// .param

type ParamValue = { kind: "number"; value: number; float: boolean } | { kind: "array"; values: number[] } | { kind: "string"; value: string };

export interface NcnnLayer {
  type: string;
  name: string;
  line: number; // 1-based line of the .param
  bottoms: string[];
  tops: string[];
  params: Map<number, ParamValue>;
}

function where(layer: NcnnLayer): string {
  return `layer ${layer.type} "${layer.name}" (line ${layer.line} of the .param)`;
}

function layerError(layer: NcnnLayer, problem: string): NcnnImportError {
  return new NcnnImportError(`${where(layer)}: ${problem}`);
}

function parseNumber(text: string): number | undefined {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) && !/^[-+]?(inf|nan)$/i.test(text)) return undefined;
  const value = Number(text.replace(/^([-+]?)inf$/i, "$1Infinity"));
  return value;
}

/** Parses the text .param: its layers, checked against the header's layer and blob counts. */
export function parseNcnnParam(text: string): NcnnLayer[] {
  const lines = text.split(/\r?\n/);
  let index = 0;
  const nextLine = (): { tokens: string[]; line: number } | undefined => {
    while (index < lines.length) {
      const tokens = lines[index].trim().split(/\s+/).filter(Boolean);
      index += 1;
      if (tokens.length > 0) return { tokens, line: index };
    }
    return undefined;
  };

  const magic = nextLine();
  if (!magic || magic.tokens[0] !== MAGIC || magic.tokens.length !== 1) {
    const seen = magic ? `line ${magic.line} is "${magic.tokens.join(" ").slice(0, 60)}"` : "the file is empty";
    throw new NcnnImportError(`not an ncnn text .param: it must start with the magic number ${MAGIC} (${seen})`);
  }
  const header = nextLine();
  const [layerCount, blobCount] = (header?.tokens ?? []).map((token) => (/^\d+$/.test(token) ? Number(token) : NaN));
  if (!header || header.tokens.length !== 2 || !(layerCount > 0) || !(blobCount > 0)) {
    const seen = header ? `line ${header.line} is "${header.tokens.join(" ").slice(0, 60)}"` : "it ends after the magic number";
    throw new NcnnImportError(`malformed ncnn .param header: expected "<layer count> <blob count>" after ${MAGIC} (${seen})`);
  }

  const layers: NcnnLayer[] = [];
  const produced = new Map<string, NcnnLayer>();
  for (let entry = nextLine(); entry; entry = nextLine()) {
    const { tokens, line } = entry;
    const [type, name, bottomText, topText] = tokens;
    const describe = `${type ?? "?"} "${name ?? "?"}" (line ${line} of the .param)`;
    const bottomCount = Number(bottomText);
    const topCount = Number(topText);
    if (tokens.length < 4 || !Number.isInteger(bottomCount) || !Number.isInteger(topCount) || bottomCount < 0 || topCount < 0) {
      throw new NcnnImportError(`layer ${describe}: expected "<type> <name> <bottom count> <top count> <blobs...> <params...>"`);
    }
    if (tokens.length < 4 + bottomCount + topCount) {
      throw new NcnnImportError(`layer ${describe}: it names ${tokens.length - 4} blobs, its counts say ${bottomCount} bottom + ${topCount} top`);
    }
    const layer: NcnnLayer = {
      type,
      name,
      line,
      bottoms: tokens.slice(4, 4 + bottomCount),
      tops: tokens.slice(4 + bottomCount, 4 + bottomCount + topCount),
      params: new Map(),
    };
    for (const token of tokens.slice(4 + bottomCount + topCount)) parseParamToken(layer, token);
    for (const bottom of layer.bottoms) {
      if (!produced.has(bottom)) throw layerError(layer, `bottom blob "${bottom}" does not exist (no earlier layer produces it)`);
    }
    for (const top of layer.tops) {
      const other = produced.get(top);
      if (other) throw layerError(layer, `top blob "${top}" is already produced by ${where(other)}`);
      produced.set(top, layer);
    }
    layers.push(layer);
  }
  const last = layers.at(-1);
  if (!last) throw new NcnnImportError(`the .param has no layers (its header says ${layerCount})`);
  if (layers.length !== layerCount) {
    throw layerError(last, `the header says ${layerCount} layers, but the .param has ${layers.length} (this is the last one)`);
  }
  if (produced.size !== blobCount) {
    throw layerError(last, `the header says ${blobCount} blobs, but the layers produce ${produced.size} (this is the last layer)`);
  }
  return layers;
}

function parseParamToken(layer: NcnnLayer, token: string): void {
  const match = /^(-?\d+)=(.*)$/.exec(token);
  if (!match) throw layerError(layer, `malformed parameter "${token}" (expected id=value)`);
  const id = Number(match[1]);
  const text = match[2];
  if (id <= -23300) {
    const [countText, ...items] = text.split(",");
    const values = items.map(parseNumber);
    if (Number(countText) !== items.length || values.some((value) => value === undefined)) {
      throw layerError(layer, `malformed array parameter "${token}" (expected count,v1,v2,...)`);
    }
    layer.params.set(-id - 23300, { kind: "array", values: values as number[] });
  } else if (text.startsWith('"')) {
    layer.params.set(id, { kind: "string", value: text.replace(/^"|"$/g, "") });
  } else {
    const value = parseNumber(text);
    if (value === undefined) throw layerError(layer, `malformed parameter "${token}" (not a number)`);
    layer.params.set(id, { kind: "number", value, float: /[.eEn]/.test(text) });
  }
}

function intParam(layer: NcnnLayer, id: number, fallback: number): number {
  const param = layer.params.get(id);
  if (!param) return fallback;
  if (param.kind !== "number") throw layerError(layer, `parameter ${id} must be a number`);
  return Math.trunc(param.value);
}

function floatParam(layer: NcnnLayer, id: number, fallback: number): number {
  const param = layer.params.get(id);
  if (!param) return fallback;
  if (param.kind !== "number") throw layerError(layer, `parameter ${id} must be a number`);
  return param.value;
}

function arrayParam(layer: NcnnLayer, id: number): number[] | undefined {
  const param = layer.params.get(id);
  if (!param) return undefined;
  if (param.kind === "number") return [param.value];
  if (param.kind !== "array") throw layerError(layer, `parameter ${id} must be an array`);
  return param.values;
}

// ---------------------------------------------------------------------------------------------------
// .bin

const TAG_FP16 = 0x01306b47;
const TAG_INT8 = 0x000d4b38;
const TAG_FP32_SCALED = 0x0002c056;

/** Weights as stored: half floats are kept (fp16 initializers), everything else becomes float. */
type StoredWeights = { kind: "f16"; bits: Uint16Array } | { kind: "f32"; values: Float32Array };

function align4(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}

class BinReader {
  offset = 0;
  lastReader?: NcnnLayer;

  constructor(private readonly bytes: Uint8Array) {}

  private take(layer: NcnnLayer, what: string, length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) {
      throw layerError(
        layer,
        `the .bin is too short: its ${what} need ${length} bytes at offset ${this.offset}, but the file ends at ${this.bytes.length} ` +
          `(${this.bytes.length - this.offset} bytes left): the .bin does not belong to this .param, or is truncated`,
      );
    }
    this.lastReader = layer;
    // A copy (not slice(): a Node Buffer's slice is a view): typed-array views need aligned offsets.
    const chunk = new Uint8Array(length);
    chunk.set(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return chunk;
  }

  /** Untagged fp32 data (biases, slopes, Scale and BatchNorm data). */
  floats(layer: NcnnLayer, what: string, count: number): Float32Array {
    return new Float32Array(this.take(layer, what, count * 4).buffer);
  }

  /** Tagged weights (Convolution, Deconvolution, InnerProduct). */
  weights(layer: NcnnLayer, what: string, count: number): StoredWeights {
    const tagBytes = this.take(layer, `${what} tag`, 4);
    const tag = new DataView(tagBytes.buffer).getUint32(0, true);
    if (tag === TAG_FP16) {
      const bits = new Uint16Array(this.take(layer, `${what} (${count} fp16 values)`, align4(count * 2)).buffer, 0, count);
      return { kind: "f16", bits };
    }
    if (tag === TAG_INT8) throw layerError(layer, `its ${what} are int8-quantized, which this importer does not support`);
    if (tag === TAG_FP32_SCALED || tag === 0) return { kind: "f32", values: this.floats(layer, `${what} (${count} fp32 values)`, count) };
    // Any other non-zero tag: a 256-entry float table, then one uint8 index per value.
    const table = this.floats(layer, `${what} quantization table`, 256);
    const indices = this.take(layer, `${what} (${count} table indices)`, align4(count));
    return { kind: "f32", values: Float32Array.from(indices.subarray(0, count), (i) => table[i]) };
  }

  finish(): void {
    const left = this.bytes.length - this.offset;
    if (left !== 0) {
      const last = this.lastReader ? `after ${where(this.lastReader)} read the last weights` : "and no layer reads any weights";
      throw new NcnnImportError(
        `the .bin is too long: ${left} bytes are left over ${last} (${this.bytes.length} bytes in all, ${this.offset} read): ` +
          "the .bin does not belong to this .param",
      );
    }
  }
}

/** Reorders a [a, b, rest] array to [b, a, rest] (typed arrays of any kind). */
function swapLeadingAxes<T extends Float32Array | Uint16Array>(source: T, a: number, b: number, rest: number): T {
  const out = new (source.constructor as new (length: number) => T)(source.length);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) out.set(source.subarray((i * b + j) * rest, (i * b + j + 1) * rest), (j * a + i) * rest);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// graph

/**
 * A blob: its ONNX value, whether ncnn holds it as CHW or as a 1-D vector ([N, C, 1, 1] here), its channel count
 * and its height and width for the two probe input sizes (used to find the scale and how much the network crops).
 */
interface Value {
  name: string;
  vector: boolean;
  channels: number;
  h: number[];
  w: number[];
}

const PROBE_SIZES = [96, 192]; // input sizes the graph's shapes are worked out for (multiples of 2, 3, 4, 8, 12, ...)

class Converter {
  readonly graph = new GraphBuilder();
  private readonly values = new Map<string, Value>();
  private readonly usedNames = new Set<string>();
  private readonly reader: BinReader;

  constructor(
    bin: Uint8Array,
    private readonly fp16: "keep" | "widen",
  ) {
    this.reader = new BinReader(bin);
  }

  finishBin(): void {
    this.reader.finish();
  }

  /** A name for a layer's ONNX nodes and weights, unique even if ncnn names repeat. */
  private layerName(layer: NcnnLayer): string {
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

  private storeWeight(name: string, dims: number[], weights: StoredWeights): string {
    if (weights.kind === "f32") return this.graph.weight(name, dims, weights.values);
    if (this.fp16 === "keep") return this.graph.weight16(name, dims, weights.bits);
    return this.graph.weight(name, dims, Float32Array.from(weights.bits, halfToFloat));
  }

  private scalar(value: number): string {
    return this.graph.constant([], [value]);
  }

  private perChannel(values: ArrayLike<number>): number[] {
    return Array.from(values);
  }

  /** Applies ncnn's fused activation (Convolution, Deconvolution, InnerProduct param 9 and 10) to `input`. */
  private activation(layer: NcnnLayer, base: string, input: string, output: string): void {
    const type = intParam(layer, 9, 0);
    const params = arrayParam(layer, 10) ?? [];
    this.applyActivation(layer, base, type, params, input, output);
  }

  private applyActivation(layer: NcnnLayer, base: string, type: number, params: number[], input: string, output: string): void {
    const g = this.graph;
    switch (type) {
      case 0:
        g.node("Identity", `${base}/identity`, [input], output);
        return;
      case 1:
        g.node("Relu", `${base}/relu`, [input], output);
        return;
      case 2:
        g.node("LeakyRelu", `${base}/leakyrelu`, [input], output, [floatAttribute("alpha", params[0] ?? 0)]);
        return;
      case 3:
        g.node("Clip", `${base}/clip`, [input, this.scalar(params[0] ?? -3.4028234663852886e38), this.scalar(params[1] ?? 3.4028234663852886e38)], output);
        return;
      case 4:
        g.node("Sigmoid", `${base}/sigmoid`, [input], output);
        return;
      case 5: {
        // mish: x * tanh(softplus(x))
        g.node("Softplus", `${base}/softplus`, [input], `${base}/softplus`);
        g.node("Tanh", `${base}/tanh`, [`${base}/softplus`], `${base}/tanh`);
        g.node("Mul", `${base}/mish`, [input, `${base}/tanh`], output);
        return;
      }
      case 6: {
        // hardswish: x * clamp(x * alpha + beta, 0, 1)
        g.node("HardSigmoid", `${base}/hardsigmoid`, [input], `${base}/hardsigmoid`, [
          floatAttribute("alpha", params[0] ?? 0.2),
          floatAttribute("beta", params[1] ?? 0.5),
        ]);
        g.node("Mul", `${base}/hardswish`, [input, `${base}/hardsigmoid`], output);
        return;
      }
      default:
        throw layerError(layer, `unsupported activation type ${type} (param 9; supported: 0 none, 1 ReLU, 2 LeakyReLU, 3 Clip, 4 Sigmoid, 5 Mish, 6 HardSwish)`);
    }
  }

  /** The node that computes a layer's output, then its fused activation if it has one. */
  private withActivation(layer: NcnnLayer, base: string, output: string, emit: (target: string) => void): void {
    if (intParam(layer, 9, 0) === 0) {
      emit(output);
    } else {
      emit(`${base}/linear`);
      this.activation(layer, base, `${base}/linear`, output);
    }
  }

  private only(layer: NcnnLayer, count = 1): Value[] {
    if (layer.bottoms.length !== count) throw layerError(layer, `takes ${count} bottom blob${count === 1 ? "" : "s"}, not ${layer.bottoms.length}`);
    return layer.bottoms.map((bottom) => this.value(bottom));
  }

  private oneTop(layer: NcnnLayer): string {
    if (layer.tops.length !== 1) throw layerError(layer, `produces ${layer.tops.length} top blobs; one is supported`);
    return layer.tops[0];
  }

  private chw(layer: NcnnLayer, value: Value, what = "its input"): void {
    if (value.vector) throw layerError(layer, `${what} is a 1-D blob; this layer needs a CHW blob`);
  }

  convert(layer: NcnnLayer): void {
    const handler = HANDLERS[layer.type];
    if (!handler) {
      throw layerError(layer, `unknown layer type "${layer.type}" (supported: ${Object.keys(HANDLERS).join(", ")})`);
    }
    handler.call(this, layer, this.layerName(layer));
  }

  // --- layers -------------------------------------------------------------------------------------

  input(layer: NcnnLayer): void {
    throw layerError(layer, "a second Input layer: only models with one input are supported");
  }

  convolution(layer: NcnnLayer, base: string, depthwise: boolean): void {
    const [input] = this.only(layer);
    this.chw(layer, input);
    const top = this.oneTop(layer);
    const outChannels = intParam(layer, 0, 0);
    const kw = intParam(layer, 1, 0);
    const kh = intParam(layer, 11, kw);
    const dw = intParam(layer, 2, 1);
    const dh = intParam(layer, 12, dw);
    const sw = intParam(layer, 3, 1);
    const sh = intParam(layer, 13, sw);
    const padLeft = intParam(layer, 4, 0);
    const padRight = intParam(layer, 15, padLeft);
    const padTop = intParam(layer, 14, padLeft);
    const padBottom = intParam(layer, 16, padTop);
    const padValue = floatParam(layer, 18, 0);
    const biasTerm = intParam(layer, 5, 0);
    const weightCount = intParam(layer, 6, 0);
    const group = depthwise ? intParam(layer, 7, 1) : 1;
    if (intParam(layer, 8, 0) !== 0) throw layerError(layer, "int8 quantized convolution (param 8) is not supported");
    if (intParam(layer, 19, 0) !== 0) throw layerError(layer, "dynamic weights (param 19) are not supported");
    if (!(outChannels > 0 && kw > 0 && kh > 0 && sw > 0 && sh > 0 && dw > 0 && dh > 0 && group > 0)) {
      throw layerError(layer, "num_output, kernel, stride and dilation must be positive");
    }
    if (outChannels % group !== 0 || input.channels % group !== 0) {
      throw layerError(layer, `group ${group} does not divide ${input.channels} input and ${outChannels} output channels`);
    }
    const inPerGroup = weightCount / (outChannels * kh * kw);
    if (inPerGroup !== input.channels / group) {
      throw layerError(
        layer,
        `weight_data_size ${weightCount} is ${outChannels} x ${inPerGroup} x ${kh} x ${kw}, but its input has ${input.channels} channels` +
          (group > 1 ? ` in ${group} groups` : ""),
      );
    }
    const weights = this.reader.weights(layer, "weights", weightCount);
    const inputs = [input.name, this.storeWeight(`${base}/weight`, [outChannels, inPerGroup, kh, kw], weights)];
    if (biasTerm) inputs.push(this.graph.weight(`${base}/bias`, [outChannels], this.reader.floats(layer, "bias", outChannels)));

    const attributes: AttributeProto[] = [intsAttribute("kernel_shape", [kh, kw])];
    if (sw !== 1 || sh !== 1) attributes.push(intsAttribute("strides", [sh, sw]));
    if (dw !== 1 || dh !== 1) attributes.push(intsAttribute("dilations", [dh, dw]));
    if (group !== 1) attributes.push(intAttribute("group", group));
    const same = padLeft === -233 || padLeft === -234;
    let source = input.name;
    if (same) {
      attributes.push(stringAttribute("auto_pad", padLeft === -233 ? "SAME_UPPER" : "SAME_LOWER"));
    } else if (padLeft < 0 || padRight < 0 || padTop < 0 || padBottom < 0) {
      throw layerError(layer, `unsupported padding ${[padLeft, padRight, padTop, padBottom]}`);
    } else if (padValue !== 0 && padLeft + padRight + padTop + padBottom > 0) {
      // A non-zero pad value: an explicit Pad before the convolution.
      source = `${base}/padded`;
      this.graph.node("Pad", `${base}/pad`, [input.name, this.graph.int64Constant([8], [0, 0, padTop, padLeft, 0, 0, padBottom, padRight]), this.scalar(padValue)], source, [
        stringAttribute("mode", "constant"),
      ]);
    } else if (padLeft + padRight + padTop + padBottom > 0) {
      attributes.push(intsAttribute("pads", [padTop, padLeft, padBottom, padRight]));
    }
    inputs[0] = source;
    const output = blobName(top);
    this.withActivation(layer, base, output, (target) => this.graph.node("Conv", base, inputs, target, attributes));
    const size = (length: number, k: number, s: number, d: number, p0: number, p1: number) =>
      same ? Math.ceil(length / s) : Math.floor((length + p0 + p1 - (d * (k - 1) + 1)) / s) + 1;
    this.set(top, {
      name: output,
      vector: false,
      channels: outChannels,
      h: input.h.map((length) => size(length, kh, sh, dh, padTop, padBottom)),
      w: input.w.map((length) => size(length, kw, sw, dw, padLeft, padRight)),
    });
  }

  deconvolution(layer: NcnnLayer, base: string, depthwise: boolean): void {
    const [input] = this.only(layer);
    this.chw(layer, input);
    const top = this.oneTop(layer);
    const outChannels = intParam(layer, 0, 0);
    const kw = intParam(layer, 1, 0);
    const kh = intParam(layer, 11, kw);
    const dw = intParam(layer, 2, 1);
    const dh = intParam(layer, 12, dw);
    const sw = intParam(layer, 3, 1);
    const sh = intParam(layer, 13, sw);
    const padLeft = intParam(layer, 4, 0);
    const padRight = intParam(layer, 15, padLeft);
    const padTop = intParam(layer, 14, padLeft);
    const padBottom = intParam(layer, 16, padTop);
    const outPadRight = intParam(layer, 18, 0);
    const outPadBottom = intParam(layer, 19, outPadRight);
    const biasTerm = intParam(layer, 5, 0);
    const weightCount = intParam(layer, 6, 0);
    const group = depthwise ? intParam(layer, 7, 1) : 1;
    if (intParam(layer, 20, 0) !== 0 || intParam(layer, 21, 0) !== 0) throw layerError(layer, "an explicit output size (params 20/21) is not supported");
    if (intParam(layer, 28, 0) !== 0) throw layerError(layer, "dynamic weights (param 28) are not supported");
    if (!(outChannels > 0 && kw > 0 && kh > 0 && sw > 0 && sh > 0 && dw > 0 && dh > 0 && group > 0)) {
      throw layerError(layer, "num_output, kernel, stride and dilation must be positive");
    }
    if (outChannels % group !== 0 || input.channels % group !== 0) {
      throw layerError(layer, `group ${group} does not divide ${input.channels} input and ${outChannels} output channels`);
    }
    const outPerGroup = outChannels / group;
    const inPerGroup = weightCount / (outChannels * kh * kw);
    if (inPerGroup !== input.channels / group) {
      throw layerError(layer, `weight_data_size ${weightCount} is ${outChannels} x ${inPerGroup} x ${kh} x ${kw}, but its input has ${input.channels} channels`);
    }
    const stored = this.reader.weights(layer, "weights", weightCount);
    // ncnn: [group][out/g][in/g][kh][kw]; ONNX ConvTranspose: [in][out/g][kh][kw] = [group][in/g][out/g][kh][kw].
    const reorder = <T extends Float32Array | Uint16Array>(values: T): T => {
      const perGroup = outPerGroup * inPerGroup * kh * kw;
      const out = new (values.constructor as new (length: number) => T)(values.length);
      for (let g = 0; g < group; g++) {
        out.set(swapLeadingAxes(values.subarray(g * perGroup, (g + 1) * perGroup) as T, outPerGroup, inPerGroup, kh * kw), g * perGroup);
      }
      return out;
    };
    const weights: StoredWeights = stored.kind === "f16" ? { kind: "f16", bits: reorder(stored.bits) } : { kind: "f32", values: reorder(stored.values) };
    const inputs = [input.name, this.storeWeight(`${base}/weight`, [input.channels, outPerGroup, kh, kw], weights)];
    if (biasTerm) inputs.push(this.graph.weight(`${base}/bias`, [outChannels], this.reader.floats(layer, "bias", outChannels)));
    const attributes: AttributeProto[] = [intsAttribute("kernel_shape", [kh, kw])];
    if (sw !== 1 || sh !== 1) attributes.push(intsAttribute("strides", [sh, sw]));
    if (dw !== 1 || dh !== 1) attributes.push(intsAttribute("dilations", [dh, dw]));
    if (group !== 1) attributes.push(intAttribute("group", group));
    const same = padLeft === -233 || padLeft === -234;
    if (same) {
      attributes.push(stringAttribute("auto_pad", padLeft === -233 ? "SAME_UPPER" : "SAME_LOWER"));
    } else {
      if (padLeft < 0 || padRight < 0 || padTop < 0 || padBottom < 0) throw layerError(layer, `unsupported padding ${[padLeft, padRight, padTop, padBottom]}`);
      if (padLeft + padRight + padTop + padBottom > 0) attributes.push(intsAttribute("pads", [padTop, padLeft, padBottom, padRight]));
    }
    if (outPadRight || outPadBottom) {
      if (outPadRight >= sw || outPadBottom >= sh || outPadRight < 0 || outPadBottom < 0) {
        throw layerError(layer, `output padding ${outPadBottom}x${outPadRight} must be below the stride ${sh}x${sw}`);
      }
      attributes.push(intsAttribute("output_padding", [outPadBottom, outPadRight]));
    }
    const output = blobName(top);
    this.withActivation(layer, base, output, (target) => this.graph.node("ConvTranspose", base, inputs, target, attributes));
    const size = (length: number, k: number, s: number, d: number, p0: number, p1: number, extra: number) =>
      same ? length * s : (length - 1) * s + d * (k - 1) + 1 + extra - p0 - p1;
    this.set(top, {
      name: output,
      vector: false,
      channels: outChannels,
      h: input.h.map((length) => size(length, kh, sh, dh, padTop, padBottom, outPadBottom)),
      w: input.w.map((length) => size(length, kw, sw, dw, padLeft, padRight, outPadRight)),
    });
  }

  innerProduct(layer: NcnnLayer, base: string): void {
    const [input] = this.only(layer);
    const top = this.oneTop(layer);
    const outChannels = intParam(layer, 0, 0);
    const biasTerm = intParam(layer, 1, 0);
    const weightCount = intParam(layer, 2, 0);
    if (intParam(layer, 8, 0) !== 0) throw layerError(layer, "int8 quantized inner product (param 8) is not supported");
    if (!(outChannels > 0)) throw layerError(layer, "num_output must be positive");
    const inCount = weightCount / outChannels;
    const spatial = input.vector ? [1] : input.h.map((h, i) => h * input.w[i]);
    if (!spatial.every((size) => size * input.channels === inCount)) {
      throw layerError(
        layer,
        `weight_data_size ${weightCount} is ${outChannels} x ${inCount}, but its input has ${input.channels} channels` +
          (input.vector ? "" : ` of a size that depends on the image (an InnerProduct needs a fixed-size input)`),
      );
    }
    const weights = this.reader.weights(layer, "weights", weightCount);
    // As a 1x1 convolution on [N, C, 1, 1]: keeps the rank of ncnn's vectors, and ORT runs it on its fast path.
    const inputs = [input.name, this.storeWeight(`${base}/weight`, [outChannels, input.channels, 1, 1], weights)];
    if (biasTerm) inputs.push(this.graph.weight(`${base}/bias`, [outChannels], this.reader.floats(layer, "bias", outChannels)));
    const output = blobName(top);
    this.withActivation(layer, base, output, (target) => this.graph.node("Conv", base, inputs, target, [intsAttribute("kernel_shape", [1, 1])]));
    this.set(top, { name: output, vector: true, channels: outChannels, h: input.h.map(() => 1), w: input.w.map(() => 1) });
  }

  split(layer: NcnnLayer): void {
    const [input] = this.only(layer);
    for (const top of layer.tops) this.set(top, input);
  }

  /** A one-in, one-out layer that keeps the shape. */
  private unary(layer: NcnnLayer, emit: (input: Value, output: string) => void): void {
    const [input] = this.only(layer);
    const top = this.oneTop(layer);
    const output = blobName(top);
    emit(input, output);
    this.set(top, { ...input, name: output });
  }

  relu(layer: NcnnLayer, base: string): void {
    const slope = floatParam(layer, 0, 0);
    this.unary(layer, (input, output) =>
      slope === 0
        ? this.graph.node("Relu", base, [input.name], output)
        : this.graph.node("LeakyRelu", base, [input.name], output, [floatAttribute("alpha", slope)]),
    );
  }

  prelu(layer: NcnnLayer, base: string): void {
    const count = intParam(layer, 0, 0);
    this.unary(layer, (input, output) => {
      if (count !== 1 && count !== input.channels) throw layerError(layer, `num_slope ${count} is neither 1 nor its ${input.channels} channels`);
      const slope = this.graph.weight(`${base}/slope`, count === 1 ? [1] : [count, 1, 1], this.reader.floats(layer, "slopes", count));
      this.graph.node("PRelu", base, [input.name, slope], output);
    });
  }

  activationLayer(layer: NcnnLayer, base: string, type: number, params: number[]): void {
    this.unary(layer, (input, output) => this.applyActivation(layer, base, type, params, input.name, output));
  }

  simple(layer: NcnnLayer, base: string, opType: string, attributes: AttributeProto[] = []): void {
    this.unary(layer, (input, output) => this.graph.node(opType, base, [input.name], output, attributes));
  }

  swish(layer: NcnnLayer, base: string): void {
    this.unary(layer, (input, output) => {
      this.graph.node("Sigmoid", `${base}/sigmoid`, [input.name], `${base}/sigmoid`);
      this.graph.node("Mul", base, [input.name, `${base}/sigmoid`], output);
    });
  }

  dropout(layer: NcnnLayer, base: string): void {
    const scale = floatParam(layer, 0, 1);
    this.unary(layer, (input, output) =>
      scale === 1
        ? this.graph.node("Identity", base, [input.name], output)
        : this.graph.node("Mul", base, [input.name, this.scalar(scale)], output),
    );
  }

  batchNorm(layer: NcnnLayer, base: string): void {
    const channels = intParam(layer, 0, 0);
    const eps = floatParam(layer, 1, 0);
    this.unary(layer, (input, output) => {
      if (channels !== input.channels) throw layerError(layer, `channels ${channels} do not match its input's ${input.channels}`);
      const slope = this.reader.floats(layer, "slopes", channels);
      const mean = this.reader.floats(layer, "means", channels);
      const variance = this.reader.floats(layer, "variances", channels);
      const bias = this.reader.floats(layer, "biases", channels);
      // ncnn folds it the same way: b = bias - slope * mean / sqrt(var + eps), a = slope / sqrt(var + eps).
      const a = new Float32Array(channels);
      const b = new Float32Array(channels);
      for (let c = 0; c < channels; c++) {
        const sqrtVar = Math.fround(Math.sqrt(Math.fround(variance[c] + eps)));
        a[c] = slope[c] / sqrtVar;
        b[c] = bias[c] - (slope[c] * mean[c]) / sqrtVar;
      }
      this.graph.parameterCount += 4 * channels;
      this.graph.node("Mul", `${base}/scale`, [input.name, this.graph.constant([channels, 1, 1], this.perChannel(a))], `${base}/scaled`);
      this.graph.node("Add", base, [`${base}/scaled`, this.graph.constant([channels, 1, 1], this.perChannel(b))], output);
    });
  }

  scale(layer: NcnnLayer, base: string): void {
    const size = intParam(layer, 0, 0);
    const biasTerm = intParam(layer, 1, 0);
    if (size === -233) {
      // Two inputs: the data and a per-channel scale blob.
      const [input, factor] = this.only(layer, 2);
      const top = this.oneTop(layer);
      if (factor.channels !== input.channels) throw layerError(layer, `its scale blob has ${factor.channels} values for ${input.channels} channels`);
      const output = blobName(top);
      this.graph.node("Mul", base, [input.name, factor.name], output);
      this.set(top, { ...input, name: output });
      return;
    }
    this.unary(layer, (input, output) => {
      if (size !== input.channels && size !== 1) throw layerError(layer, `scale_data_size ${size} is neither 1 nor its ${input.channels} channels`);
      const dims = size === 1 ? [1] : [size, 1, 1];
      const factor = this.graph.weight(`${base}/scale`, dims, this.reader.floats(layer, "scale data", size));
      if (!biasTerm) {
        this.graph.node("Mul", base, [input.name, factor], output);
        return;
      }
      this.graph.node("Mul", `${base}/mul`, [input.name, factor], `${base}/scaled`);
      const bias = this.graph.weight(`${base}/bias`, dims, this.reader.floats(layer, "bias", size));
      this.graph.node("Add", base, [`${base}/scaled`, bias], output);
    });
  }

  /** Broadcast shape of several values (ncnn: a vector of C broadcasts over a CHW blob of C channels). */
  private broadcast(layer: NcnnLayer, inputs: Value[]): Omit<Value, "name"> {
    const spatial = inputs.find((input) => !input.vector) ?? inputs[0];
    const channels = Math.max(...inputs.map((input) => input.channels));
    for (const input of inputs) {
      if (input.channels !== channels && input.channels !== 1) {
        throw layerError(layer, `its inputs have ${inputs.map((value) => value.channels).join(" and ")} channels`);
      }
      if (!input.vector && input.h.some((h, i) => (h !== spatial.h[i] && h !== 1) || (input.w[i] !== spatial.w[i] && input.w[i] !== 1))) {
        throw layerError(layer, "its inputs have different heights or widths");
      }
    }
    return { vector: inputs.every((input) => input.vector), channels, h: spatial.h, w: spatial.w };
  }

  binaryOp(layer: NcnnLayer, base: string): void {
    const op = intParam(layer, 0, 0);
    const withScalar = intParam(layer, 1, 0) !== 0;
    const names: Record<number, [string, boolean]> = {
      0: ["Add", false],
      1: ["Sub", false],
      2: ["Mul", false],
      3: ["Div", false],
      4: ["Max", false],
      5: ["Min", false],
      6: ["Pow", false],
      7: ["Sub", true],
      8: ["Div", true],
      9: ["Pow", true],
    };
    const entry = names[op];
    if (!entry) throw layerError(layer, `unsupported operation ${op} (param 0; supported: 0 add ... 9 rpow)`);
    const [opType, reversed] = entry;
    const top = this.oneTop(layer);
    const output = blobName(top);
    if (withScalar) {
      const [input] = this.only(layer);
      const b = this.scalar(floatParam(layer, 2, 0));
      this.graph.node(opType, base, reversed ? [b, input.name] : [input.name, b], output);
      this.set(top, { ...input, name: output });
      return;
    }
    const [a, b] = this.only(layer, 2);
    this.graph.node(opType, base, reversed ? [b.name, a.name] : [a.name, b.name], output);
    this.set(top, { name: output, ...this.broadcast(layer, [a, b]) });
  }

  eltwise(layer: NcnnLayer, base: string): void {
    const op = intParam(layer, 0, 1);
    const inputs = layer.bottoms.map((bottom) => this.value(bottom));
    if (inputs.length < 2) throw layerError(layer, "needs at least two bottom blobs");
    const top = this.oneTop(layer);
    const output = blobName(top);
    const shape = this.broadcast(layer, inputs);
    const coefficients = arrayParam(layer, 1) ?? [];
    if (op === 1 && coefficients.length > 0 && coefficients.length !== inputs.length) {
      throw layerError(layer, `${coefficients.length} coefficients for ${inputs.length} inputs`);
    }
    const terms = inputs.map((input, i) => {
      const coefficient = op === 1 && coefficients.length > 0 ? coefficients[i] : 1;
      if (coefficient === 1) return input.name;
      const scaled = `${base}/term${i}`;
      if (!input.vector && input.channels === shape.channels) {
        // A 1x1 depthwise Conv rather than Mul: ORT's NCHWc layout (its fast CPU conv path) keeps it, and folds
        // the Add that follows into it (a Mul by a constant would force layout reorders around it).
        const kernel = this.graph.constant([input.channels, 1, 1, 1], new Array<number>(input.channels).fill(coefficient));
        this.graph.node("Conv", scaled, [input.name, kernel], scaled, [intAttribute("group", input.channels), intsAttribute("kernel_shape", [1, 1])]);
      } else {
        this.graph.node("Mul", scaled, [input.name, this.scalar(coefficient)], scaled);
      }
      return scaled;
    });
    const opType = op === 0 ? "Mul" : op === 1 ? "Add" : op === 2 ? "Max" : undefined;
    if (!opType) throw layerError(layer, `unsupported operation ${op} (param 0; supported: 0 product, 1 sum, 2 max)`);
    // Pairwise, in order, as ncnn accumulates.
    let accumulated = terms[0];
    for (let i = 1; i < terms.length; i++) {
      const target = i === terms.length - 1 ? output : `${base}/partial${i}`;
      this.graph.node(opType, i === terms.length - 1 ? base : `${base}/${i}`, [accumulated, terms[i]], target);
      accumulated = target;
    }
    this.set(top, { name: output, ...shape });
  }

  concat(layer: NcnnLayer, base: string): void {
    const inputs = layer.bottoms.map((bottom) => this.value(bottom));
    if (inputs.length < 1) throw layerError(layer, "needs bottom blobs");
    const top = this.oneTop(layer);
    const vector = inputs[0].vector;
    if (inputs.some((input) => input.vector !== vector)) throw layerError(layer, "concatenates 1-D and CHW blobs");
    const dims = vector ? 1 : 3;
    let axis = intParam(layer, 0, 0);
    if (axis < 0) axis += dims;
    if (axis < 0 || axis >= dims) throw layerError(layer, `axis ${intParam(layer, 0, 0)} is out of range for ${dims}-D blobs`);
    const output = blobName(top);
    this.graph.node("Concat", base, inputs.map((input) => input.name), output, [intAttribute("axis", axis + 1)]);
    const first = inputs[0];
    const sum = (pick: (value: Value) => number[]) => pick(first).map((_, i) => inputs.reduce((total, input) => total + pick(input)[i], 0));
    this.set(top, {
      name: output,
      vector,
      channels: axis === 0 ? inputs.reduce((total, input) => total + input.channels, 0) : first.channels,
      h: axis === 1 ? sum((value) => value.h) : first.h,
      w: axis === 2 ? sum((value) => value.w) : first.w,
    });
  }

  pixelShuffle(layer: NcnnLayer, base: string): void {
    const factor = intParam(layer, 0, 1);
    const mode = intParam(layer, 1, 0);
    if (mode !== 0 && mode !== 1) throw layerError(layer, `unsupported mode ${mode} (param 1: 0 PyTorch/CRD, 1 TensorFlow/DCR)`);
    if (!(factor > 0)) throw layerError(layer, "upscale_factor must be positive");
    const [input] = this.only(layer);
    this.chw(layer, input);
    if (input.channels % (factor * factor) !== 0) throw layerError(layer, `${input.channels} channels do not split into ${factor}x${factor} blocks`);
    const top = this.oneTop(layer);
    const output = blobName(top);
    this.graph.node("DepthToSpace", base, [input.name], output, [intAttribute("blocksize", factor), stringAttribute("mode", mode === 0 ? "CRD" : "DCR")]);
    this.set(top, {
      name: output,
      vector: false,
      channels: input.channels / (factor * factor),
      h: input.h.map((h) => h * factor),
      w: input.w.map((w) => w * factor),
    });
  }

  /** [H, W] of a value as an int64 tensor (Shape + Slice). */
  private spatialShape(base: string, value: string): string {
    const shape = `${base}/shape`;
    this.graph.node("Shape", `${base}/shape`, [value], shape);
    this.graph.node("Slice", `${base}/hw`, [shape, this.graph.int64Constant([1], [2]), this.graph.int64Constant([1], [4])], `${base}/hw`);
    return `${base}/hw`;
  }

  interp(layer: NcnnLayer, base: string): void {
    const type = intParam(layer, 0, 0);
    const heightScale = Math.fround(floatParam(layer, 1, 1));
    const widthScale = Math.fround(floatParam(layer, 2, 1));
    const outH = intParam(layer, 3, 0);
    const outW = intParam(layer, 4, 0);
    const dynamic = intParam(layer, 5, 0) !== 0;
    const alignCorner = intParam(layer, 6, 0) !== 0;
    if (layer.params.has(9)) throw layerError(layer, "size expressions (param 9) are not supported");
    if (type < 1 || type > 3) throw layerError(layer, `unsupported resize type ${type} (param 0: 1 nearest, 2 bilinear, 3 bicubic)`);
    const inputs = this.only(layer, dynamic ? 2 : 1);
    const input = inputs[0];
    this.chw(layer, input);
    const top = this.oneTop(layer);
    const output = blobName(top);
    const attributes: AttributeProto[] = [];
    if (type === 1) {
      // ncnn: in_x = min((int)(x * w / outw), w - 1) for a size, (int)(x / scale) for a scale: asymmetric + floor.
      attributes.push(stringAttribute("mode", "nearest"), stringAttribute("coordinate_transformation_mode", "asymmetric"), stringAttribute("nearest_mode", "floor"));
    } else {
      attributes.push(stringAttribute("mode", type === 2 ? "linear" : "cubic"));
      attributes.push(stringAttribute("coordinate_transformation_mode", alignCorner ? "align_corners" : "half_pixel"));
      if (type === 3) attributes.push(floatAttribute("cubic_coeff_a", -0.75));
    }
    const empty = "";
    let h: number[];
    let w: number[];
    if (dynamic) {
      const reference = inputs[1];
      const sizes = `${base}/sizes`;
      this.graph.node("Concat", `${base}/sizes`, [this.batchAndChannels(base, input.name), this.spatialShape(`${base}/ref`, reference.name)], sizes, [intAttribute("axis", 0)]);
      this.graph.node("Resize", base, [input.name, empty, empty, sizes], output, attributes);
      h = reference.h;
      w = reference.w;
    } else if (outH > 0 && outW > 0) {
      const sizes = `${base}/sizes`;
      this.graph.node("Concat", `${base}/sizes`, [this.batchAndChannels(base, input.name), this.graph.int64Constant([2], [outH, outW])], sizes, [intAttribute("axis", 0)]);
      this.graph.node("Resize", base, [input.name, empty, empty, sizes], output, attributes);
      h = input.h.map(() => outH);
      w = input.w.map(() => outW);
    } else {
      h = input.h.map((length) => Math.trunc(Math.fround(length * heightScale)));
      w = input.w.map((length) => Math.trunc(Math.fround(length * widthScale)));
      if (type === 1) {
        // ncnn's nearest uses the scale itself for coordinates: ONNX scales do the same.
        this.graph.node("Resize", base, [input.name, empty, this.graph.constant([4], [1, 1, heightScale, widthScale])], output, attributes);
      } else {
        // ncnn's bilinear/bicubic coordinates use in/out sizes, out = (int)(in * scale): ONNX sizes, computed so.
        const hw = this.spatialShape(base, input.name);
        const g = this.graph;
        g.node("Cast", `${base}/hw_float`, [hw], `${base}/hw_float`, [intAttribute("to", 1)]);
        g.node("Mul", `${base}/hw_scaled`, [`${base}/hw_float`, g.constant([2], [heightScale, widthScale])], `${base}/hw_scaled`);
        g.node("Floor", `${base}/hw_floor`, [`${base}/hw_scaled`], `${base}/hw_floor`);
        g.node("Cast", `${base}/out_hw`, [`${base}/hw_floor`], `${base}/out_hw`, [intAttribute("to", 7)]);
        g.node("Concat", `${base}/sizes`, [this.batchAndChannels(base, input.name), `${base}/out_hw`], `${base}/sizes`, [intAttribute("axis", 0)]);
        g.node("Resize", base, [input.name, empty, empty, `${base}/sizes`], output, attributes);
      }
    }
    this.set(top, { name: output, vector: false, channels: input.channels, h, w });
  }

  /** [N, C] of a value as an int64 tensor. */
  private batchAndChannels(base: string, value: string): string {
    this.graph.node("Shape", `${base}/nc_shape`, [value], `${base}/nc_shape`);
    this.graph.node("Slice", `${base}/nc`, [`${base}/nc_shape`, this.graph.int64Constant([1], [0]), this.graph.int64Constant([1], [2])], `${base}/nc`);
    return `${base}/nc`;
  }

  pooling(layer: NcnnLayer, base: string): void {
    const type = intParam(layer, 0, 0);
    const kw = intParam(layer, 1, 0);
    const kh = intParam(layer, 11, kw);
    const sw = intParam(layer, 2, 1);
    const sh = intParam(layer, 12, sw);
    const padLeft = intParam(layer, 3, 0);
    const padRight = intParam(layer, 14, padLeft);
    const padTop = intParam(layer, 13, padLeft);
    const padBottom = intParam(layer, 15, padTop);
    const global = intParam(layer, 4, 0) !== 0;
    const padMode = intParam(layer, 5, 0);
    const includePad = intParam(layer, 6, 0) !== 0;
    if (intParam(layer, 7, 0) !== 0) throw layerError(layer, "adaptive pooling (param 7) is not supported");
    if (type !== 0 && type !== 1) throw layerError(layer, `unsupported pooling type ${type} (param 0: 0 max, 1 average)`);
    const [input] = this.only(layer);
    this.chw(layer, input);
    const top = this.oneTop(layer);
    const output = blobName(top);
    const opType = type === 0 ? "MaxPool" : "AveragePool";
    if (global) {
      this.graph.node(type === 0 ? "GlobalMaxPool" : "GlobalAveragePool", base, [input.name], output);
      this.set(top, { name: output, vector: true, channels: input.channels, h: input.h.map(() => 1), w: input.w.map(() => 1) });
      return;
    }
    if (!(kw > 0 && kh > 0 && sw > 0 && sh > 0)) throw layerError(layer, "kernel and stride must be positive");
    if (padMode < 0 || padMode > 3) throw layerError(layer, `unsupported pad mode ${padMode} (param 5: 0 full, 1 valid, 2 SAME_UPPER, 3 SAME_LOWER)`);
    const attributes: AttributeProto[] = [intsAttribute("kernel_shape", [kh, kw])];
    if (sw !== 1 || sh !== 1) attributes.push(intsAttribute("strides", [sh, sw]));
    let source = input.name;
    const explicitPads = [padTop, padLeft, padBottom, padRight];
    const tail = (length: number, k: number, s: number, p0: number, p1: number) => {
      const rest = (length + p0 + p1 - k) % s;
      return padMode === 0 && rest !== 0 ? s - rest : 0;
    };
    if (padMode === 2 || padMode === 3) {
      attributes.push(stringAttribute("auto_pad", padMode === 2 ? "SAME_UPPER" : "SAME_LOWER"));
      // ncnn counts SAME padding in an average (its pads params are 0 then).
      if (type === 1) attributes.push(intAttribute("count_include_pad", 1));
    } else if (type === 1 && includePad && padMode === 0 && (sw > 1 || sh > 1)) {
      // ncnn's "full" mode pads the tail up to the stride and averages over the whole kernel, pads included:
      // an explicit zero Pad (pads + tail, computed from the size), then an unpadded average.
      const hw = this.spatialShape(base, input.name);
      const g = this.graph;
      const sums = g.int64Constant([2], [padTop + padBottom - kh, padLeft + padRight - kw]);
      const strides = g.int64Constant([2], [sh, sw]);
      g.node("Add", `${base}/tail_a`, [hw, sums], `${base}/tail_a`);
      g.node("Mod", `${base}/tail_b`, [`${base}/tail_a`, strides], `${base}/tail_b`);
      g.node("Sub", `${base}/tail_c`, [strides, `${base}/tail_b`], `${base}/tail_c`);
      g.node("Mod", `${base}/tail`, [`${base}/tail_c`, strides], `${base}/tail`);
      g.node("Add", `${base}/ends`, [`${base}/tail`, g.int64Constant([2], [padBottom, padRight])], `${base}/ends`);
      g.node("Concat", `${base}/pads`, [g.int64Constant([4], [0, 0, padTop, padLeft]), g.int64Constant([2], [0, 0]), `${base}/ends`], `${base}/pads`, [intAttribute("axis", 0)]);
      source = `${base}/padded`;
      g.node("Pad", `${base}/pad`, [input.name, `${base}/pads`], source, [stringAttribute("mode", "constant")]);
    } else {
      if (explicitPads.some((pad) => pad > 0)) attributes.push(intsAttribute("pads", explicitPads));
      if (padMode === 0) attributes.push(intAttribute("ceil_mode", 1));
      if (type === 1) attributes.push(intAttribute("count_include_pad", includePad ? 1 : 0));
    }
    this.graph.node(opType, base, [source], output, attributes);
    const size = (length: number, k: number, s: number, p0: number, p1: number) =>
      padMode >= 2 ? Math.ceil(length / s) : Math.floor((length + p0 + p1 + tail(length, k, s, p0, p1) - k) / s) + 1;
    this.set(top, {
      name: output,
      vector: false,
      channels: input.channels,
      h: input.h.map((length) => size(length, kh, sh, padTop, padBottom)),
      w: input.w.map((length) => size(length, kw, sw, padLeft, padRight)),
    });
  }

  padding(layer: NcnnLayer, base: string): void {
    const top_ = intParam(layer, 0, 0);
    const bottom = intParam(layer, 1, 0);
    const left = intParam(layer, 2, 0);
    const right = intParam(layer, 3, 0);
    const type = intParam(layer, 4, 0);
    const value = floatParam(layer, 5, 0);
    const front = intParam(layer, 7, 0);
    const behind = intParam(layer, 8, 0);
    if (intParam(layer, 6, 0) !== 0) throw layerError(layer, "per-channel pad values (param 6) are not supported");
    if (type < 0 || type > 2) throw layerError(layer, `unsupported padding type ${type} (param 4: 0 constant, 1 replicate, 2 reflect)`);
    if ([top_, bottom, left, right, front, behind].some((pad) => pad < 0)) throw layerError(layer, "negative padding");
    if ((front || behind) && type !== 0) throw layerError(layer, "channel padding (params 7/8) is supported for constant padding only");
    const [input] = this.only(layer);
    this.chw(layer, input);
    const top = this.oneTop(layer);
    const output = blobName(top);
    const inputs = [input.name, this.graph.int64Constant([8], [0, front, top_, left, 0, behind, bottom, right])];
    if (type === 0) inputs.push(this.scalar(value));
    this.graph.node("Pad", base, inputs, output, [stringAttribute("mode", ["constant", "edge", "reflect"][type])]);
    this.set(top, {
      name: output,
      vector: false,
      channels: input.channels + front + behind,
      h: input.h.map((h) => h + top_ + bottom),
      w: input.w.map((w) => w + left + right),
    });
  }

  crop(layer: NcnnLayer, base: string): void {
    const starts = arrayParam(layer, 9);
    const ends = arrayParam(layer, 10);
    const axes = arrayParam(layer, 11);
    if (layer.params.has(19) || layer.params.has(20) || layer.params.has(21)) throw layerError(layer, "crop expressions (params 19-21) are not supported");
    const top = this.oneTop(layer);
    const output = blobName(top);
    const g = this.graph;
    if (starts && ends) {
      // numpy-style: starts/ends/axes over ncnn's axes (c, h, w); an end of 0 or -233 is "to the end".
      const [input] = this.only(layer);
      const dims = input.vector ? 1 : 3;
      const axisList = axes && axes.length > 0 ? axes : [...Array(dims).keys()];
      if (starts.length !== axisList.length || ends.length !== axisList.length) throw layerError(layer, "starts, ends and axes differ in length");
      const onnxAxes: number[] = [];
      const onnxStarts: number[] = [];
      const onnxEnds: number[] = [];
      const shape = { channels: input.channels, h: [...input.h], w: [...input.w] };
      axisList.forEach((rawAxis, i) => {
        const axis = rawAxis < 0 ? rawAxis + dims : rawAxis;
        if (axis < 0 || axis >= dims) throw layerError(layer, `axis ${rawAxis} is out of range for a ${dims}-D blob`);
        const start = starts[i] === -233 ? 0 : starts[i];
        const end = ends[i] === -233 || ends[i] === 0 ? INT64_MAX : ends[i];
        onnxAxes.push(axis + 1);
        onnxStarts.push(start);
        onnxEnds.push(end);
        const resolve = (length: number) => {
          const from = start >= 0 ? Math.min(start, length) : Math.max(0, length + start);
          const to = end >= 0 ? Math.min(end, length) : Math.max(0, length + end);
          return Math.max(0, to - from);
        };
        if (axis === 0) shape.channels = resolve(shape.channels);
        if (axis === 1 && !input.vector) shape.h = shape.h.map(resolve);
        if (axis === 2) shape.w = shape.w.map(resolve);
      });
      const n = onnxAxes.length;
      g.node("Slice", base, [input.name, g.int64Constant([n], onnxStarts), g.int64Constant([n], onnxEnds), g.int64Constant([n], onnxAxes)], output);
      this.set(top, { name: output, vector: input.vector, ...shape });
      return;
    }
    const woffset = intParam(layer, 0, 0);
    const hoffset = intParam(layer, 1, 0);
    const coffset = intParam(layer, 2, 0);
    if (intParam(layer, 13, 0) !== 0 || intParam(layer, 14, 0) !== 0 || intParam(layer, 15, 0) !== 0) throw layerError(layer, "depth cropping is not supported");
    if (woffset < 0 || hoffset < 0 || coffset < 0) throw layerError(layer, "negative offsets");
    if (layer.bottoms.length === 2) {
      // Two inputs: crop the first to the size of the second (its channels too), from the offsets.
      const [input, reference] = this.only(layer, 2);
      this.chw(layer, input);
      this.chw(layer, reference, "its reference blob");
      const refShape = `${base}/ref_shape`;
      g.node("Shape", refShape, [reference.name], refShape);
      g.node("Slice", `${base}/ref_chw`, [refShape, g.int64Constant([1], [1]), g.int64Constant([1], [4])], `${base}/ref_chw`);
      const offsets = g.int64Constant([3], [coffset, hoffset, woffset]);
      g.node("Add", `${base}/ends`, [`${base}/ref_chw`, offsets], `${base}/ends`);
      g.node("Slice", base, [input.name, offsets, `${base}/ends`, g.int64Constant([3], [1, 2, 3])], output);
      this.set(top, { name: output, vector: false, channels: reference.channels, h: reference.h, w: reference.w });
      return;
    }
    // One input: offsets, an output size (-233: as large as fits) and offsets from the far end.
    const [input] = this.only(layer);
    this.chw(layer, input);
    const sizes = [intParam(layer, 5, 0), intParam(layer, 4, 0), intParam(layer, 3, 0)]; // c, h, w
    const offsets = [coffset, hoffset, woffset];
    const farOffsets = [intParam(layer, 8, 0), intParam(layer, 7, 0), intParam(layer, 6, 0)];
    // ncnn: out = w - offset - offset2, then min(outw, out) unless outw is -233.
    const endsList: string[] = [];
    g.node("Shape", `${base}/in_shape`, [input.name], `${base}/in_shape`);
    g.node("Slice", `${base}/in_chw`, [`${base}/in_shape`, g.int64Constant([1], [1]), g.int64Constant([1], [4])], `${base}/in_chw`);
    for (let axis = 0; axis < 3; axis++) {
      const gathered = `${base}/len${axis}`;
      g.node("Slice", gathered, [`${base}/in_chw`, g.int64Constant([1], [axis]), g.int64Constant([1], [axis + 1])], gathered);
      let end = `${base}/end${axis}_far`;
      g.node("Sub", end, [gathered, g.int64Constant([1], [farOffsets[axis]])], end);
      if (sizes[axis] !== -233) {
        const capped = `${base}/end${axis}`;
        g.node("Min", capped, [end, g.int64Constant([1], [offsets[axis] + sizes[axis]])], capped);
        end = capped;
      }
      endsList.push(end);
    }
    g.node("Concat", `${base}/ends`, endsList, `${base}/ends`, [intAttribute("axis", 0)]);
    g.node("Slice", base, [input.name, g.int64Constant([3], offsets), `${base}/ends`, g.int64Constant([3], [1, 2, 3])], output);
    const resolve = (length: number, axis: number) => {
      const fit = length - offsets[axis] - farOffsets[axis];
      return Math.max(0, sizes[axis] === -233 ? fit : Math.min(sizes[axis], fit));
    };
    this.set(top, {
      name: output,
      vector: false,
      channels: resolve(input.channels, 0),
      h: input.h.map((h) => resolve(h, 1)),
      w: input.w.map((w) => resolve(w, 2)),
    });
  }
}

function blobName(blob: string): string {
  return `blob/${blob}`;
}

type Handler = (this: Converter, layer: NcnnLayer, base: string) => void;

const HANDLERS: Record<string, Handler> = {
  Input: Converter.prototype.input,
  Convolution(layer, base) {
    this.convolution(layer, base, false);
  },
  ConvolutionDepthWise(layer, base) {
    this.convolution(layer, base, true);
  },
  Deconvolution(layer, base) {
    this.deconvolution(layer, base, false);
  },
  DeconvolutionDepthWise(layer, base) {
    this.deconvolution(layer, base, true);
  },
  InnerProduct: Converter.prototype.innerProduct,
  Split: Converter.prototype.split,
  Concat: Converter.prototype.concat,
  Eltwise: Converter.prototype.eltwise,
  BinaryOp: Converter.prototype.binaryOp,
  Interp: Converter.prototype.interp,
  PixelShuffle: Converter.prototype.pixelShuffle,
  ReLU: Converter.prototype.relu,
  PReLU: Converter.prototype.prelu,
  Sigmoid(layer, base) {
    this.simple(layer, base, "Sigmoid");
  },
  TanH(layer, base) {
    this.simple(layer, base, "Tanh");
  },
  Clip(layer, base) {
    this.activationLayer(layer, base, 3, [floatParam(layer, 0, -3.4028234663852886e38), floatParam(layer, 1, 3.4028234663852886e38)]);
  },
  Swish: Converter.prototype.swish,
  Mish(layer, base) {
    this.activationLayer(layer, base, 5, []);
  },
  HardSwish(layer, base) {
    this.activationLayer(layer, base, 6, [floatParam(layer, 0, 0.2), floatParam(layer, 1, 0.5)]);
  },
  HardSigmoid(layer, base) {
    this.simple(layer, base, "HardSigmoid", [floatAttribute("alpha", floatParam(layer, 0, 0.2)), floatAttribute("beta", floatParam(layer, 1, 0.5))]);
  },
  ELU(layer, base) {
    this.simple(layer, base, "Elu", [floatAttribute("alpha", floatParam(layer, 0, 0.1))]);
  },
  AbsVal(layer, base) {
    this.simple(layer, base, "Abs");
  },
  Dropout: Converter.prototype.dropout,
  Noop(layer, base) {
    this.simple(layer, base, "Identity");
  },
  BatchNorm: Converter.prototype.batchNorm,
  Scale: Converter.prototype.scale,
  Pooling: Converter.prototype.pooling,
  Padding: Converter.prototype.padding,
  Crop: Converter.prototype.crop,
};

/** Renames a value everywhere in the graph (a node output, and every input that reads it). */
function renameValue(graph: GraphBuilder, from: string, to: string): void {
  for (const node of graph.nodes) {
    node.input = node.input?.map((name) => (name === from ? to : name));
    node.output = node.output?.map((name) => (name === from ? to : name));
  }
}

/**
 * Converts an ncnn model to ONNX: input "input" [N,3,H,W] and output "output" [N,3,H*scale,W*scale], float32 in
 * the model's own range (0..1 for the ncnn super-resolution programs). `pre` bakes in what the model's program
 * does around the network (padding, the crop back, a residual); without it the graph is the bare network.
 */
export function convertNcnnToOnnx(param: string, bin: Uint8Array, options: { name: string; pre?: NcnnPrePost }): NcnnConversion {
  return convertNcnn(param, bin, { ...options, fp16: "keep" });
}

/**
 * convertNcnnToOnnx with the choice of how half-float weights are written: "keep" (fp16 initializers + Cast,
 * half the file) or "widen" (fp32 initializers; the tests compare the two).
 */
export function convertNcnn(param: string, bin: Uint8Array, options: { name: string; pre?: NcnnPrePost; fp16: "keep" | "widen" }): NcnnConversion {
  const layers = parseNcnnParam(param);
  const inputs = layers.filter((layer) => layer.type === "Input");
  if (inputs.length !== 1) {
    const layer = inputs[1] ?? layers[0];
    throw layerError(layer, inputs.length === 0 ? "the model has no Input layer (the first layer is this one)" : "a second Input layer: only models with one input are supported");
  }
  const inputLayer = inputs[0];
  if (inputLayer.tops.length !== 1 || inputLayer.bottoms.length !== 0) throw layerError(inputLayer, "an Input layer has no bottoms and one top");
  const inputChannels = intParam(inputLayer, 2, 3);
  if (inputChannels !== 3) throw layerError(inputLayer, `the input has ${inputChannels} channels; image models take 3 (RGB)`);

  const pre = options.pre ?? {};
  const pad = pre.padding?.pixels ?? 0;
  const multiple = pre.sizeMultiple ?? 1;
  if (!Number.isInteger(pad) || pad < 0 || !Number.isInteger(multiple) || multiple < 1) {
    throw new NcnnImportError(`${options.name}: padding pixels and size multiple must be whole numbers (got ${pad}, ${multiple})`);
  }

  const converter = new Converter(bin, options.fp16);
  const g = converter.graph;

  // Pre-processing: pad every side, and the right and bottom to the size multiple, in the program's mode.
  let networkInput = ONNX_INPUT_NAME;
  if (pad > 0 || multiple > 1) {
    const reflect = pre.padding?.mode !== "replicate";
    let source = ONNX_INPUT_NAME;
    if (reflect) {
      // A reflection must be shorter than the image (ORT refuses it otherwise; the programs read past the
      // edge). An image smaller than pad + multiple is first grown at the right and bottom by repeating its
      // last column and row; every larger one passes unchanged, as in the programs.
      g.node("Shape", "pre/small_shape", [ONNX_INPUT_NAME], "pre/small_shape");
      g.node("Slice", "pre/small_hw", ["pre/small_shape", g.int64Constant([1], [2]), g.int64Constant([1], [4])], "pre/small_hw");
      g.node("Sub", "pre/short", [g.int64Constant([1], [pad + multiple]), "pre/small_hw"], "pre/short");
      g.node("Max", "pre/grow", ["pre/short", g.int64Constant([1], [0])], "pre/grow");
      g.node("Concat", "pre/grow_pads", [g.int64Constant([6], [0, 0, 0, 0, 0, 0]), "pre/grow"], "pre/grow_pads", [intAttribute("axis", 0)]);
      g.node("Pad", "pre/grow_small", [ONNX_INPUT_NAME, "pre/grow_pads"], "pre/grown", [stringAttribute("mode", "edge")]);
      source = "pre/grown";
    }
    networkInput = "pre/padded";
    let ends = g.int64Constant([2], [pad, pad]);
    if (multiple > 1) {
      g.node("Shape", "pre/shape", [source], "pre/shape");
      g.node("Slice", "pre/hw", ["pre/shape", g.int64Constant([1], [2]), g.int64Constant([1], [4])], "pre/hw");
      const m = g.int64Constant([1], [multiple]);
      // extra = (m - size % m) % m
      g.node("Mod", "pre/rest", ["pre/hw", m], "pre/rest");
      g.node("Sub", "pre/missing", [m, "pre/rest"], "pre/missing");
      g.node("Mod", "pre/extra", ["pre/missing", m], "pre/extra");
      g.node("Add", "pre/ends", ["pre/extra", ends], "pre/ends");
      ends = "pre/ends";
    }
    g.node("Concat", "pre/pads", [g.int64Constant([4], [0, 0, pad, pad]), g.int64Constant([2], [0, 0]), ends], "pre/pads", [intAttribute("axis", 0)]);
    g.node("Pad", "pre/pad", [source, "pre/pads"], networkInput, [stringAttribute("mode", reflect ? "reflect" : "edge")]);
  }
  const probe = PROBE_SIZES.map((size) => size + 2 * pad); // multiples of every size multiple up to 32 need no extra
  converter.set(inputLayer.tops[0], { name: networkInput, vector: false, channels: 3, h: probe, w: probe });

  const consumed = new Set<string>();
  for (const layer of layers) {
    for (const bottom of layer.bottoms) consumed.add(bottom);
    if (layer !== inputLayer) converter.convert(layer);
  }
  converter.finishBin();

  const outputs = layers.flatMap((layer) => layer.tops.filter((top) => !consumed.has(top)).map((top) => ({ top, layer })));
  if (outputs.length !== 1) {
    const last = layers.at(-1)!;
    const names = outputs.map(({ top, layer }) => `"${top}" of ${where(layer)}`).join(", ");
    throw layerError(last, outputs.length === 0 ? "no blob is left as the model's output" : `the model has ${outputs.length} outputs (${names}); one is supported`);
  }
  const { top: outputBlob, layer: outputLayer } = outputs[0];
  const result = converter.value(outputBlob);
  if (result.vector || result.channels !== 3) throw layerError(outputLayer, `its output "${outputBlob}" must be a 3-channel image, not ${result.vector ? "a 1-D blob" : `${result.channels} channels`}`);

  // The scale, and where the input's area is in the output: output = scale x (input + 2 x pad) - 2 x border.
  const [outA, outB] = [result.h, result.w].map((sizes) => sizes);
  const scales = [0, 1].map((axis) => ((axis === 0 ? outA : outB)[1] - (axis === 0 ? outA : outB)[0]) / (PROBE_SIZES[1] - PROBE_SIZES[0]));
  const scale = scales[0] === scales[1] && Number.isInteger(scales[0]) && scales[0] > 0 ? scales[0] : undefined;

  let finalName = result.name;
  if (pad > 0 || multiple > 1 || pre.residual) {
    if (scale === undefined) throw layerError(outputLayer, `the output is not a whole multiple of the input (${outA} x ${outB} for probes ${PROBE_SIZES})`);
    const extras = [outA, outB].map((sizes) => sizes[0] - scale * PROBE_SIZES[0]);
    if (extras[0] !== extras[1] || extras[0] < 0 || extras[0] % 2 !== 0) {
      throw layerError(outputLayer, `the output (${outA[0]}x${outB[0]} for a ${PROBE_SIZES[0]} px input padded by ${pad}) does not hold the input's area at x${scale}`);
    }
    const offset = extras[0] / 2;
    // Crop the padding back: [offset, offset + size x scale) on H and W.
    g.node("Shape", "post/shape", [ONNX_INPUT_NAME], "post/shape");
    g.node("Slice", "post/hw", ["post/shape", g.int64Constant([1], [2]), g.int64Constant([1], [4])], "post/hw");
    g.node("Mul", "post/hw_scaled", ["post/hw", g.int64Constant([1], [scale])], "post/hw_scaled");
    g.node("Add", "post/ends", ["post/hw_scaled", g.int64Constant([1], [offset])], "post/ends");
    g.node("Slice", "post/crop", [result.name, g.int64Constant([2], [offset, offset]), "post/ends", g.int64Constant([2], [2, 3])], "post/cropped");
    finalName = "post/cropped";
    if (pre.residual) {
      g.node("Resize", "post/upscale_input", [ONNX_INPUT_NAME, "", g.constant([4], [1, 1, scale, scale])], "post/upscaled_input", [
        stringAttribute("mode", "nearest"),
        stringAttribute("coordinate_transformation_mode", "asymmetric"),
        stringAttribute("nearest_mode", "floor"),
      ]);
      g.node("Add", "post/residual", [finalName, "post/upscaled_input"], "post/residual");
      finalName = "post/residual";
    }
  }
  if (finalName === ONNX_INPUT_NAME) {
    g.node("Identity", "output", [ONNX_INPUT_NAME], ONNX_OUTPUT_NAME);
  } else {
    renameValue(g, finalName, ONNX_OUTPUT_NAME);
  }
  // Identity nodes from activation type 0 etc. are removed by ORT at load; the graph stays as ncnn wrote it.
  const bytes = encodeImageModel({
    graph: g,
    opset: OPSET,
    irVersion: IR_VERSION,
    producerVersion: NCNN_CONVERTER_VERSION,
    docString: `${options.name}: converted from ncnn by ${NCNN_CONVERTER_VERSION}`,
    outputDims: scale === undefined ? ["outH", "outW"] : [`H*${scale}`, `W*${scale}`],
  });
  return { bytes, parameterCount: g.parameterCount, ...(scale === undefined ? {} : { scale }) };
}
