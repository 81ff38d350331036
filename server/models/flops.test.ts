import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { flopsPerInputPixel } from "./flops";
import { encodeImageModel, GraphBuilder, intAttribute, intsAttribute, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from "./onnx-builder";

test("flopsPerInputPixel counts each conv's multiply-adds at its own resolution", async () => {
  // 3x3 conv 3->12 at input resolution, pixel shuffle x2, 1x1 conv 3->3 at twice the resolution (4x the pixels).
  const graph = new GraphBuilder();
  const w1 = graph.weight("w1", [12, 3, 3, 3], new Float32Array(12 * 27).fill(0.01));
  const w2 = graph.weight("w2", [3, 3, 1, 1], new Float32Array(9).fill(0.1));
  graph.node("Conv", "conv1", [ONNX_INPUT_NAME, w1], "features", [intsAttribute("pads", [1, 1, 1, 1]), intsAttribute("kernel_shape", [3, 3])]);
  graph.node("DepthToSpace", "shuffle", ["features"], "shuffled", [intAttribute("blocksize", 2)]);
  graph.node("Conv", "conv2", ["shuffled", w2], ONNX_OUTPUT_NAME, [intsAttribute("kernel_shape", [1, 1])]);
  const dir = mkdtempSync(path.join(os.tmpdir(), "tudsr-flops-"));
  try {
    const file = path.join(dir, "model.onnx");
    writeFileSync(file, encodeImageModel({ graph, opset: 13, irVersion: 7, producerVersion: "test", docString: "", outputDims: ["H*2", "W*2"] }));
    assert.equal(await flopsPerInputPixel(file), 2 * 12 * 3 * 9 + 4 * (2 * 3 * 3));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
