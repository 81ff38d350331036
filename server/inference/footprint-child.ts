// The measurement behind footprint.ts, in a process of its own (its peak memory is the model's alone). With a
// `size`, it makes a session, runs a tile of that size three times and prints { bytes } (the median of what the
// process gained); with `speedSizes`, it prints the ms per megapixel of a tile of each size (the reference curve
// of known-footprints.json); without either, it makes the session, times a tile of the first measured size, measures what a second
// session of the model adds and the model's border, and prints the rest of a ModelMeasurement.
import path from "node:path";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import { sessionOptions } from "./session-settings";
import { REPO_ROOT } from "../platform/paths";
import type { SpeedPoint } from "../../nodes/image/tile-plan";
import { measuredTiles, type MeasureRequest, type SessionFacts, type TileBytes } from "./footprint";

const request = JSON.parse(process.argv[2]) as MeasureRequest;
const [low, high] = request.valueRange;
const nhwc = request.layout === "NHWC";
/** Below this PSNR a tile's output ring differs visibly from the whole image's (the seam test's bar). */
const SEAM_DB = 50;
const WHOLE = 192;
/** The reference curve stops before a size whose one tile would take longer than this. */
const SPEED_TILE_LIMIT_MS = 20_000;
const SPEED_ROUNDS = 3;
const MARGIN = 32;

async function photo(size: number, left: number, top: number): Promise<ort.Tensor> {
  const { data } = await sharp(path.join(REPO_ROOT, "fixtures", "photos", "astronaut.png"))
    .extract({ left, top, width: size, height: size })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const plane = size * size;
  const values = new Float32Array(3 * plane);
  const at = nhwc ? (c: number, i: number) => i * 3 + c : (c: number, i: number) => c * plane + i;
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) values[at(c, i)] = (data[i * 3 + c] / 255) * (high - low) + low;
  return new ort.Tensor("float32", values, nhwc ? [1, size, size, 3] : [1, 3, size, size]);
}

/** An output's width, and its value of channel c at (x, y), in the model's layout. */
const widthOf = (t: ort.Tensor) => Number(nhwc ? t.dims[2] : t.dims[3]);
function sample(t: ort.Tensor, c: number, y: number, x: number): number {
  const data = t.data as Float32Array;
  const width = widthOf(t);
  return nhwc ? data[(y * width + x) * 3 + c] : data[(c * Number(t.dims[2]) + y) * width + x];
}

// What the process holds before the model (Node, ONNX Runtime's library, sharp) is not the model's. Resident memory
// now, not the high-water mark: start-up (compiling this file) may have peaked above what a small model takes.
// ONNX Runtime's arena keeps what a run allocated, so the resident size after a run is that run's peak. Output
// tensors the runs left for the garbage collector are not the session's (the planner counts a call's tensors
// apart): collected before each reading (the parent starts this process with --expose-gc).
const resident = () => {
  globalThis.gc?.();
  return process.memoryUsage.rss();
};
// The tile is decoded first: sharp's buffers are not the session's either.
const [timed] = measuredTiles(request.sizeMultiple);
const side = request.size ?? timed;
const input = await photo(side, 100, 100);
const startBytes = resident();
const options = sessionOptions({ threads: request.threads, spinning: request.spinning, source: "measured" });
const runOn = async (on: ort.InferenceSession, input: ort.Tensor) => (await on.run({ [on.inputNames[0]]: input }))[on.outputNames[0]];

/** Runs twice: some kernels (int8 ones) allocate more on a second run of a shape, then no more. */
async function runTwice(on: ort.InferenceSession, input: ort.Tensor): Promise<void> {
  await runOn(on, input);
  await runOn(on, input);
}

if (request.speedSizes) {
  // Smallest first; a size whose tile would take longer than the limit (predicted from the last one) is left out.
  // Rounds over all sizes, the fastest of each kept: a busy machine's slow moments fall on some rounds, not all.
  const session = await ort.InferenceSession.create(request.file, options);
  const sizes: { size: number; tile: ort.Tensor; best: number }[] = [];
  for (const size of request.speedSizes) {
    const last = sizes.at(-1);
    if (last && (last.best * size * size) / (last.size * last.size) > SPEED_TILE_LIMIT_MS) break;
    const tile = await photo(size, 0, 0);
    await runOn(session, tile);
    const started = performance.now();
    await runOn(session, tile);
    sizes.push({ size, tile, best: performance.now() - started });
  }
  for (let round = 1; round < SPEED_ROUNDS; round++) {
    for (const entry of sizes) {
      const started = performance.now();
      await runOn(session, entry.tile);
      entry.best = Math.min(entry.best, performance.now() - started);
    }
  }
  const speed: SpeedPoint[] = sizes.map(({ size, best }) => ({ pixels: size * size, msPerMegapixel: Math.round((best / (size * size)) * 1e6) }));
  console.log(JSON.stringify({ speed }));
  process.exit(0);
}

if (request.size !== undefined) {
  // One tile size per process: a session that ran other shapes before holds more (its arena is fragmented).
  // The median of what it held after each of three runs: from run to run (threads, allocators) it varies by some 10%.
  const session = await ort.InferenceSession.create(request.file, options);
  const held: number[] = [];
  for (let i = 0; i < 3; i++) {
    await runOn(session, input);
    held.push(resident() - startBytes);
  }
  console.log(JSON.stringify({ bytes: held.sort((a, b) => a - b)[1] } satisfies TileBytes));
  process.exit(0);
}

const sessionStarted = performance.now();
const session = await ort.InferenceSession.create(request.file, options);
const sessionMs = Math.round(performance.now() - sessionStarted);
const run = (input: ort.Tensor) => runOn(session, input);

await run(input);
const times: number[] = [];
for (let i = 0; i < 2; i++) {
  const started = performance.now();
  await run(input);
  times.push(performance.now() - started);
}
const msPerInputMegapixel = (Math.min(...times) / (side * side)) * 1e6;
const firstBytes = resident() - startBytes;

// A second session of the same model in the same process pays only what is its own (weights, arena): the rest
// of the first one's peak is the process's, paid once whatever the number of models.
const beforeSecond = resident();
const second = await ort.InferenceSession.create(request.file, options);
await runTwice(second, input);
const secondBytes = resident() - beforeSecond;
await second.release();
const processBytes = Math.max(0, firstBytes - secondBytes);

// The border: a tile cut from a larger image against the same region of the larger image's output.
const whole = await run(await photo(WHOLE, 80, 60));
const tile = await run(await photo(WHOLE - 2 * MARGIN, 80 + MARGIN, 60 + MARGIN));
const scale = widthOf(whole) / WHOLE;
const tileSize = (WHOLE - 2 * MARGIN) * scale;
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
        const a = clamp(sample(tile, c, y, x));
        const b = clamp(sample(whole, c, y + MARGIN * scale, x + MARGIN * scale));
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

const measured: SessionFacts = { processBytes: Math.round(processBytes), borderPx, msPerInputMegapixel: Math.round(msPerInputMegapixel), sessionMs };
console.log(JSON.stringify(measured));
