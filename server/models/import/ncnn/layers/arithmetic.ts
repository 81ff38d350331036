// Arithmetic: BatchNorm and Scale (per-channel data from the .bin), BinaryOp and Eltwise (ncnn's broadcasting of
// a 1-D vector of C over a CHW blob of C channels, which [N, C, 1, 1] makes ONNX broadcasting).
import { intAttribute, intsAttribute } from "../../../onnx-builder";
import { blobName, type NcnnGraphWriter, type Value } from "../graph-writer";
import { arrayParam, floatParam, intParam, layerError, type NcnnLayer } from "../param";

export function batchNorm(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
  const channels = intParam(layer, 0, 0);
  const eps = floatParam(layer, 1, 0);
  writer.unary(layer, (input, output) => {
    if (channels !== input.channels) throw layerError(layer, `channels ${channels} do not match its input's ${input.channels}`);
    const slope = writer.reader.floats(layer, "slopes", channels);
    const mean = writer.reader.floats(layer, "means", channels);
    const variance = writer.reader.floats(layer, "variances", channels);
    const bias = writer.reader.floats(layer, "biases", channels);
    // ncnn folds it the same way: b = bias - slope * mean / sqrt(var + eps), a = slope / sqrt(var + eps).
    const a = new Float32Array(channels);
    const b = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const sqrtVar = Math.fround(Math.sqrt(Math.fround(variance[c] + eps)));
      a[c] = slope[c] / sqrtVar;
      b[c] = bias[c] - (slope[c] * mean[c]) / sqrtVar;
    }
    writer.graph.parameterCount += 4 * channels;
    writer.graph.node("Mul", `${base}/scale`, [input.name, writer.graph.constant([channels, 1, 1], Array.from(a))], `${base}/scaled`);
    writer.graph.node("Add", base, [`${base}/scaled`, writer.graph.constant([channels, 1, 1], Array.from(b))], output);
  });
}

export function scale(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
  const size = intParam(layer, 0, 0);
  const biasTerm = intParam(layer, 1, 0);
  if (size === -233) {
    // Two inputs: the data and a per-channel scale blob.
    const [input, factor] = writer.only(layer, 2);
    const top = writer.oneTop(layer);
    if (factor.channels !== input.channels) throw layerError(layer, `its scale blob has ${factor.channels} values for ${input.channels} channels`);
    const output = blobName(top);
    writer.graph.node("Mul", base, [input.name, factor.name], output);
    writer.set(top, { ...input, name: output });
    return;
  }
  writer.unary(layer, (input, output) => {
    if (size !== input.channels && size !== 1) throw layerError(layer, `scale_data_size ${size} is neither 1 nor its ${input.channels} channels`);
    const dims = size === 1 ? [1] : [size, 1, 1];
    const factor = writer.graph.weight(`${base}/scale`, dims, writer.reader.floats(layer, "scale data", size));
    if (!biasTerm) {
      writer.graph.node("Mul", base, [input.name, factor], output);
      return;
    }
    writer.graph.node("Mul", `${base}/mul`, [input.name, factor], `${base}/scaled`);
    const bias = writer.graph.weight(`${base}/bias`, dims, writer.reader.floats(layer, "bias", size));
    writer.graph.node("Add", base, [`${base}/scaled`, bias], output);
  });
}

/** Broadcast shape of several values (ncnn: a vector of C broadcasts over a CHW blob of C channels). */
function broadcast(layer: NcnnLayer, inputs: Value[]): Omit<Value, "name"> {
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

export function binaryOp(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
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
  const top = writer.oneTop(layer);
  const output = blobName(top);
  if (withScalar) {
    const [input] = writer.only(layer);
    const b = writer.scalar(floatParam(layer, 2, 0));
    writer.graph.node(opType, base, reversed ? [b, input.name] : [input.name, b], output);
    writer.set(top, { ...input, name: output });
    return;
  }
  const [a, b] = writer.only(layer, 2);
  writer.graph.node(opType, base, reversed ? [b.name, a.name] : [a.name, b.name], output);
  writer.set(top, { name: output, ...broadcast(layer, [a, b]) });
}

export function eltwise(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
  const op = intParam(layer, 0, 1);
  const inputs = layer.bottoms.map((bottom) => writer.value(bottom));
  if (inputs.length < 2) throw layerError(layer, "needs at least two bottom blobs");
  const top = writer.oneTop(layer);
  const output = blobName(top);
  const shape = broadcast(layer, inputs);
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
      const kernel = writer.graph.constant([input.channels, 1, 1, 1], new Array<number>(input.channels).fill(coefficient));
      writer.graph.node("Conv", scaled, [input.name, kernel], scaled, [intAttribute("group", input.channels), intsAttribute("kernel_shape", [1, 1])]);
    } else {
      writer.graph.node("Mul", scaled, [input.name, writer.scalar(coefficient)], scaled);
    }
    return scaled;
  });
  const opType = op === 0 ? "Mul" : op === 1 ? "Add" : op === 2 ? "Max" : undefined;
  if (!opType) throw layerError(layer, `unsupported operation ${op} (param 0; supported: 0 product, 1 sum, 2 max)`);
  // Pairwise, in order, as ncnn accumulates.
  let accumulated = terms[0];
  for (let i = 1; i < terms.length; i++) {
    const target = i === terms.length - 1 ? output : `${base}/partial${i}`;
    writer.graph.node(opType, i === terms.length - 1 ? base : `${base}/${i}`, [accumulated, terms[i]], target);
    accumulated = target;
  }
  writer.set(top, { name: output, ...shape });
}
