// Converts a TF.js layers model (model.json + weight shards) into an NCHW ONNX model (opset 13).
// Only the layer classes used by the UpscalerJS ESRGAN packages are supported; anything else is a clear error.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { elementCount, encodeImageModel, GraphBuilder, halfToFloat, intAttribute, intsAttribute, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, stringAttribute } from "../../onnx-builder";

/** Bumped whenever the produced graph changes, so `npm run setup` knows to convert again. */
export const CONVERTER_VERSION = "tfjs-to-onnx/1";

export { ONNX_INPUT_NAME, ONNX_OUTPUT_NAME };
const OPSET = 13;
const IR_VERSION = 7; // the IR version that introduced opset 13

export class ModelConversionError extends Error {}

export interface ConvertedModel {
  bytes: Uint8Array; // the serialized ONNX ModelProto
  scale: number;
  parameterCount: number; // elements in all weight initializers
}

// ---------------------------------------------------------------------------------------------------
// model.json

const quantizationSchema = z.object({
  dtype: z.enum(["uint8", "uint16", "float16"]),
  scale: z.number().optional(),
  min: z.number().optional(),
});

const weightSpecSchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.literal("float32"),
  quantization: quantizationSchema.optional(),
});
type WeightSpec = z.infer<typeof weightSpecSchema>;

const inboundTensorSchema = z.tuple([z.string(), z.number(), z.number()]).rest(z.unknown());

const layerSchema = z.object({
  class_name: z.string(),
  name: z.string(),
  config: z.record(z.string(), z.unknown()),
  inbound_nodes: z.array(z.array(inboundTensorSchema)),
});
type Layer = z.infer<typeof layerSchema>;

const graphConfigSchema = z.object({
  layers: z.array(layerSchema).min(1),
  input_layers: z.array(inboundTensorSchema).length(1, "exactly one model input is supported"),
  output_layers: z.array(inboundTensorSchema).length(1, "exactly one model output is supported"),
});
const kerasModelSchema = z.object({ class_name: z.string(), config: graphConfigSchema });

const modelJsonSchema = z.object({
  format: z.literal("layers-model"),
  // Keras nests the model under model_config; older exports put it at the top level.
  modelTopology: z.union([z.object({ model_config: kerasModelSchema }), kerasModelSchema]),
  weightsManifest: z.array(z.object({ paths: z.array(z.string()).min(1), weights: z.array(weightSpecSchema) })),
});

const conv2dConfigSchema = z.object({
  filters: z.number().int().positive(),
  kernel_size: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  strides: z.tuple([z.literal(1), z.literal(1)]),
  padding: z.enum(["same", "valid"]),
  data_format: z.literal("channels_last"),
  dilation_rate: z.tuple([z.literal(1), z.literal(1)]),
  groups: z.literal(1).optional(),
  activation: z.enum(["linear", "relu"]),
  use_bias: z.boolean(),
});
const activationConfigSchema = z.object({ activation: z.enum(["linear", "relu"]) });
const concatenateConfigSchema = z.object({ axis: z.number().int() });
const upSamplingConfigSchema = z.object({
  size: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  data_format: z.literal("channels_last").optional(),
  interpolation: z.literal("nearest").optional(),
});
const multiplyBetaConfigSchema = z.object({ beta: z.number() });
const pixelShuffleConfigSchema = z.object({ scale: z.number().int().positive().optional() });

function describeZodError(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
}

