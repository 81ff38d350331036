// Converts an ncnn model (the text `.param` graph + the `.bin` weights) into an NCHW ONNX model (opset 13) with
// symbolic batch, height and width. Covers the layers of the ncnn super-resolution zoo (Real-ESRGAN, Real-CUGAN,
// waifu2x and the like); anything else is an NcnnImportError naming the layer (type, name, line of the .param).
//
// The parts (facts of the format from ncnn src/net.cpp, modelbin.cpp, layer/*.cpp): param.ts reads the .param,
// bin.ts the .bin, layers.ts and layers/ write each layer's nodes, graph-writer.ts holds the graph and encodes
// the model, pre-post.ts writes the padding and crop a model's program does around the network.
import { NcnnGraphWriter, PROBE_SIZES } from "./graph-writer";
import { convertLayer } from "./layers";
import { intParam, layerError, NcnnImportError, parseNcnnParam, where } from "./param";
import { cropOutput, type NcnnPrePost, padInput } from "./pre-post";

export { NCNN_CONVERTER_VERSION } from "./graph-writer";
export { NcnnImportError, type NcnnLayer, parseNcnnParam } from "./param";
export type { NcnnPrePost } from "./pre-post";

export interface NcnnConversion {
  bytes: Uint8Array; // the serialized ONNX ModelProto
  parameterCount: number; // elements in all weight initializers
  /** The upscaling factor, when the graph's output is an integer multiple of its input. */
  scale?: number;
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

  const writer = new NcnnGraphWriter(bin, options.fp16);
  const networkInput = padInput(writer, pre, pad, multiple);
  const probe = PROBE_SIZES.map((size) => size + 2 * pad); // multiples of every size multiple up to 32 need no extra
  writer.set(inputLayer.tops[0], { name: networkInput, vector: false, channels: 3, h: probe, w: probe });

  const consumed = new Set<string>();
  for (const layer of layers) {
    for (const bottom of layer.bottoms) consumed.add(bottom);
    if (layer !== inputLayer) convertLayer(writer, layer);
  }
  writer.reader.finish();

  const outputs = layers.flatMap((layer) => layer.tops.filter((top) => !consumed.has(top)).map((top) => ({ top, layer })));
  if (outputs.length !== 1) {
    const last = layers.at(-1)!;
    const names = outputs.map(({ top, layer }) => `"${top}" of ${where(layer)}`).join(", ");
    throw layerError(last, outputs.length === 0 ? "no blob is left as the model's output" : `the model has ${outputs.length} outputs (${names}); one is supported`);
  }
  const { top: outputBlob, layer: outputLayer } = outputs[0];
  const result = writer.value(outputBlob);
  if (result.vector || result.channels !== 3) throw layerError(outputLayer, `its output "${outputBlob}" must be a 3-channel image, not ${result.vector ? "a 1-D blob" : `${result.channels} channels`}`);

  // The scale: how much the output grows between the two probe sizes.
  const scales = [result.h, result.w].map((sizes) => (sizes[1] - sizes[0]) / (PROBE_SIZES[1] - PROBE_SIZES[0]));
  const scale = scales[0] === scales[1] && Number.isInteger(scales[0]) && scales[0] > 0 ? scales[0] : undefined;
  const finalName = pad > 0 || multiple > 1 || pre.residual ? cropOutput(writer, pre, pad, outputLayer, result, scale) : result.name;
  const bytes = writer.encode(finalName, options.name, scale);
  return { bytes, parameterCount: writer.graph.parameterCount, ...(scale === undefined ? {} : { scale }) };
}
