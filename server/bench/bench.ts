// `npm run bench [-- --json] [-- --no-fanout]`: end-to-end speed and memory of the built-in pipelines on real
// photos. Each case runs in fp32 and int8 and in fixed 128 px vs `auto` tiles, side by side in this one run,
// each in its own child process so its peak RSS is its own. Wall time is compared with the sum of pure
// InferenceSession.run time for the same tiles (their ratio is the engine's overhead); achieved GFLOP/s is
// the models' counted convolution work (server/models/flops.ts) over that inference time.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { wholeImageGraph } from "../../fixtures/graphs";
import { centreCrop } from "../../fixtures/photos";
import { precisionFor } from "../../nodes/generate";
import type { Precision, Tensor } from "../../nodes/graph/models";
import type { ParamOverride } from "../../nodes/graph/overrides";
import type { Graph } from "../../nodes/graph/schema";
import { type ModelCost, planTiles } from "../../nodes/image/tile-plan";
import { axisStarts } from "../../nodes/image/tiling";
import { builtInTemplates } from "../../nodes/templates/index";
import { decodeImage } from "../images/codec";
import { InferenceService, memoryBudgetBytes } from "../inference/inference-service";
import { describeSettings } from "../inference/session-settings";
import { flopsPerInputPixel } from "../models/flops";
import { modelsDir, readModelManifest } from "../models/manifest";
import { runPipeline } from "../runs/run-pipeline";
import { redisMissing } from "../test-support/bullmq-services";
import type { FanOutResult } from "./fanout";

interface CaseSpec {
  name: string;
  template: string;
  photo: string;
  size: number; // square crop from the photo's centre
}

const CASES: CaseSpec[] = [
  { name: "x4-chunked 256->1024", template: "x4-chunked", photo: "coffee.png", size: 256 },
  { name: "x4-chunked 512->2048", template: "x4-chunked", photo: "astronaut.png", size: 512 },
  { name: "x8-twice 256->2048", template: "x8-twice", photo: "rocket.jpg", size: 256 },
];
/** The large-output case: int8 with auto tiles only (fp32 in 128 px tiles would take minutes). */
const LARGE: CaseSpec = { name: "x8-twice 512->4096", template: "x8-twice", photo: "astronaut.png", size: 512 };

interface Variant {
  precision: Precision;
  tiles: 128 | "auto";
}
const VARIANTS: Variant[] = [
  { precision: "fp32", tiles: 128 },
  { precision: "fp32", tiles: "auto" },
  { precision: "int8", tiles: 128 },
  { precision: "int8", tiles: "auto" },
];
const variantName = (variant: Variant) => `${variant.precision} ${variant.tiles === "auto" ? "auto" : `${variant.tiles}px`}`;

interface CaseResult {
  name: string;
  variant: string;
  wallMs: number;
  inferenceMs: number;
  overhead: number;
  tiles: number;
  /** Pixels the models wrote per pixel of the final output (1 = one model pass, nothing computed twice). */
  modelPixelsPerOutputPixel: number;
  gflops: number;
  gflopPerSecond: number;
  peakRssMb: number;
  outputMp: number;
}

function variantOverrides(graph: Graph, variant: Variant): ParamOverride[] {
  const overrides: ParamOverride[] = [];
  for (const node of graph.nodes) {
    if (node.type === "chunk") {
      overrides.push({ nodeId: node.id, param: "tileSize", value: variant.tiles });
      overrides.push({ nodeId: node.id, param: "overlap", value: variant.tiles === "auto" ? "auto" : 16 });
    }
    // int8 rows: each model's int8 variant where this machine offers one (precision auto), else its fp32 (said at the start).
    if (node.type === "generate") overrides.push({ nodeId: node.id, param: "precision", value: variant.precision === "int8" ? "auto" : "fp32" });
  }
  return overrides;
}

function generateModels(graph: Graph): string[] {
  return [...new Set(graph.nodes.filter((n) => n.type === "generate").map((n) => String(n.params.model)))];
}

/**
 * Loads each model of the graph and runs it a few times, so timing starts with warm sessions; and has its cost
 * measured (once per machine, kept), so the tile planner's first use is not timed.
 */