function parseLayerConfig<T extends z.ZodType>(layer: Layer, schema: T): z.infer<T> {
  const parsed = schema.safeParse(layer.config);
  if (!parsed.success) {
    throw new ModelConversionError(
      `layer "${layer.name}" (${layer.class_name}) has an unsupported config: ${describeZodError(parsed.error)}`,
    );
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------------
// weights

interface Weight {
  shape: number[];
  values: Float32Array;
}

const BYTES_PER_STORED_VALUE = { float32: 4, uint8: 1, uint16: 2, float16: 2 } as const;

/** Reads every shard group and dequantizes like TF.js does (value = q * scale + min, or half floats). */
async function loadWeights(modelDir: string, manifest: z.infer<typeof modelJsonSchema>["weightsManifest"]) {
  const weights = new Map<string, Weight>();
  for (const group of manifest) {
    const shards = await Promise.all(
      group.paths.map(async (shard) => {
        try {
          return await readFile(path.join(modelDir, shard));
        } catch (error) {
          throw new ModelConversionError(`cannot read weight shard ${shard}: ${(error as Error).message}`);
        }
      }),
    );
    const buffer = Buffer.concat(shards);
    const expectedBytes = group.weights.reduce((sum, spec) => sum + storedBytes(spec), 0);
    if (buffer.length !== expectedBytes) {
      throw new ModelConversionError(
        `weight shards ${group.paths.join(", ")} hold ${buffer.length} bytes, the manifest describes ${expectedBytes}`,
      );
    }
    let offset = 0;
    for (const spec of group.weights) {
      const bytes = buffer.subarray(offset, offset + storedBytes(spec));
      offset += bytes.length;
      weights.set(spec.name, { shape: spec.shape, values: decodeWeight(spec, bytes) });
    }
  }
  return weights;
}

function storedBytes(spec: WeightSpec): number {
  return elementCount(spec.shape) * BYTES_PER_STORED_VALUE[spec.quantization?.dtype ?? spec.dtype];
}

function decodeWeight(spec: WeightSpec, bytes: Buffer): Float32Array {
  // Copy into an aligned buffer: shard offsets are not aligned for typed-array views.
  const aligned = new Uint8Array(bytes).buffer;
  const { quantization } = spec;
  if (!quantization) return new Float32Array(aligned);
  if (quantization.dtype === "float16") return Float32Array.from(new Uint16Array(aligned), halfToFloat);
  const { scale, min } = quantization;
  if (scale === undefined || min === undefined) {
    throw new ModelConversionError(`weight ${spec.name}: ${quantization.dtype} quantization without scale and min`);
  }
  const quantized = quantization.dtype === "uint8" ? new Uint8Array(aligned) : new Uint16Array(aligned);
  return Float32Array.from(quantized, (q) => q * scale + min);
}

// ---------------------------------------------------------------------------------------------------
// graph

/** A value flowing between layers: its ONNX name and channel count (for checking weight shapes). */
interface Value {
  name: string;
  channels: number;
}

/** TF [kh, kw, in, out] -> ONNX [out, in, kh, kw]. */
function transposeKernel(kernel: Weight): Float32Array {
  const [kh, kw, cin, cout] = kernel.shape;
  const out = new Float32Array(kernel.values.length);
  const src = kernel.values;
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        const srcBase = ((y * kw + x) * cin + i) * cout;
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = src[srcBase + o];
      }
    }
  }
  return out;
}

/** Keras axis on NHWC (rank 4, negative allowed) -> the same axis on NCHW. */
function nchwAxis(layer: Layer, axis: number): number {
  const nhwcToNchw = [0, 2, 3, 1];
  const normalized = axis < 0 ? axis + 4 : axis;
  if (normalized < 0 || normalized > 3) throw new ModelConversionError(`layer "${layer.name}": axis ${axis} is out of range`);
  return nhwcToNchw[normalized];
}

/**
 * Converts the TF.js layers model at `modelJsonPath` into an ONNX model with input "input" [N,3,H,W] and
 * output "output" [N,3,H*scale,W*scale], both float32 in the model's own value range.
 */
export async function convertTfjsLayersModel(modelJsonPath: string, docString = ""): Promise<ConvertedModel> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(modelJsonPath, "utf8"));
  } catch (error) {
    throw new ModelConversionError(`${modelJsonPath}: not a readable JSON file (${(error as Error).message})`);
  }
  const parsed = modelJsonSchema.safeParse(json);
  if (!parsed.success) {
    throw new ModelConversionError(`${modelJsonPath}: not a TF.js layers model: ${describeZodError(parsed.error)}`);
  }
  const topology = "model_config" in parsed.data.modelTopology ? parsed.data.modelTopology.model_config : parsed.data.modelTopology;
  try {
    const weights = await loadWeights(path.dirname(modelJsonPath), parsed.data.weightsManifest);
    return buildModel(topology.config, weights, docString);
  } catch (error) {
    if (error instanceof ModelConversionError) throw new ModelConversionError(`${modelJsonPath}: ${error.message}`);
    throw error;
  }
}

