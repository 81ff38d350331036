// Measures int8 recipes of one model against its fp32 parent: fidelity (worst PSNR from fp32 on the held-apart
// crops set-up uses), full-range and 7-bit; optionally the ground-truth loss (judgeInt8Quality) and the per-tile
// speed ratio (fp32 and int8 timed in turns on a 128 px tile).
// Usage: node --import tsx scripts/int8-eval.ts <model id> '<json list of {name, ...QuantizeOptions, keep?: regex}>' [gt] [speed] [7bit-only|full-only]
import { readFile, writeFile } from "node:fs/promises";
import * as ort from "onnxruntime-node";
import { judgeInt8Quality } from "../server/models/int8-quality";
import { photoCrop } from "../server/models/int8-variant";
import { modelFilePath, readModelManifest } from "../server/models/manifest";
import { quantizeModel } from "../server/models/quantize";

const CALIBRATION_CROPS: [string, number, number][] = [
  ["astronaut.png", 180, 80], ["astronaut.png", 300, 330], ["coffee.png", 200, 120], ["coffee.png", 420, 260],
  ["rocket.jpg", 300, 60], ["rocket.jpg", 80, 300], ["grace_hopper.jpg", 200, 140], ["grace_hopper.jpg", 120, 420],
];
const HELD_APART: [string, number, number][] = [["chelsea.png", 150, 60], ["hubble_deep_field.jpg", 420, 380]];

const [id, configsJson, ...flags] = process.argv.slice(2);
const manifest = await readModelManifest();
const entry = manifest.models.find((model) => model.id === id)!;
const fp32 = await readFile(modelFilePath(entry));
const calibSize = Number(process.env.CALIB_SIZE ?? 64);
const extraCrops: [string, number, number][] = process.env.MORE_CROPS
  ? [["astronaut.png", 40, 200], ["coffee.png", 60, 60], ["rocket.jpg", 200, 200], ["grace_hopper.jpg", 300, 300]]
  : [];
const SIZES: Record<string, [number, number]> = { "astronaut.png": [512, 512], "coffee.png": [600, 400], "rocket.jpg": [640, 427], "grace_hopper.jpg": [512, 600] };
const fit = ([photo, left, top]: [string, number, number]): [string, number, number] => [photo, Math.min(left, SIZES[photo][0] - calibSize), Math.min(top, SIZES[photo][1] - calibSize)];
const calibration = await Promise.all([...CALIBRATION_CROPS, ...extraCrops].map((spec) => photoCrop(entry, fit(spec), calibSize)));
const held = await Promise.all(HELD_APART.map((spec) => photoCrop(entry, spec, 96)));
const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: "all", logSeverityLevel: 3 };
const parent = await ort.InferenceSession.create(modelFilePath(entry), opts);
type Input = { data: Float32Array; dims: number[] };
const run = async (s: ort.InferenceSession, input: Input) =>
  (await s.run({ [s.inputNames[0]]: new ort.Tensor("float32", input.data, input.dims) }))[s.outputNames[0]].data as Float32Array;
const references = [];
for (const input of held) references.push(await run(parent, input));
function psnr(a: Float32Array, b: Float32Array, [low, high]: [number, number]) {
  let sq = 0;
  const c = (v: number) => (v < low ? low : v > high ? high : v);
  for (let i = 0; i < a.length; i++) sq += (c(a[i]) - c(b[i])) ** 2;
  return 10 * Math.log10((high - low) ** 2 / (sq / a.length));
}
const caches = new Map<string, Map<string, { min: number; max: number }>>();
const configs = JSON.parse(configsJson) as ({ name: string; keep?: string } & Record<string, unknown>)[];
const modes = flags.includes("7bit-only") ? [true] : flags.includes("full-only") ? [false] : [false, true];
for (const config of configs) {
  const { name, keep, ...rest } = config;
  const key = `${rest.activationPercentile ?? "minmax"}`;
  if (!caches.has(key)) caches.set(key, new Map());
  const row: string[] = [name];
  for (const reduceRange of modes) {
    const started = performance.now();
    const q = await quantizeModel(fp32, {
      calibration,
      ...rest,
      reduceRange,
      rangeCache: caches.get(key),
      keepFp32: keep ? (n) => new RegExp(keep).test(n) : undefined,
    });
    const quantMs = performance.now() - started;
    if (process.env.SAVE) await writeFile(`/tmp/${id}.${name}.${reduceRange ? 7 : 8}.onnx`, q.bytes);
    const variant = await ort.InferenceSession.create(q.bytes, opts);
    let worst = Infinity;
    for (const [i, input] of held.entries()) worst = Math.min(worst, psnr(references[i], await run(variant, input), entry.valueRange));
    row.push(`${reduceRange ? "7bit" : "full"} ${worst.toFixed(2)} dB (int8 ${q.int8Convs}, fp32 ${q.fp32Convs.length} convs, ${Math.round(quantMs / 1000)} s)`);
    if (flags.includes("gt")) {
      const quality = await judgeInt8Quality({ entry, session: parent }, { entry, session: variant }, []);
      row.push(`GT fp32 ${quality.alone.fp32Db} int8 ${quality.alone.int8Db} loss ${(quality.alone.fp32Db - quality.alone.int8Db).toFixed(3)}`);
    }
    if (!reduceRange && flags.includes("speed")) {
      const tile = await photoCrop(entry, HELD_APART[0], 128);
      await run(parent, tile);
      await run(variant, tile);
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < Number(process.env.ROUNDS ?? 5); i++) {
        let t = performance.now();
        await run(parent, tile);
        a.push(performance.now() - t);
        t = performance.now();
        await run(variant, tile);
        b.push(performance.now() - t);
      }
      const med = (x: number[]) => x.sort((p, q) => p - q)[Math.floor(x.length / 2)];
      row.push(`speed fp32 ${Math.round(med(a))} ms int8 ${Math.round(med(b))} ms ratio ${(med(a) / med(b)).toFixed(2)}x`);
    }
    await variant.release();
  }
  console.log(row.join(" | "));
  if (process.env.RANGES) {
    for (const [k, v] of caches.get(key)!) if (new RegExp(process.env.RANGES).test(k)) console.log(`  ${k} ${v.min.toFixed(3)}..${v.max.toFixed(3)}`);
    delete process.env.RANGES;
  }
}
await parent.release();