async function warmUp(graph: Graph, inference: InferenceService, precision: Precision): Promise<void> {
  for (const model of generateModels(graph)) {
    const used = precision === "int8" ? precisionFor("auto", await inference.describeModel(model), false) : precision;
    await inference.cost(model, used, "cpu");
    const data = new Float32Array(3 * 64 * 64).fill(0.5);
    for (let i = 0; i < 3; i++) await inference.infer(model, { data, dims: [1, 3, 64, 64] }, { provider: "cpu", precision: used });
  }
  inference.stats.ms = 0;
  inference.stats.runs = 0;
}

async function runCase(spec: CaseSpec, variant: Variant, flops: Record<string, number>): Promise<CaseResult> {
  const template = builtInTemplates.find((t) => t.id === spec.template)!;
  const inference = new InferenceService();
  const input = await centreCrop(spec.photo, spec.size);
  await warmUp(template.graph, inference, variant.precision);
  // Counts the pixels each model reads and writes (the engine calls infer once per tile or batch).
  const modelInputPixels = new Map<string, number>();
  let modelOutputPixels = 0;
  const infer = inference.infer.bind(inference);
  inference.infer = async (model: string, tensor: Tensor, options) => {
    const output = await infer(model, tensor, options);
    modelInputPixels.set(model, (modelInputPixels.get(model) ?? 0) + tensor.dims[0] * tensor.dims[2] * tensor.dims[3]);
    modelOutputPixels += output.dims[0] * output.dims[2] * output.dims[3];
    return output;
  };
  let tiles = 0;
  const started = performance.now();
  const result = await runPipeline(template.graph, {
    inference,
    inputs: { input },
    overrides: variantOverrides(template.graph, variant),
    onEvent: (event) => {
      if (event.type === "node-progress" && event.done === 0 && event.nodeId.startsWith("generate")) tiles += event.total;
    },
  });
  const wallMs = performance.now() - started;
  const output = result.outputs[0];
  const outputPixels = output.width * output.height;
  const gflops = [...modelInputPixels].reduce((sum, [model, pixels]) => sum + pixels * flops[model], 0) / 1e9;
  return {
    name: spec.name,
    variant: variantName(variant),
    wallMs: Math.round(wallMs),
    inferenceMs: Math.round(inference.stats.ms),
    overhead: Number((wallMs / inference.stats.ms).toFixed(3)),
    tiles,
    modelPixelsPerOutputPixel: Number((modelOutputPixels / outputPixels).toFixed(2)),
    gflops: Math.round(gflops),
    gflopPerSecond: Math.round(gflops / (inference.stats.ms / 1000)),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    outputMp: Number((outputPixels / 1e6).toFixed(2)),
  };
}

/** A tile memory budget that fits a quarter of a `size` px image: the planner must cut the image to keep to it. */
async function seamTileBudget(inference: InferenceService, model: string, precision: Precision, size: number): Promise<{ budgetBytes: number; cost: ModelCost }> {
  const cost = await inference.cost(model, precision, "cpu");
  return { budgetBytes: cost.baseBytes + cost.bytesPerInputPixel * (size / 2) ** 2, cost };
}

interface SeamResult {
  precision: Precision;
  plan: string;
  /** Auto-tiled vs whole-image output, PSNR over 8-bit RGB: all of it, the overlap bands, the rest. */
  psnrDb: number;
  bandDb: number;
  restDb: number;
}

/**
 * Auto-tiled vs whole-image x4 output of the same model at one precision. The memory budget is set so that the
 * planner must cut this image (auto size and overlap): a budget that fits it whole would test nothing. The
 * overlap bands are scored apart: a seam shows there; int8's rounding noise (fp32 layers' summation order
 * differs with the tile size and can flip a requantization) shows everywhere alike.
 */
