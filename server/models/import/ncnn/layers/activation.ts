// Activations: the one fused into Convolution, Deconvolution and InnerProduct (params 9 and 10), and the
// activation layers (ReLU, PReLU, Sigmoid, Clip, Swish...), each a one-in, one-out node that keeps the shape.
import { type AttributeProto, floatAttribute } from "../../../onnx-builder";
import type { NcnnGraphWriter } from "../graph-writer";
import { arrayParam, floatParam, intParam, layerError, type NcnnLayer } from "../param";

/** Writes ncnn activation `type` (its ids: 0 none, 1 ReLU ... 6 HardSwish) with its `params` from `input` to `output`. */
export function applyActivation(writer: NcnnGraphWriter, layer: NcnnLayer, base: string, type: number, params: number[], input: string, output: string): void {
  const g = writer.graph;
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
      g.node("Clip", `${base}/clip`, [input, writer.scalar(params[0] ?? -3.4028234663852886e38), writer.scalar(params[1] ?? 3.4028234663852886e38)], output);
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

/**
 * The node that computes a layer's output (`emit` writes it to the target it is given), then the activation
 * fused into it: param 9 its type, param 10 its parameters (Convolution, Deconvolution, InnerProduct).
 */
export function withActivation(writer: NcnnGraphWriter, layer: NcnnLayer, base: string, output: string, emit: (target: string) => void): void {
  const type = intParam(layer, 9, 0);
  if (type === 0) {
    emit(output);
  } else {
    emit(`${base}/linear`);
    applyActivation(writer, layer, base, type, arrayParam(layer, 10) ?? [], `${base}/linear`, output);
  }
}

/** An activation layer written as the fused activation `type` with `params` would be. */
export function activationLayer(writer: NcnnGraphWriter, layer: NcnnLayer, base: string, type: number, params: number[]): void {
  writer.unary(layer, (input, output) => applyActivation(writer, layer, base, type, params, input.name, output));
}

/** A layer that is one ONNX node of `opType`. */
export function simple(writer: NcnnGraphWriter, layer: NcnnLayer, base: string, opType: string, attributes: AttributeProto[] = []): void {
  writer.unary(layer, (input, output) => writer.graph.node(opType, base, [input.name], output, attributes));
}

export function relu(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
  const slope = floatParam(layer, 0, 0);
  writer.unary(layer, (input, output) =>
    slope === 0 ? writer.graph.node("Relu", base, [input.name], output) : writer.graph.node("LeakyRelu", base, [input.name], output, [floatAttribute("alpha", slope)]),
  );
}

export function prelu(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
  const count = intParam(layer, 0, 0);
  writer.unary(layer, (input, output) => {
    if (count !== 1 && count !== input.channels) throw layerError(layer, `num_slope ${count} is neither 1 nor its ${input.channels} channels`);
    const slope = writer.graph.weight(`${base}/slope`, count === 1 ? [1] : [count, 1, 1], writer.reader.floats(layer, "slopes", count));
    writer.graph.node("PRelu", base, [input.name, slope], output);
  });
}

export function swish(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
  writer.unary(layer, (input, output) => {
    writer.graph.node("Sigmoid", `${base}/sigmoid`, [input.name], `${base}/sigmoid`);
    writer.graph.node("Mul", base, [input.name, `${base}/sigmoid`], output);
  });
}

export function dropout(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
  const scale = floatParam(layer, 0, 1);
  writer.unary(layer, (input, output) =>
    scale === 1 ? writer.graph.node("Identity", base, [input.name], output) : writer.graph.node("Mul", base, [input.name, writer.scalar(scale)], output),
  );
}
