// The measurement behind footprint.ts, in a process of its own (its peak memory is the model's): prints one
// JSON ModelMeasurement. Argument: the JSON MeasureRequest.
import path from "node:path";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import { sessionOptions } from "../inference/session-settings";
import { REPO_ROOT } from "../paths";
import { type MeasureRequest, type ModelMeasurement, measuredTiles } from "./footprint";

const request = JSON.parse(process.argv[2]) as MeasureRequest;
const [low, high] = request.valueRange;
/** Below this PSNR a tile's output ring differs visibly from the whole image's (the seam test's bar). */
const SEAM_DB = 50;
const WHOLE = 192;
const MARGIN = 32;

async function photo(size: number, left: number, top: number): Promise<ort.Tensor> {
  const { data } = await sharp(path.join(REPO_ROOT, "fixtures", "photos", "astronaut.png"))
    .extract({ left, top, width: size, height: size })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const plane = size * size;
  const values = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) values[c * plane + i] = (data[i * 3 + c] / 255) * (high - low) + low;
  return new ort.Tensor("float32", values, [1, 3, size, size]);
}

// What the process holds before the model (Node, ONNX Runtime, sharp) is not the model's. Resident memory now,
// not the high-water mark: start-up (compiling this file) may have peaked above what a small model ever takes.
// ONNX Runtime's arena keeps what a run allocated, so the resident size after a run is that run's peak.
const processBytes = process.memoryUsage.rss();
const peakBytes = () => process.memoryUsage.rss() - processBytes;

const sessionStarted = performance.now();
const session = await ort.InferenceSession.create(request.file, sessionOptions({ threads: request.threads, spinning: request.spinning, source: "measured" }));
const sessionMs = Math.round(performance.now() - sessionStarted);
const run = async (input: ort.Tensor) => (await session.run({ [session.inputNames[0]]: input }))[session.outputNames[0]];

const [small, large] = measuredTiles(request.sizeMultiple);
await run(await photo(small, 100, 100));
const peakSmall = peakBytes();
const largeInput = await photo(large, 100, 100);
await run(largeInput);
const peakLarge = peakBytes();
const bytesPerInputPixel = Math.max(0, (peakLarge - peakSmall) / (large * large - small * small));
const baseBytes = Math.max(0, peakLarge - bytesPerInputPixel * large * large);

const times: number[] = [];
for (let i = 0; i < 2; i++) {
  const started = performance.now();
  await run(largeInput);
  times.push(performance.now() - started);
}
const msPerInputMegapixel = (Math.min(...times) / (large * large)) * 1e6;

// The border: a tile cut from a larger image against the same region of the larger image's output.
const whole = await run(await photo(WHOLE, 80, 60));
const tile = await run(await photo(WHOLE - 2 * MARGIN, 80 + MARGIN, 60 + MARGIN));
const scale = whole.dims[3] / WHOLE;
const tileSize = (WHOLE - 2 * MARGIN) * scale;
const wholeData = whole.data as Float32Array;
const tileData = tile.data as Float32Array;
const clamp = (value: number) => (value < low ? low : value > high ? high : value);
/** PSNR of the output pixels `d` input pixels from the tile's border (a ring `scale` output pixels wide). */
function ringPsnr(d: number): number {
  let squared = 0;
  let count = 0;
  const inner = d * scale;
  const outer = (d + 1) * scale;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < tileSize; y++) {
      for (let x = 0; x < tileSize; x++) {
        const distance = Math.min(x, y, tileSize - 1 - x, tileSize - 1 - y);
        if (distance < inner || distance >= outer) continue;
        const a = clamp(tileData[(c * tileSize + y) * tileSize + x]);
        const b = clamp(wholeData[(c * whole.dims[2] + y + MARGIN * scale) * whole.dims[3] + x + MARGIN * scale]);
        squared += (a - b) ** 2;
        count++;
      }
    }
  }
  const mse = squared / count;
  return mse === 0 ? Infinity : 10 * Math.log10(((high - low) * (high - low)) / mse);
}
let borderPx = 0;
for (let d = (WHOLE - 2 * MARGIN) / 2 - 1; d >= 0; d--) {
  if (ringPsnr(d) < SEAM_DB) {
    borderPx = d + 1;
    break;
  }
}

const measurement: ModelMeasurement = {
  baseBytes: Math.round(baseBytes),
  bytesPerInputPixel: Math.round(bytesPerInputPixel),
  borderPx,
  msPerInputMegapixel: Math.round(msPerInputMegapixel),
  sessionMs,
  tiles: [small, large],
  measuredAt: new Date().toISOString(),
};
console.log(JSON.stringify(measurement));
