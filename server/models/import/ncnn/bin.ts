// The ncnn `.bin` (ncnn src/modelbin.cpp, layer/*.cpp) has no index: each layer reads its blobs in layer order, in
// its own order (weights, then bias...). The weights of Convolution, Deconvolution (and their depthwise forms)
// and InnerProduct carry a 4-byte tag (0x01306B47 fp16, padded to 4 bytes; 0 or 0x0002C056 fp32; 0x000D4B38
// int8; other non-zero: a 256-float table then uint8 indices); biases, PReLU slopes, Scale and BatchNorm data
// are untagged fp32.
import { layerError, NcnnImportError, type NcnnLayer, where } from "./param";

const TAG_FP16 = 0x01306b47;
const TAG_INT8 = 0x000d4b38;
const TAG_FP32_SCALED = 0x0002c056;

/** Weights as stored: half floats are kept (fp16 initializers), everything else becomes float. */
export type StoredWeights = { kind: "f16"; bits: Uint16Array } | { kind: "f32"; values: Float32Array };

function align4(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}

/** Reads the .bin in order, naming the layer that runs out of bytes, and checks that every byte was read. */
export class BinReader {
  offset = 0;
  lastReader?: NcnnLayer;

  constructor(private readonly bytes: Uint8Array) {}

  private take(layer: NcnnLayer, what: string, length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) {
      throw layerError(
        layer,
        `the .bin is too short: its ${what} need ${length} bytes at offset ${this.offset}, but the file ends at ${this.bytes.length} ` +
          `(${this.bytes.length - this.offset} bytes left): the .bin does not belong to this .param, or is truncated`,
      );
    }
    this.lastReader = layer;
    // A copy (not slice(): a Node Buffer's slice is a view): typed-array views need aligned offsets.
    const chunk = new Uint8Array(length);
    chunk.set(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return chunk;
  }

  /** Untagged fp32 data (biases, slopes, Scale and BatchNorm data). */
  floats(layer: NcnnLayer, what: string, count: number): Float32Array {
    return new Float32Array(this.take(layer, what, count * 4).buffer);
  }

  /** Tagged weights (Convolution, Deconvolution, InnerProduct). */
  weights(layer: NcnnLayer, what: string, count: number): StoredWeights {
    const tagBytes = this.take(layer, `${what} tag`, 4);
    const tag = new DataView(tagBytes.buffer).getUint32(0, true);
    if (tag === TAG_FP16) {
      const bits = new Uint16Array(this.take(layer, `${what} (${count} fp16 values)`, align4(count * 2)).buffer, 0, count);
      return { kind: "f16", bits };
    }
    if (tag === TAG_INT8) throw layerError(layer, `its ${what} are int8-quantized, which this importer does not support`);
    if (tag === TAG_FP32_SCALED || tag === 0) return { kind: "f32", values: this.floats(layer, `${what} (${count} fp32 values)`, count) };
    // Any other non-zero tag: a 256-entry float table, then one uint8 index per value.
    const table = this.floats(layer, `${what} quantization table`, 256);
    const indices = this.take(layer, `${what} (${count} table indices)`, align4(count));
    return { kind: "f32", values: Float32Array.from(indices.subarray(0, count), (i) => table[i]) };
  }

  finish(): void {
    const left = this.bytes.length - this.offset;
    if (left !== 0) {
      const last = this.lastReader ? `after ${where(this.lastReader)} read the last weights` : "and no layer reads any weights";
      throw new NcnnImportError(
        `the .bin is too long: ${left} bytes are left over ${last} (${this.bytes.length} bytes in all, ${this.offset} read): ` +
          "the .bin does not belong to this .param",
      );
    }
  }
}

