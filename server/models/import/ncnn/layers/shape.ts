// Layers that move or reshape blobs: Split, Concat, PixelShuffle, Padding and Crop.
import { intAttribute, stringAttribute } from "../../../onnx-builder";
import { blobName, type NcnnGraphWriter, type Value } from "../graph-writer";
import { arrayParam, floatParam, intParam, layerError, type NcnnLayer } from "../param";

const INT64_MAX = Number.MAX_SAFE_INTEGER; // "to the end" for Slice (any bound past the end is clamped)

export function split(writer: NcnnGraphWriter, layer: NcnnLayer): void {
  const [input] = writer.only(layer);
  for (const top of layer.tops) writer.set(top, input);
}

export function concat(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
  const inputs = layer.bottoms.map((bottom) => writer.value(bottom));
  if (inputs.length < 1) throw layerError(layer, "needs bottom blobs");
  const top = writer.oneTop(layer);
  const vector = inputs[0].vector;
  if (inputs.some((input) => input.vector !== vector)) throw layerError(layer, "concatenates 1-D and CHW blobs");
  const dims = vector ? 1 : 3;
  let axis = intParam(layer, 0, 0);
  if (axis < 0) axis += dims;
  if (axis < 0 || axis >= dims) throw layerError(layer, `axis ${intParam(layer, 0, 0)} is out of range for ${dims}-D blobs`);
  const output = blobName(top);
  writer.graph.node("Concat", base, inputs.map((input) => input.name), output, [intAttribute("axis", axis + 1)]);
  const first = inputs[0];
  const sum = (pick: (value: Value) => number[]) => pick(first).map((_, i) => inputs.reduce((total, input) => total + pick(input)[i], 0));
  writer.set(top, {
    name: output,
    vector,
    channels: axis === 0 ? inputs.reduce((total, input) => total + input.channels, 0) : first.channels,
    h: axis === 1 ? sum((value) => value.h) : first.h,
    w: axis === 2 ? sum((value) => value.w) : first.w,
  });
}

export function pixelShuffle(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
  const factor = intParam(layer, 0, 1);
  const mode = intParam(layer, 1, 0);
  if (mode !== 0 && mode !== 1) throw layerError(layer, `unsupported mode ${mode} (param 1: 0 PyTorch/CRD, 1 TensorFlow/DCR)`);
  if (!(factor > 0)) throw layerError(layer, "upscale_factor must be positive");
  const [input] = writer.only(layer);
  writer.chw(layer, input);
  if (input.channels % (factor * factor) !== 0) throw layerError(layer, `${input.channels} channels do not split into ${factor}x${factor} blocks`);
  const top = writer.oneTop(layer);
  const output = blobName(top);
  writer.graph.node("DepthToSpace", base, [input.name], output, [intAttribute("blocksize", factor), stringAttribute("mode", mode === 0 ? "CRD" : "DCR")]);
  writer.set(top, {
    name: output,
    vector: false,
    channels: input.channels / (factor * factor),
    h: input.h.map((h) => h * factor),
    w: input.w.map((w) => w * factor),
  });
}

export function padding(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
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
  const [input] = writer.only(layer);
  writer.chw(layer, input);
  const top = writer.oneTop(layer);
  const output = blobName(top);
  const inputs = [input.name, writer.graph.int64Constant([8], [0, front, top_, left, 0, behind, bottom, right])];
  if (type === 0) inputs.push(writer.scalar(value));
  writer.graph.node("Pad", base, inputs, output, [stringAttribute("mode", ["constant", "edge", "reflect"][type])]);
  writer.set(top, {
    name: output,
    vector: false,
    channels: input.channels + front + behind,
    h: input.h.map((h) => h + top_ + bottom),
    w: input.w.map((w) => w + left + right),
  });
}

export function crop(writer: NcnnGraphWriter, layer: NcnnLayer, base: string): void {
  const starts = arrayParam(layer, 9);
  const ends = arrayParam(layer, 10);
  const axes = arrayParam(layer, 11);
  if (layer.params.has(19) || layer.params.has(20) || layer.params.has(21)) throw layerError(layer, "crop expressions (params 19-21) are not supported");
  const top = writer.oneTop(layer);
  const output = blobName(top);
  const g = writer.graph;
  if (starts && ends) {
    // numpy-style: starts/ends/axes over ncnn's axes (c, h, w); an end of 0 or -233 is "to the end".
    const [input] = writer.only(layer);
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
    writer.set(top, { name: output, vector: input.vector, ...shape });
    return;
  }
  const woffset = intParam(layer, 0, 0);
  const hoffset = intParam(layer, 1, 0);
  const coffset = intParam(layer, 2, 0);
  if (intParam(layer, 13, 0) !== 0 || intParam(layer, 14, 0) !== 0 || intParam(layer, 15, 0) !== 0) throw layerError(layer, "depth cropping is not supported");
  if (woffset < 0 || hoffset < 0 || coffset < 0) throw layerError(layer, "negative offsets");
  if (layer.bottoms.length === 2) {
    // Two inputs: crop the first to the size of the second (its channels too), from the offsets.
    const [input, reference] = writer.only(layer, 2);
    writer.chw(layer, input);
    writer.chw(layer, reference, "its reference blob");
    const refShape = `${base}/ref_shape`;
    g.node("Shape", refShape, [reference.name], refShape);
    g.node("Slice", `${base}/ref_chw`, [refShape, g.int64Constant([1], [1]), g.int64Constant([1], [4])], `${base}/ref_chw`);
    const offsets = g.int64Constant([3], [coffset, hoffset, woffset]);
    g.node("Add", `${base}/ends`, [`${base}/ref_chw`, offsets], `${base}/ends`);
    g.node("Slice", base, [input.name, offsets, `${base}/ends`, g.int64Constant([3], [1, 2, 3])], output);
    writer.set(top, { name: output, vector: false, channels: reference.channels, h: reference.h, w: reference.w });
    return;
  }
  // One input: offsets, an output size (-233: as large as fits) and offsets from the far end.
  const [input] = writer.only(layer);
  writer.chw(layer, input);
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
  writer.set(top, {
    name: output,
    vector: false,
    channels: resolve(input.channels, 0),
    h: input.h.map((h) => resolve(h, 1)),
    w: input.w.map((w) => resolve(w, 2)),
  });
}
