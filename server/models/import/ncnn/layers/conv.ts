// The weighted layers: Convolution, Deconvolution, their depthwise forms (one decoder for the parameters they
// share), and InnerProduct. Each may carry a fused activation (params 9 and 10).
import { type AttributeProto, intAttribute, intsAttribute, stringAttribute } from "../../../onnx-builder";
import type { StoredWeights } from "../bin";
import { blobName, type NcnnGraphWriter, type Value } from "../graph-writer";
import { floatParam, intParam, layerError, type NcnnLayer, padParams, widthHeightParam } from "../param";
import { withActivation } from "./activation";

/** One spatial axis of a convolution: its kernel size, dilation, stride and padding. */
interface ConvAxis {
  kernel: number;
  dilation: number;
  stride: number;
  padBefore: number; // top or left
  padAfter: number; // bottom or right
  /** Deconvolution's extra output size at the end of the axis (0 for Convolution). */
  outputPadding: number;
}

/** The parameters of a Convolution or Deconvolution (depthwise or not), checked against its input. */
export interface ConvParams {
  outChannels: number;
  h: ConvAxis;
  w: ConvAxis;
  /** Param 4 of -233 / -234: ncnn's SAME padding (the explicit pads are then not used). */
  autoPad?: "SAME_UPPER" | "SAME_LOWER";
  /** Convolution's value for its explicit padding (param 18; Deconvolution pads with zeros). */
  padValue: number;
  biasTerm: number;
  weightCount: number;
  group: number;
  /** Input channels each output channel reads (weight_data_size / (num_output x kh x kw)). */
  inPerGroup: number;
}

export interface ConvForm {
  transposed: boolean; // Deconvolution
  depthwise: boolean; // the DepthWise forms, the only ones with a group (param 7)
}

/**
 * Reads the parameters Convolution, Deconvolution and their depthwise forms number alike: 0 num_output, 1/11
 * kernel w/h, 2/12 dilation w/h, 3/13 stride w/h, 4/15/14/16 pad left/right/top/bottom, 5 bias_term,
 * 6 weight_data_size, 7 group; and param 18 (Convolution: pad value; Deconvolution: output padding right, 19
 * bottom). Refuses what this importer does not convert, and weights that do not fit the input.
 */
export function decodeConvParams(layer: NcnnLayer, input: Value, { transposed, depthwise }: ConvForm): ConvParams {
  const outChannels = intParam(layer, 0, 0);
  const [kw, kh] = widthHeightParam(layer, 1, 0);
  const [dw, dh] = widthHeightParam(layer, 2, 1);
  const [sw, sh] = widthHeightParam(layer, 3, 1);
  const pad = padParams(layer, 4);
  const padValue = transposed ? 0 : floatParam(layer, 18, 0);
  const outPadRight = transposed ? intParam(layer, 18, 0) : 0;
  const outPadBottom = transposed ? intParam(layer, 19, outPadRight) : 0;
  const biasTerm = intParam(layer, 5, 0);
  const weightCount = intParam(layer, 6, 0);
  const group = depthwise ? intParam(layer, 7, 1) : 1;
  if (transposed) {
    if (intParam(layer, 20, 0) !== 0 || intParam(layer, 21, 0) !== 0) throw layerError(layer, "an explicit output size (params 20/21) is not supported");
    if (intParam(layer, 28, 0) !== 0) throw layerError(layer, "dynamic weights (param 28) are not supported");
  } else {
    if (intParam(layer, 8, 0) !== 0) throw layerError(layer, "int8 quantized convolution (param 8) is not supported");
    if (intParam(layer, 19, 0) !== 0) throw layerError(layer, "dynamic weights (param 19) are not supported");
  }
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
        // (Deconvolution's message has never named the groups.)
        (group > 1 && !transposed ? ` in ${group} groups` : ""),
    );
  }
  return {
    outChannels,
    h: { kernel: kh, dilation: dh, stride: sh, padBefore: pad.top, padAfter: pad.bottom, outputPadding: outPadBottom },
    w: { kernel: kw, dilation: dw, stride: sw, padBefore: pad.left, padAfter: pad.right, outputPadding: outPadRight },
    autoPad: pad.left === -233 ? "SAME_UPPER" : pad.left === -234 ? "SAME_LOWER" : undefined,
    padValue,
    biasTerm,
    weightCount,
    group,
    inPerGroup,
  };
}

/** Reorders a [a, b, rest] array to [b, a, rest] (typed arrays of any kind). */
function swapLeadingAxes<T extends Float32Array | Uint16Array>(source: T, a: number, b: number, rest: number): T {
  const out = new (source.constructor as new (length: number) => T)(source.length);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) out.set(source.subarray((i * b + j) * rest, (i * b + j + 1) * rest), (j * a + i) * rest);
  }
  return out;
}

