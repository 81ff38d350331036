// The pre- and post-processing written around the network's nodes: the input padded, the output cropped back.
import { intAttribute, ONNX_INPUT_NAME, stringAttribute } from "../../onnx-builder";
import { type NcnnGraphWriter, PROBE_SIZES, type Value } from "./graph-writer";
import { layerError, type NcnnLayer } from "./param";

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

/**
 * Pads the graph input by `pad` on every side, and the right and bottom to a multiple of `multiple`, in the
 * program's mode: the name of the value the network reads.
 */
export function padInput(writer: NcnnGraphWriter, pre: NcnnPrePost, pad: number, multiple: number): string {
  if (!(pad > 0 || multiple > 1)) return ONNX_INPUT_NAME;
  const g = writer.graph;
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
  const networkInput = "pre/padded";
  let ends = g.int64Constant([2], [pad, pad]);
  if (multiple > 1) {
    const hw = writer.spatialShape("pre", source);
    const m = g.int64Constant([1], [multiple]);
    // extra = (m - size % m) % m
    g.node("Mod", "pre/rest", [hw, m], "pre/rest");
    g.node("Sub", "pre/missing", [m, "pre/rest"], "pre/missing");
    g.node("Mod", "pre/extra", ["pre/missing", m], "pre/extra");
    g.node("Add", "pre/ends", ["pre/extra", ends], "pre/ends");
    ends = "pre/ends";
  }
  g.node("Concat", "pre/pads", [g.int64Constant([4], [0, 0, pad, pad]), g.int64Constant([2], [0, 0]), ends], "pre/pads", [intAttribute("axis", 0)]);
  g.node("Pad", "pre/pad", [source, "pre/pads"], networkInput, [stringAttribute("mode", reflect ? "reflect" : "edge")]);
  return networkInput;
}

/**
 * Crops the padding back from the network's output `result` (of `outputLayer`): [offset, offset + size x scale)
 * on H and W, where output = scale x (input + 2 x pad) - 2 x border; then adds the nearest-upscaled input for a
 * residual. The name of the graph's final value.
 */
export function cropOutput(writer: NcnnGraphWriter, pre: NcnnPrePost, pad: number, outputLayer: NcnnLayer, result: Value, scale: number | undefined): string {
  const g = writer.graph;
  const [outA, outB] = [result.h, result.w];
  if (scale === undefined) throw layerError(outputLayer, `the output is not a whole multiple of the input (${outA} x ${outB} for probes ${PROBE_SIZES})`);
  const extras = [outA, outB].map((sizes) => sizes[0] - scale * PROBE_SIZES[0]);
  if (extras[0] !== extras[1] || extras[0] < 0 || extras[0] % 2 !== 0) {
    throw layerError(outputLayer, `the output (${outA[0]}x${outB[0]} for a ${PROBE_SIZES[0]} px input padded by ${pad}) does not hold the input's area at x${scale}`);
  }
  const offset = extras[0] / 2;
  const hw = writer.spatialShape("post", ONNX_INPUT_NAME);
  g.node("Mul", "post/hw_scaled", [hw, g.int64Constant([1], [scale])], "post/hw_scaled");
  g.node("Add", "post/ends", ["post/hw_scaled", g.int64Constant([1], [offset])], "post/ends");
  g.node("Slice", "post/crop", [result.name, g.int64Constant([2], [offset, offset]), "post/ends", g.int64Constant([2], [2, 3])], "post/cropped");
  if (!pre.residual) return "post/cropped";
  g.node("Resize", "post/upscale_input", [ONNX_INPUT_NAME, "", g.constant([4], [1, 1, scale, scale])], "post/upscaled_input", [
    stringAttribute("mode", "nearest"),
    stringAttribute("coordinate_transformation_mode", "asymmetric"),
    stringAttribute("nearest_mode", "floor"),
  ]);
  g.node("Add", "post/residual", ["post/cropped", "post/upscaled_input"], "post/residual");
  return "post/residual";
}