async function seamCheck(precision: Precision): Promise<SeamResult> {
  const size = 224;
  const inference = new InferenceService();
  const { budgetBytes, cost } = await seamTileBudget(inference, "esrgan-thick-x4", precision, size);
  process.env.TUDSR_MEMORY_BUDGET_MB = String(budgetBytes / 2 ** 20);
  const plan = planTiles({ width: size, height: size, costs: [cost], budgetBytes: memoryBudgetBytes() });
  const input = await centreCrop("chelsea.png", size);
  const overrides: ParamOverride[] = [{ nodeId: "generate", param: "precision", value: precision }];
  const tiled = (await runPipeline(builtInTemplates.find((t) => t.id === "x4-chunked")!.graph, { inference, inputs: { input }, overrides })).outputs[0];
  const full = (await runPipeline(wholeImageGraph("esrgan-thick-x4"), { inference, inputs: { input }, overrides })).outputs[0];
  const [a, b] = await Promise.all([decodeImage(tiled.bytes), decodeImage(full.bytes)]);
  // Output columns (and rows: the grid is square) where two tiles overlap.
  const starts = axisStarts(size, Math.min(plan.tileSize, size), plan.overlap);
  const inBand = new Uint8Array(size * 4);
  for (let i = 1; i < starts.length; i++) inBand.fill(1, starts[i] * 4, (starts[i - 1] + plan.tileSize) * 4);
  const sums = { all: [0, 0], band: [0, 0], rest: [0, 0] };
  const width = a.image.width;
  const plane = width * a.image.height;
  for (let i = 0; i < a.image.data.length; i++) {
    const p = i % plane;
    const squared = ((a.image.data[i] - b.image.data[i]) * 255) ** 2;
    const where = inBand[p % width] || inBand[Math.floor(p / width)] ? sums.band : sums.rest;
    where[0] += squared;
    where[1]++;
    sums.all[0] += squared;
    sums.all[1]++;
  }
  const db = ([sum, count]: number[]) => (sum === 0 ? Infinity : Number((10 * Math.log10((255 * 255) / (sum / count))).toFixed(2)));
  return {
    precision,
    plan: `${plan.cols}x${plan.rows} tiles of ${plan.tileSize} px, overlap ${plan.overlap}`,
    psnrDb: db(sums.all),
    bandDb: db(sums.band),
    restDb: db(sums.rest),
  };
}

function printCase(result: CaseResult): void {
  console.log(
    `${result.name.padEnd(22)} ${result.variant.padEnd(10)} wall ${String(result.wallMs).padStart(6)} ms  inference ${String(result.inferenceMs).padStart(6)} ms  ` +
      `overhead ${result.overhead.toFixed(3)}x  tiles ${String(result.tiles).padStart(3)}  model px/output px ${result.modelPixelsPerOutputPixel.toFixed(2)}  ` +
      `${String(result.gflopPerSecond).padStart(4)} GFLOP/s  peak RSS ${String(result.peakRssMb).padStart(5)} MB  ${result.outputMp} MP`,
  );
}

async function childMain(caseName: string, out: string): Promise<void> {
  if (caseName === "fanout") {
    const { fanOutBench } = await import("./fanout");
    writeFileSync(out, JSON.stringify(await fanOutBench(() => {})));
    return;
  }
  if (caseName.startsWith("seam ")) {
    writeFileSync(out, JSON.stringify(await seamCheck(caseName.slice(5) as Precision)));
    return;
  }
  const { spec, variant, flops } = JSON.parse(caseName) as { spec: CaseSpec; variant: Variant; flops: Record<string, number> };
  writeFileSync(out, JSON.stringify(await runCase(spec, variant, flops)));
}