/** ncnn's deconvolution weights [group][out/g][in/g][kh][kw] as ONNX ConvTranspose's [in][out/g][kh][kw] = [group][in/g][out/g][kh][kw]. */
function transposedWeights(stored: StoredWeights, p: ConvParams): StoredWeights {
  const outPerGroup = p.outChannels / p.group;
  const kernel = p.h.kernel * p.w.kernel;
  const reorder = <T extends Float32Array | Uint16Array>(values: T): T => {
    const perGroup = outPerGroup * p.inPerGroup * kernel;
    const out = new (values.constructor as new (length: number) => T)(values.length);
    for (let g = 0; g < p.group; g++) {
      out.set(swapLeadingAxes(values.subarray(g * perGroup, (g + 1) * perGroup) as T, outPerGroup, p.inPerGroup, kernel), g * perGroup);
    }
    return out;
  };
  return stored.kind === "f16" ? { kind: "f16", bits: reorder(stored.bits) } : { kind: "f32", values: reorder(stored.values) };
}

/** Convolution, Deconvolution and their depthwise forms: Conv or ConvTranspose, then the fused activation. */
export function convolution(writer: NcnnGraphWriter, layer: NcnnLayer, base: string, form: ConvForm): void {
  const [input] = writer.only(layer);
  writer.chw(layer, input);
  const top = writer.oneTop(layer);
  const p = decodeConvParams(layer, input, form);
  const { h: height, w: width } = p;
  const stored = writer.reader.weights(layer, "weights", p.weightCount);
  const weights = form.transposed ? transposedWeights(stored, p) : stored;
  const dims = [form.transposed ? input.channels : p.outChannels, form.transposed ? p.outChannels / p.group : p.inPerGroup, height.kernel, width.kernel];
  const inputs = writer.withWeights(layer, base, input.name, dims, weights, p.biasTerm ? p.outChannels : undefined);

  const attributes: AttributeProto[] = [intsAttribute("kernel_shape", [height.kernel, width.kernel])];
  if (width.stride !== 1 || height.stride !== 1) attributes.push(intsAttribute("strides", [height.stride, width.stride]));
  if (width.dilation !== 1 || height.dilation !== 1) attributes.push(intsAttribute("dilations", [height.dilation, width.dilation]));
  if (p.group !== 1) attributes.push(intAttribute("group", p.group));
  const pads = [height.padBefore, width.padBefore, height.padAfter, width.padAfter]; // ONNX order: top, left, bottom, right
  const padded = pads.reduce((sum, pad) => sum + pad, 0) > 0;
  if (p.autoPad) {
    attributes.push(stringAttribute("auto_pad", p.autoPad));
  } else if (pads.some((pad) => pad < 0)) {
    throw layerError(layer, `unsupported padding ${[width.padBefore, width.padAfter, height.padBefore, height.padAfter]}`);
  } else if (p.padValue !== 0 && padded) {
    // A non-zero pad value: an explicit Pad before the convolution.
    inputs[0] = `${base}/padded`;
    writer.graph.node("Pad", `${base}/pad`, [input.name, writer.graph.int64Constant([8], [0, 0, height.padBefore, width.padBefore, 0, 0, height.padAfter, width.padAfter]), writer.scalar(p.padValue)], inputs[0], [
      stringAttribute("mode", "constant"),
    ]);
  } else if (padded) {
    attributes.push(intsAttribute("pads", pads));
  }
  if (width.outputPadding || height.outputPadding) {
    if (width.outputPadding >= width.stride || height.outputPadding >= height.stride || width.outputPadding < 0 || height.outputPadding < 0) {
      throw layerError(layer, `output padding ${height.outputPadding}x${width.outputPadding} must be below the stride ${height.stride}x${width.stride}`);
    }
    attributes.push(intsAttribute("output_padding", [height.outputPadding, width.outputPadding]));
  }
  const output = blobName(top);
  withActivation(writer, layer, base, output, (target) => writer.graph.node(form.transposed ? "ConvTranspose" : "Conv", base, inputs, target, attributes));
  const size = (length: number, { kernel: k, stride: s, dilation: d, padBefore: p0, padAfter: p1, outputPadding: extra }: ConvAxis) => {
    if (form.transposed) return p.autoPad ? length * s : (length - 1) * s + d * (k - 1) + 1 + extra - p0 - p1;
    return p.autoPad ? Math.ceil(length / s) : Math.floor((length + p0 + p1 - (d * (k - 1) + 1)) / s) + 1;
  };
  writer.set(top, {
    name: output,
    vector: false,
    channels: p.outChannels,
    h: input.h.map((length) => size(length, height)),
    w: input.w.map((length) => size(length, width)),
  });
}

/** InnerProduct (0 num_output, 1 bias_term, 2 weight_data_size), as a 1x1 Conv on [N, C, 1, 1]. */
export function innerProduct(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
  const [input] = writer.only(layer);
  const top = writer.oneTop(layer);
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
  const weights = writer.reader.weights(layer, "weights", weightCount);
  // As a 1x1 convolution on [N, C, 1, 1]: keeps the rank of ncnn's vectors, and ORT runs it on its fast path.
  const inputs = writer.withWeights(layer, base, input.name, [outChannels, input.channels, 1, 1], weights, biasTerm ? outChannels : undefined);
  const output = blobName(top);
  withActivation(writer, layer, base, output, (target) => writer.graph.node("Conv", base, inputs, target, [intsAttribute("kernel_shape", [1, 1])]));
  writer.set(top, { name: output, vector: true, channels: outChannels, h: input.h.map(() => 1), w: input.w.map(() => 1) });
}
