// The TF.js importer on edited copies of esrgan-slim x2: the errors for what it cannot convert, truncated
// shards, and uint16 / float16 quantized weights.
import assert from "node:assert/strict";
import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import onnxProto from "onnx-proto";
import { installedPackage } from "../../builtin";
import { convertTfjsLayersModel, ModelConversionError } from "./convert";

/** A copy of esrgan-slim x2 (small) in a temp folder; `edit` changes its model.json or returns replacement text. */
async function editedSlimModel(edit: (json: any) => void | string): Promise<{ modelJson: string; dir: string }> {
  const source = path.join(installedPackage("@upscalerjs/esrgan-slim").dir, "models/x2");
  const dir = await mkdtemp(path.join(os.tmpdir(), "tudsr-model-"));
  const json = JSON.parse(await readFile(path.join(source, "model.json"), "utf8"));
  for (const group of json.weightsManifest) {
    for (const shard of group.paths) await copyFile(path.join(source, shard), path.join(dir, shard));
  }
  const edited = edit(json);
  const modelJson = path.join(dir, "model.json");
  await writeFile(modelJson, edited ?? JSON.stringify(json));
  return { modelJson, dir };
}

async function assertConversionFails(edit: (json: any) => void | string, message: RegExp): Promise<void> {
  const { modelJson, dir } = await editedSlimModel(edit);
  try {
    await assert.rejects(convertTfjsLayersModel(modelJson), (error: Error) => {
      assert.ok(error instanceof ModelConversionError, `${error.name}: ${error.message}`);
      assert.match(error.message, message);
      assert.ok(error.message.includes(modelJson), `"${error.message}" names the file`);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const layerNamed = (json: any, name: string) => json.modelTopology.model_config.config.layers.find((layer: any) => layer.name === name);

test("the converter names what it cannot convert", async () => {
  await assertConversionFails(
    (json) => {
      layerNamed(json, "F_1_1_Relu").class_name = "SwishGate";
    },
    /layer "F_1_1_Relu" has unsupported class SwishGate/,
  );
  await assertConversionFails(
    (json) => {
      layerNamed(json, "F_0").config.strides = [2, 2];
    },
    /layer "F_0" \(Conv2D\) has an unsupported config: strides\.0/,
  );
  await assertConversionFails(
    (json) => {
      layerNamed(json, "F_1_1_Relu").config.activation = "tanh";
    },
    /layer "F_1_1_Relu" \(Activation\) has an unsupported config: activation/,
  );
  await assertConversionFails((json) => JSON.stringify(json).slice(0, 5000), /not a readable JSON file/);
  await assertConversionFails(
    (json) => {
      json.weightsManifest = undefined;
    },
    /not a TF\.js layers model: weightsManifest/,
  );
  await assertConversionFails(
    (json) => {
      layerNamed(json, "F_0").inbound_nodes = [[["F_missing", 0, 0, {}]]];
    },
    /layer "F_0" takes input from unknown layer "F_missing"/,
  );
  await assertConversionFails(
    (json) => {
      layerNamed(json, "F_0").config.filters = 32;
    },
    /layer "F_0": kernel shape \[3,3,64,64\] does not match \[3,3,64,32\]/,
  );
  await assertConversionFails(
    (json) => {
      json.weightsManifest[0].weights[0].shape = [1];
    },
    /hold \d+ bytes, the manifest describes \d+/,
  );
});

test("a truncated weight shard is reported, not read past", async () => {
  const { modelJson, dir } = await editedSlimModel(() => {});
  try {
    await truncate(path.join(dir, "group1-shard1of1.bin"), 1000);
    await assert.rejects(convertTfjsLayersModel(modelJson), /group1-shard1of1\.bin hold \d+ bytes, the manifest describes \d+/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** IEEE half-precision bits of a float (round to nearest), for writing float16-quantized test weights. */
function toHalfBits(value: number): number {
  const sign = value < 0 ? 0x8000 : 0;
  const abs = Math.abs(value);
  if (abs < 2 ** -14) return sign | Math.round(abs / 2 ** -24); // zero and subnormals
  let exponent = Math.floor(Math.log2(abs));
  if (abs / 2 ** exponent < 1) exponent -= 1; // log2 rounded up just below a power of two
  // A fraction that rounds up to 1024 carries into the exponent, as it should.
  return sign | (((exponent + 15) << 10) + Math.round((abs / 2 ** exponent - 1) * 1024));
}

/** The initializers of an ONNX model, by name. */
function initializers(bytes: Uint8Array): Map<string, Float32Array> {
  const graph = onnxProto.onnx.ModelProto.decode(bytes).graph!;
  return new Map(graph.initializer!.map((tensor) => [tensor.name!, new Float32Array(new Uint8Array(tensor.rawData!).buffer)]));
}

/** 16-bit codes for `values` as TF.js's converter would store them, with the largest error decoding may make. */
function quantize16(values: Float32Array, dtype: "uint16" | "float16") {
  const [min, max] = values.reduce(([low, high], value) => [Math.min(low, value), Math.max(high, value)], [Infinity, -Infinity]);
  if (dtype === "float16") {
    const largest = Math.max(-min, max);
    return { codes: Uint16Array.from(values, toHalfBits), quantization: { dtype }, tolerance: largest * 2 ** -11 + 2 ** -24 };
  }
  const scale = (max - min) / 65535 || 1;
  const codes = Uint16Array.from(values, (value) => Math.round((value - min) / scale));
  return { codes, quantization: { dtype, min, scale }, tolerance: scale / 2 + 1e-6 };
}

test("uint16 and float16 quantized weights are dequantized like TF.js", async () => {
  const source = path.join(installedPackage("@upscalerjs/esrgan-slim").dir, "models/x2");
  const reference = initializers((await convertTfjsLayersModel(path.join(source, "model.json"))).bytes);
  for (const dtype of ["uint16", "float16"] as const) {
    const { modelJson, dir } = await editedSlimModel(() => {});
    try {
      const json = JSON.parse(await readFile(modelJson, "utf8"));
      const [group] = json.weightsManifest;
      const shard = path.join(dir, group.paths[0]);
      const floats = new Float32Array(new Uint8Array(await readFile(shard)).buffer);
      const codes = new Uint16Array(floats.length);
      const tolerance = new Map<string, number>();
      let offset = 0;
      for (const weight of group.weights) {
        const size = weight.shape.reduce((n: number, d: number) => n * d, 1);
        const quantized = quantize16(floats.subarray(offset, offset + size), dtype);
        codes.set(quantized.codes, offset);
        weight.quantization = quantized.quantization;
        tolerance.set(weight.name, quantized.tolerance);
        offset += size;
      }
      await writeFile(shard, codes);
      await writeFile(modelJson, JSON.stringify(json));

      const decoded = initializers((await convertTfjsLayersModel(modelJson)).bytes);
      assert.deepEqual([...decoded.keys()], [...reference.keys()]);
      for (const [name, values] of decoded) {
        const expected = reference.get(name)!;
        const worst = values.reduce((most, value, i) => Math.max(most, Math.abs(value - expected[i])), 0);
        assert.ok(worst <= tolerance.get(name)!, `${dtype} ${name}: off by ${worst}, allowed ${tolerance.get(name)}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});
