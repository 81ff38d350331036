// Which ncnn layer types convert, and how: each type's handler (layers/*.ts) writes its ONNX nodes.
import { floatAttribute } from "../../onnx-builder";
import type { NcnnGraphWriter } from "./graph-writer";
import { activationLayer, dropout, prelu, relu, simple, swish } from "./layers/activation";
import { batchNorm, binaryOp, eltwise, scale } from "./layers/arithmetic";
import { convolution, innerProduct } from "./layers/conv";
import { interp, pooling } from "./layers/resample";
import { concat, crop, padding, pixelShuffle, split } from "./layers/shape";
import { floatParam, layerError, type NcnnLayer } from "./param";

type Handler = (writer: NcnnGraphWriter, layer: NcnnLayer, base: string) => void;

const HANDLERS: Record<string, Handler> = {
  Input(_writer, layer) {
    throw layerError(layer, "a second Input layer: only models with one input are supported");
  },
  Convolution(writer, layer, base) {
    convolution(writer, layer, base, { transposed: false, depthwise: false });
  },
  ConvolutionDepthWise(writer, layer, base) {
    convolution(writer, layer, base, { transposed: false, depthwise: true });
  },
  Deconvolution(writer, layer, base) {
    convolution(writer, layer, base, { transposed: true, depthwise: false });
  },
  DeconvolutionDepthWise(writer, layer, base) {
    convolution(writer, layer, base, { transposed: true, depthwise: true });
  },
  InnerProduct: innerProduct,
  Split: split,
  Concat: concat,
  Eltwise: eltwise,
  BinaryOp: binaryOp,
  Interp: interp,
  PixelShuffle: pixelShuffle,
  ReLU: relu,
  PReLU: prelu,
  Sigmoid(writer, layer, base) {
    simple(writer, layer, base, "Sigmoid");
  },
  TanH(writer, layer, base) {
    simple(writer, layer, base, "Tanh");
  },
  Clip(writer, layer, base) {
    activationLayer(writer, layer, base, 3, [floatParam(layer, 0, -3.4028234663852886e38), floatParam(layer, 1, 3.4028234663852886e38)]);
  },
  Swish: swish,
  Mish(writer, layer, base) {
    activationLayer(writer, layer, base, 5, []);
  },
  HardSwish(writer, layer, base) {
    activationLayer(writer, layer, base, 6, [floatParam(layer, 0, 0.2), floatParam(layer, 1, 0.5)]);
  },
  HardSigmoid(writer, layer, base) {
    simple(writer, layer, base, "HardSigmoid", [floatAttribute("alpha", floatParam(layer, 0, 0.2)), floatAttribute("beta", floatParam(layer, 1, 0.5))]);
  },
  ELU(writer, layer, base) {
    simple(writer, layer, base, "Elu", [floatAttribute("alpha", floatParam(layer, 0, 0.1))]);
  },
  AbsVal(writer, layer, base) {
    simple(writer, layer, base, "Abs");
  },
  Dropout: dropout,
  Noop(writer, layer, base) {
    simple(writer, layer, base, "Identity");
  },
  BatchNorm: batchNorm,
  Scale: scale,
  Pooling: pooling,
  Padding: padding,
  Crop: crop,
};

/** Writes one layer (not the model's Input) into the graph; an unknown type names the types there are. */
export function convertLayer(writer: NcnnGraphWriter, layer: NcnnLayer): void {
  const handler = HANDLERS[layer.type];
  if (!handler) {
    throw layerError(layer, `unknown layer type "${layer.type}" (supported: ${Object.keys(HANDLERS).join(", ")})`);
  }
  handler(writer, layer, writer.layerName(layer));
}
