import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { MetricRecord, RepeatedTiles, RunHost, SaveOptions } from "../../nodes/graph/host";
import type { RgbImage } from "../../nodes/image/types";
import { bandsOf, type RowSavingHost } from "../../nodes/graph/stream";
import { decodeImage, DEFAULT_MAX_PIXELS, encodeImage, encodeRgb8, writeRgb8 } from "../images/codec";
import type { InferenceService } from "../inference/inference-service";
import { MachineModelHost } from "./model-host";

/**
 * A run input: a file path, the bytes of an image, or a function that fetches them (called when a node first
 * needs them, so a missing input fails in the node that reads it, named).
 */
export type RunInputSource = string | Buffer | (() => Promise<Buffer>);

export interface EncodedOutput {
  name: string;
  format: SaveOptions["format"];
  width: number;
  height: number;
  bytes: Buffer;
}

/**
 * The RunHost of one run: reads its inputs, encodes its outputs into memory (nothing touches the output
 * files until the whole run has succeeded), collects its metrics.
 */
export class PipelineHost extends MachineModelHost implements RunHost, RowSavingHost {
  readonly outputs = new Map<string, EncodedOutput>();
  readonly metrics: MetricRecord[] = [];
  private readonly bytes = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly inputs: Record<string, RunInputSource>,
    inference: InferenceService,
    private readonly maxPixels = DEFAULT_MAX_PIXELS,
    /** A re-run exactly: the tiles the repeated run cut. */
    private readonly repeated: readonly RepeatedTiles[] = [],
  ) {
    super(inference);
  }

  repeatedTiles(nodeId: string, iteration: number | undefined): RepeatedTiles | undefined {
    return this.repeated.find((tiles) => tiles.nodeId === nodeId && tiles.iteration === iteration);
  }

  /** The run input of this name: own properties only (an input named "constructor" is not Object's). */
  private source(name: string): RunInputSource | undefined {
    return Object.hasOwn(this.inputs, name) ? this.inputs[name] : undefined;
  }

  private inputBytes(name: string): Promise<Buffer> {
    const source = this.source(name);
    if (typeof source !== "string" && typeof source !== "function" && !Buffer.isBuffer(source)) {
      const known = Object.keys(this.inputs).join(", ") || "none";
      return Promise.reject(new Error(`the run has no input named "${name}" (given: ${known})`));
    }
    let bytes = this.bytes.get(name);
    if (!bytes) {
      if (typeof source === "string") {
        bytes = readFile(source).catch((error: NodeJS.ErrnoException) => {
          throw new Error(error.code === "ENOENT" ? `input "${name}": file not found: ${source}` : `input "${name}": cannot read ${source}: ${error.message}`);
        });
      } else if (typeof source === "function") {
        bytes = Promise.resolve()
          .then(source)
          .catch((error: unknown) => {
            throw new Error(`input "${name}": ${error instanceof Error ? error.message : String(error)}`);
          });
      } else {
        bytes = Promise.resolve(source);
      }
      this.bytes.set(name, bytes);
    }
    return bytes;
  }

  async loadInput(name: string) {
    const source = this.source(name);
    const bytes = await this.inputBytes(name);
    try {
      return await decodeImage(bytes, { maxPixels: this.maxPixels });
    } catch (error) {
      throw new Error(`${typeof source === "string" ? source : `input "${name}"`}: ${(error as Error).message.replace(/^image data: /, "")}`);
    }
  }

  async inputKey(name: string): Promise<string> {
    return createHash("sha256").update(await this.inputBytes(name)).digest("hex");
  }

  async saveOutput(name: string, image: RgbImage, options: SaveOptions): Promise<void> {
    if (this.outputs.has(name)) throw new Error(`two save-image nodes write the output "${name}"`);
    const bytes = await encodeImage(image, options);
    this.outputs.set(name, { name, format: options.format, width: image.width, height: image.height, bytes });
  }

  /**
   * Encodes an image as its bands of rows come (a stitch hands them on as its tiles finish): only 8-bit pixels
   * are gathered, a quarter of the float image, and the file is what saveOutput makes of the same pixels.
   */
  async saveOutputRows(name: string, image: RgbImage, options: SaveOptions): Promise<void> {
    if (this.outputs.has(name)) throw new Error(`two save-image nodes write the output "${name}"`);
    const rgb = Buffer.allocUnsafe(image.width * image.height * 3);
    for await (const band of bandsOf(image)) writeRgb8(band.image, rgb, band.top * image.width * 3);
    const bytes = await encodeRgb8(rgb, image.width, image.height, options);
    this.outputs.set(name, { name, format: options.format, width: image.width, height: image.height, bytes });
  }

  async jpegRoundTrip(image: RgbImage, quality: number): Promise<RgbImage> {
    const bytes = await encodeImage(image, { format: "jpeg", quality });
    return (await decodeImage(bytes)).image;
  }

  infer(...args: Parameters<InferenceService["infer"]>) {
    return this.inference.infer(...args);
  }

  reportMetric(record: MetricRecord): void {
    this.metrics.push(record);
  }
}