async function main(): Promise<void> {
  const caseName = process.env.TUDSR_BENCH_CASE;
  if (caseName !== undefined) return childMain(caseName, process.env.TUDSR_BENCH_OUT!);
  const json = process.argv.includes("--json");
  const say = (line: string) => json || console.log(line);
  const scratch = mkdtempSync(path.join(os.tmpdir(), "tudsr-bench-"));
  const self = fileURLToPath(import.meta.url);
  const inChild = (name: string): unknown => {
    const out = path.join(scratch, "result.json");
    execFileSync(process.execPath, ["--import", "tsx", self], { env: { ...process.env, TUDSR_BENCH_CASE: name, TUDSR_BENCH_OUT: out }, stdio: ["ignore", "ignore", "inherit"] });
    return JSON.parse(readFileSync(out, "utf8"));
  };
  try {
    const inference = new InferenceService();
    say(`ONNX Runtime threading: ${describeSettings(inference.settings)}; tile memory budget ${Math.round(memoryBudgetBytes() / 2 ** 20)} MB; ${os.cpus()[0]?.model ?? "CPU"} x${os.availableParallelism()}`);
    const manifest = await readModelManifest(modelsDir());
    const flops: Record<string, number> = {};
    for (const model of new Set([...CASES, LARGE].flatMap((spec) => generateModels(builtInTemplates.find((t) => t.id === spec.template)!.graph)))) {
      const entry = manifest.models.find((candidate) => candidate.id === model)!;
      flops[model] = await flopsPerInputPixel(path.join(modelsDir(), entry.file), entry.sizeMultiple);
      const int8 = (await inference.describeModel(model)).int8;
      say(`${model}: ${(flops[model] / 1e6).toFixed(2)} MFLOP per input pixel${int8.offered ? "" : `; no int8 variant on this machine, its int8 rows run fp32 (${int8.why})`}`);
    }
    const cases: CaseResult[] = [];
    const speedups: { name: string; int8: number; autoTiles: number; both: number }[] = [];
    for (const spec of CASES) {
      const byVariant = new Map<string, CaseResult>();
      for (const variant of VARIANTS) {
        const result = inChild(JSON.stringify({ spec, variant, flops })) as CaseResult;
        byVariant.set(result.variant, result);
        cases.push(result);
        if (!json) printCase(result);
      }
      const ms = (name: string) => byVariant.get(name)!.wallMs;
      const ratio = (name: string) => Number((ms("fp32 128px") / ms(name)).toFixed(2));
      speedups.push({ name: spec.name, int8: ratio("int8 128px"), autoTiles: ratio("fp32 auto"), both: ratio("int8 auto") });
    }
    const large = inChild(JSON.stringify({ spec: LARGE, variant: { precision: "int8", tiles: "auto" }, flops })) as CaseResult;
    cases.push(large);
    if (!json) printCase(large);
    say("speed-up over fp32 in 128 px tiles (wall time, same run):");
    for (const s of speedups) say(`  ${s.name.padEnd(22)} int8 ${s.int8.toFixed(2)}x   auto tiles ${s.autoTiles.toFixed(2)}x   int8 + auto tiles ${s.both.toFixed(2)}x`);
    const memory = cases.filter((c) => c.variant === "int8 auto");
    say(`int8 auto peak RSS per output: ${memory.map((c) => `${c.outputMp} MP ${c.peakRssMb} MB`).join(", ")}`);
    const seams = (["fp32", "int8"] as const).map((precision) => inChild(`seam ${precision}`) as SeamResult);
    for (const seam of seams) {
      say(
        `seam check ${seam.precision}: auto tiles (${seam.plan}) vs whole-image x4 output, PSNR ${seam.psnrDb} dB ` +
          `(overlap bands ${seam.bandDb} dB, elsewhere ${seam.restDb} dB)`,
      );
    }
    // Tile fan-out over tudsr worker processes (server/bench/fanout.ts): needs redis-server; --no-fanout skips it.
    let fanOut: FanOutResult | { skipped: string } = { skipped: "--no-fanout" };
    if (!process.argv.includes("--no-fanout")) fanOut = redisMissing() ? { skipped: redisMissing() as string } : (inChild("fanout") as FanOutResult);
    // Peak memory of large outputs (server/bench/memory.ts): minutes, so only with --memory.
    const largeOutputs = process.argv.includes("--memory") ? await (await import("./memory")).memoryBench(say) : { skipped: "no --memory" };
    // The shipped defaults against fp32 on ground truth (server/bench/defaults-quality.ts): minutes, so only with --quality.
    const defaultsQuality = process.argv.includes("--quality") ? await (await import("./defaults-quality")).defaultsQualityBench(say) : { skipped: "no --quality" };
    // A model's first run after set-up against a later one, auto tiles by predicted time (server/bench/first-run.ts): minutes, so only with --first-run.
    const firstRun = process.argv.includes("--first-run") ? await (await import("./first-run")).firstRunBench(say) : { skipped: "no --first-run" };
    if (json) console.log(JSON.stringify({ settings: inference.settings, flopsPerInputPixel: flops, cases, speedups, seams, fanOut, largeOutputs, defaultsQuality, firstRun }));
    else if ("skipped" in fanOut) console.log(`fan-out: skipped (${fanOut.skipped})`);
    else {
      console.log(
        `fan-out x8-twice 256->2048 (${fanOut.threadsPerWorker} intra-op thread per worker): 1 worker ${fanOut.oneWorkerMs} ms, 2 workers ${fanOut.twoWorkersMs} ms, ` +
          `speed-up ${fanOut.speedup}x, outputs ${fanOut.identical ? "byte-identical" : "DIFFER"}`,
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
