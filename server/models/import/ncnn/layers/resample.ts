// Resampling: Interp (nearest, bilinear, bicubic resize by a scale, to a size or to another blob's size) and
// Pooling (max and average, ncnn's pad modes, global).
import { type AttributeProto, floatAttribute, intAttribute, intsAttribute, stringAttribute } from "../../../onnx-builder";
import { blobName, type NcnnGraphWriter } from "../graph-writer";
import { floatParam, intParam, layerError, type NcnnLayer, padParams, widthHeightParam } from "../param";

export function interp(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
  const type = intParam(layer, 0, 0);
  const heightScale = Math.fround(floatParam(layer, 1, 1));
  const widthScale = Math.fround(floatParam(layer, 2, 1));
  const outH = intParam(layer, 3, 0);
  const outW = intParam(layer, 4, 0);
  const dynamic = intParam(layer, 5, 0) !== 0;
  const alignCorner = intParam(layer, 6, 0) !== 0;
  if (layer.params.has(9)) throw layerError(layer, "size expressions (param 9) are not supported");
  if (type < 1 || type > 3) throw layerError(layer, `unsupported resize type ${type} (param 0: 1 nearest, 2 bilinear, 3 bicubic)`);
  const inputs = writer.only(layer, dynamic ? 2 : 1);
  const input = inputs[0];
  writer.chw(layer, input);
  const top = writer.oneTop(layer);
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
    writer.graph.node("Concat", `${base}/sizes`, [writer.batchAndChannels(base, input.name), writer.spatialShape(`${base}/ref`, reference.name)], sizes, [intAttribute("axis", 0)]);
    writer.graph.node("Resize", base, [input.name, empty, empty, sizes], output, attributes);
    h = reference.h;
    w = reference.w;
  } else if (outH > 0 && outW > 0) {
    const sizes = `${base}/sizes`;
    writer.graph.node("Concat", `${base}/sizes`, [writer.batchAndChannels(base, input.name), writer.graph.int64Constant([2], [outH, outW])], sizes, [intAttribute("axis", 0)]);
    writer.graph.node("Resize", base, [input.name, empty, empty, sizes], output, attributes);
    h = input.h.map(() => outH);
    w = input.w.map(() => outW);
  } else {
    h = input.h.map((length) => Math.trunc(Math.fround(length * heightScale)));
    w = input.w.map((length) => Math.trunc(Math.fround(length * widthScale)));
    if (type === 1) {
      // ncnn's nearest uses the scale itself for coordinates: ONNX scales do the same.
      writer.graph.node("Resize", base, [input.name, empty, writer.graph.constant([4], [1, 1, heightScale, widthScale])], output, attributes);
    } else {
      // ncnn's bilinear/bicubic coordinates use in/out sizes, out = (int)(in * scale): ONNX sizes, computed so.
      const hw = writer.spatialShape(base, input.name);
      const g = writer.graph;
      g.node("Cast", `${base}/hw_float`, [hw], `${base}/hw_float`, [intAttribute("to", 1)]);
      g.node("Mul", `${base}/hw_scaled`, [`${base}/hw_float`, g.constant([2], [heightScale, widthScale])], `${base}/hw_scaled`);
      g.node("Floor", `${base}/hw_floor`, [`${base}/hw_scaled`], `${base}/hw_floor`);
      g.node("Cast", `${base}/out_hw`, [`${base}/hw_floor`], `${base}/out_hw`, [intAttribute("to", 7)]);
      g.node("Concat", `${base}/sizes`, [writer.batchAndChannels(base, input.name), `${base}/out_hw`], `${base}/sizes`, [intAttribute("axis", 0)]);
      g.node("Resize", base, [input.name, empty, empty, `${base}/sizes`], output, attributes);
    }
  }
  writer.set(top, { name: output, vector: false, channels: input.channels, h, w });
}

export function pooling(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
  const type = intParam(layer, 0, 0);
  const [kw, kh] = widthHeightParam(layer, 1, 0);
  const [sw, sh] = widthHeightParam(layer, 2, 1);
  const { left: padLeft, right: padRight, top: padTop, bottom: padBottom } = padParams(layer, 3);
  const global = intParam(layer, 4, 0) !== 0;
  const padMode = intParam(layer, 5, 0);
  const includePad = intParam(layer, 6, 0) !== 0;
  if (intParam(layer, 7, 0) !== 0) throw layerError(layer, "adaptive pooling (param 7) is not supported");
  if (type !== 0 && type !== 1) throw layerError(layer, `unsupported pooling type ${type} (param 0: 0 max, 1 average)`);
  const [input] = writer.only(layer);
  writer.chw(layer, input);
  const top = writer.oneTop(layer);
  const output = blobName(top);
  const opType = type === 0 ? "MaxPool" : "AveragePool";
  if (global) {
    writer.graph.node(type === 0 ? "GlobalMaxPool" : "GlobalAveragePool", base, [input.name], output);
    writer.set(top, { name: output, vector: true, channels: input.channels, h: input.h.map(() => 1), w: input.w.map(() => 1) });
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
    const hw = writer.spatialShape(base, input.name);
    const g = writer.graph;
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
  writer.graph.node(opType, base, [source], output, attributes);
  const size = (length: number, k: number, s: number, p0: number, p1: number) =>
    padMode >= 2 ? Math.ceil(length / s) : Math.floor((length + p0 + p1 + tail(length, k, s, p0, p1) - k) / s) + 1;
  writer.set(top, {
    name: output,
    vector: false,
    channels: input.channels,
    h: input.h.map((length) => size(length, kh, sh, padTop, padBottom)),
    w: input.w.map((length) => size(length, kw, sw, padLeft, padRight)),
  });
}