function buildModel(config: z.infer<typeof graphConfigSchema>, weights: Map<string, Weight>, docString: string): ConvertedModel {
  const inputLayer = config.input_layers[0][0];
  const outputLayer = config.output_layers[0][0];
  const graph = new GraphBuilder();
  const values = new Map<string, Value>();
  const usedWeights = new Set<string>();
  let scale = 1;

  const takeWeight = (layer: Layer, kind: "kernel" | "bias"): Weight => {
    const name = `${layer.name}/${kind}`;
    const weight = weights.get(name);
    if (!weight) throw new ModelConversionError(`layer "${layer.name}": weight ${name} is missing from the weights manifest`);
    usedWeights.add(name);
    return weight;
  };

  for (const layer of config.layers) {
    if (layer.inbound_nodes.length > 1) {
      throw new ModelConversionError(`layer "${layer.name}" is applied more than once (shared layers are not supported)`);
    }
    const inputs = (layer.inbound_nodes[0] ?? []).map(([source]) => {
      const value = values.get(source);
      if (!value) throw new ModelConversionError(`layer "${layer.name}" takes input from unknown layer "${source}"`);
      return value;
    });
    const single = (): Value => {
      if (inputs.length !== 1) throw new ModelConversionError(`layer "${layer.name}" (${layer.class_name}) needs exactly one input`);
      return inputs[0];
    };
    // The model's last layer writes the graph output directly, so no Identity node is needed.
    const outputName = layer.name === outputLayer ? ONNX_OUTPUT_NAME : layer.name;
    const pixelShuffle = /^PixelShuffle(\d+)x$/.exec(layer.class_name);

    let result: Value;
    if (layer.class_name === "InputLayer") {
      if (layer.name !== inputLayer) throw new ModelConversionError(`input layer "${layer.name}" is not the model input`);
      const shape = (layer.config.batch_input_shape ?? layer.config.batch_shape) as unknown;
      if (!Array.isArray(shape) || shape.length !== 4 || shape[3] !== 3) {
        throw new ModelConversionError(`input layer "${layer.name}" must take [N,H,W,3] images, not ${JSON.stringify(shape)}`);
      }
      result = { name: ONNX_INPUT_NAME, channels: 3 };
    } else if (layer.class_name === "Conv2D") {
      const conv = parseLayerConfig(layer, conv2dConfigSchema);
      const input = single();
      const kernel = takeWeight(layer, "kernel");
      const [kh, kw] = conv.kernel_size;
      const expected = [kh, kw, input.channels, conv.filters];
      if (kernel.shape.join() !== expected.join()) {
        throw new ModelConversionError(
          `layer "${layer.name}": kernel shape [${kernel.shape}] does not match [${expected}] (kernel_size, input channels, filters)`,
        );
      }
      const convInputs = [input.name, graph.weight(`${layer.name}/kernel`, [conv.filters, input.channels, kh, kw], transposeKernel(kernel))];
      if (conv.use_bias) {
        const bias = takeWeight(layer, "bias");
        if (bias.shape.join() !== String(conv.filters)) {
          throw new ModelConversionError(`layer "${layer.name}": bias shape [${bias.shape}] does not match filters ${conv.filters}`);
        }
        convInputs.push(graph.weight(`${layer.name}/bias`, [conv.filters], bias.values));
      }
      const attributes = [intsAttribute("kernel_shape", [kh, kw])];
      if (conv.padding === "same") {
        // TF puts the odd pixel of 'same' padding after (bottom/right); ONNX pads are [top, left, bottom, right].
        const [top, left] = [Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2)];
        const pads = [top, left, kh - 1 - top, kw - 1 - left];
        if (pads.some((pad) => pad > 0)) attributes.push(intsAttribute("pads", pads));
      }
      const convOutput = conv.activation === "relu" ? `${layer.name}/conv` : outputName;
      graph.node("Conv", layer.name, convInputs, convOutput, attributes);
      if (conv.activation === "relu") graph.node("Relu", `${layer.name}/relu`, [convOutput], outputName);
      result = { name: outputName, channels: conv.filters };
    } else if (layer.class_name === "Activation") {
      const { activation } = parseLayerConfig(layer, activationConfigSchema);
      const input = single();
      if (activation === "linear") {
        result = input;
      } else {
        graph.node("Relu", layer.name, [input.name], outputName);
        result = { name: outputName, channels: input.channels };
      }
    } else if (layer.class_name === "Add") {
      if (inputs.length < 2) throw new ModelConversionError(`layer "${layer.name}" (Add) needs at least two inputs`);
      if (inputs.some((input) => input.channels !== inputs[0].channels)) {
        throw new ModelConversionError(`layer "${layer.name}" (Add) adds values with different channel counts`);
      }
      graph.node(inputs.length === 2 ? "Add" : "Sum", layer.name, inputs.map((input) => input.name), outputName);
      result = { name: outputName, channels: inputs[0].channels };
    } else if (layer.class_name === "Concatenate") {
      const { axis } = parseLayerConfig(layer, concatenateConfigSchema);
      if (nchwAxis(layer, axis) !== 1) throw new ModelConversionError(`layer "${layer.name}": only channel concatenation is supported`);
      if (inputs.length < 2) throw new ModelConversionError(`layer "${layer.name}" (Concatenate) needs at least two inputs`);
      graph.node("Concat", layer.name, inputs.map((input) => input.name), outputName, [intAttribute("axis", 1)]);
      result = { name: outputName, channels: inputs.reduce((sum, input) => sum + input.channels, 0) };
    } else if (layer.class_name === "UpSampling2D") {
      const { size } = parseLayerConfig(layer, upSamplingConfigSchema);
      if (size[0] !== size[1]) throw new ModelConversionError(`layer "${layer.name}": non-square upsampling ${size} is not supported`);
      const input = single();
      // 'asymmetric' + 'floor' makes integer-factor nearest resize a plain pixel repeat, as Keras does.
      graph.node("Resize", layer.name, [input.name, "", graph.constant([4], [1, 1, size[0], size[1]])], outputName, [
        stringAttribute("mode", "nearest"),
        stringAttribute("coordinate_transformation_mode", "asymmetric"),
        stringAttribute("nearest_mode", "floor"),
      ]);
      scale *= size[0];
      result = { name: outputName, channels: input.channels };
    } else if (layer.class_name === "MultiplyBeta") {
      const { beta } = parseLayerConfig(layer, multiplyBetaConfigSchema);
      const input = single();
      // A 1x1 depthwise Conv rather than Mul: ORT's NCHWc layout (its fast CPU conv path) cannot take a Mul by a
      // constant, which would force layout reorders around every residual block (thick x4: ~10% slower).
      const channels = input.channels;
      const betaKernel = graph.constant([channels, 1, 1, 1], new Array<number>(channels).fill(beta));
      graph.node("Conv", layer.name, [input.name, betaKernel], outputName, [intAttribute("group", channels), intsAttribute("kernel_shape", [1, 1])]);
      result = { name: outputName, channels: input.channels };
    } else if (pixelShuffle) {
      const blockSize = Number(pixelShuffle[1]);
      const configScale = parseLayerConfig(layer, pixelShuffleConfigSchema).scale;
      if (configScale !== undefined && configScale !== blockSize) {
        throw new ModelConversionError(`layer "${layer.name}": class ${layer.class_name} disagrees with its scale ${configScale}`);
      }
      const input = single();
      if (input.channels % (blockSize * blockSize) !== 0) {
        throw new ModelConversionError(`layer "${layer.name}": ${input.channels} channels do not split into ${blockSize}x${blockSize} blocks`);
      }
      // tf.depthToSpace orders channels as (blockRow, blockCol, channel): ONNX mode DCR.
      graph.node("DepthToSpace", layer.name, [input.name], outputName, [intAttribute("blocksize", blockSize), stringAttribute("mode", "DCR")]);
      scale *= blockSize;
      result = { name: outputName, channels: input.channels / (blockSize * blockSize) };
    } else {
      throw new ModelConversionError(`layer "${layer.name}" has unsupported class ${layer.class_name}`);
    }
    values.set(layer.name, result);
  }

  const output = values.get(outputLayer);
  if (!output) throw new ModelConversionError(`output layer "${outputLayer}" is not in the layer list`);
  if (output.name !== ONNX_OUTPUT_NAME || output.channels !== 3) {
    throw new ModelConversionError(`output layer "${outputLayer}" must be a computing layer with 3 channels`);
  }
  const unused = [...weights.keys()].filter((name) => !usedWeights.has(name));
  if (unused.length > 0) throw new ModelConversionError(`weights not used by any layer: ${unused.join(", ")}`);

  const bytes = encodeImageModel({
    graph,
    opset: OPSET,
    irVersion: IR_VERSION,
    producerVersion: CONVERTER_VERSION,
    docString,
    outputDims: [`H*${scale}`, `W*${scale}`],
  });
  return { bytes, scale, parameterCount: graph.parameterCount };
}
