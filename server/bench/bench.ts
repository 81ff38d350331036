// `npm run bench [-- --json]`: end-to-end speed and memory of the built-in pipelines on real photos.
// Each case runs in its own child process so its peak RSS is its own; wall time is compared with the sum
// of pure InferenceSession.run time for the same tiles (their ratio is the engine's overhead).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { wholeImageGraph } from "../../fixtures/graphs";
import { centreCrop } from "../../fixtures/photos";
import type { Graph } from "../../nodes/graph/schema";
import { builtInTemplates } from "../../nodes/templates/index";
import { decodeImage } from "../images/codec";
import { InferenceService } from "../inference/inference-service";
import { runPipeline } from "../runtime/run-pipeline";
import { redisMissing } from "../runs/bullmq/test-services";
import type { FanOutResult } from "./fanout";

interface CaseSpec {
  name: string;
  template: string;
  photo: string;
  size: number; // square crop from the photo's centre
  tileSize?: number;
}

const CASES: CaseSpec[] = [
  { name: "x4-chunked 256->1024", template: "x4-chunked", photo: "coffee.png", size: 256 },
  { name: "x4-chunked 512->2048", template: "x4-chunked", photo: "astronaut.png", size: 512 },
  { name: "x8-twice 256->2048", template: "x8-twice", photo: "rocket.jpg", size: 256 },
  { name: "x4-chunked 512->2048, 64px tiles", template: "x4-chunked", photo: "astronaut.png", size: 512, tileSize: 64 },
];

interface CaseResult {
  name: string;
  wallMs: number;
  inferenceMs: number;
  overhead: number;
  tiles: number;
  peakRssMb: number;
  outputMp: number;
  mpPerSecond: number;
}

function withTileSize(graph: Graph, tileSize: number | undefined): Graph {
  if (!tileSize) return graph;
  const copy = structuredClone(graph);
  for (const node of copy.nodes) if (node.type === "chunk") node.params.tileSize = tileSize;
  return copy;
}

/** Loads each model of the graph and runs it a few times, so timing starts with warm sessions. */
async function warmUp(graph: Graph, inference: InferenceService): Promise<void> {
  for (const model of new Set(graph.nodes.filter((n) => n.type === "generate").map((n) => String(n.params.model)))) {
    const data = new Float32Array(3 * 64 * 64).fill(0.5);
    for (let i = 0; i < 3; i++) await inference.infer(model, { data, dims: [1, 3, 64, 64] }, { provider: "cpu", onMissingProvider: "error" });
  }
  inference.stats.ms = 0;
  inference.stats.runs = 0;
}

async function runCase(spec: CaseSpec): Promise<CaseResult> {
  const template = builtInTemplates.find((t) => t.id === spec.template)!;
  const graph = withTileSize(template.graph, spec.tileSize);
  const inference = new InferenceService();
  const input = await centreCrop(spec.photo, spec.size);
  await warmUp(graph, inference);
  let tiles = 0;
  const started = performance.now();
  const result = await runPipeline(graph, {
    inference,
    inputs: { input },
    onEvent: (event) => {
      if (event.type === "node-progress" && event.done === 0 && event.nodeId.startsWith("generate")) tiles += event.total;
    },
  });
  const wallMs = performance.now() - started;
  const output = result.outputs[0];
  const outputMp = (output.width * output.height) / 1e6;
  return {
    name: spec.name,
    wallMs: Math.round(wallMs),
    inferenceMs: Math.round(inference.stats.ms),
    overhead: Number((wallMs / inference.stats.ms).toFixed(3)),
    tiles,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    outputMp: Number(outputMp.toFixed(2)),
    mpPerSecond: Number((outputMp / (wallMs / 1000)).toFixed(3)),
  };
}

/** Tiled (default chunking) vs whole-image output of the same model, PSNR over 8-bit RGB. */
async function seamPsnr(): Promise<number> {
  const inference = new InferenceService();
  const input = await centreCrop("chelsea.png", 224);
  const tiled = (await runPipeline(builtInTemplates.find((t) => t.id === "x4-chunked")!.graph, { inference, inputs: { input } })).outputs[0];
  const full = (await runPipeline(wholeImageGraph("esrgan-thick-x4"), { inference, inputs: { input } })).outputs[0];
  const [a, b] = await Promise.all([decodeImage(tiled.bytes), decodeImage(full.bytes)]);
  let sum = 0;
  for (let i = 0; i < a.image.data.length; i++) sum += ((a.image.data[i] - b.image.data[i]) * 255) ** 2;
  const mse = sum / a.image.data.length;
  return mse === 0 ? Infinity : Number((10 * Math.log10((255 * 255) / mse)).toFixed(2));
}

async function main(): Promise<void> {
  const caseName = process.env.TUDSR_BENCH_CASE;
  if (caseName !== undefined) {
    if (caseName === "fanout") {
      const { fanOutBench } = await import("./fanout");
      writeFileSync(process.env.TUDSR_BENCH_OUT!, JSON.stringify(await fanOutBench(() => {})));
      return;
    }
    const spec = caseName === "seam" ? undefined : CASES.find((c) => c.name === caseName)!;
    const result = spec ? await runCase(spec) : await seamPsnr();
    writeFileSync(process.env.TUDSR_BENCH_OUT!, JSON.stringify(result));
    return;
  }
  const json = process.argv.includes("--json");
  const scratch = mkdtempSync(path.join(os.tmpdir(), "tudsr-bench-"));
  const self = fileURLToPath(import.meta.url);
  const inChild = (name: string): unknown => {
    const out = path.join(scratch, "result.json");
    execFileSync(process.execPath, ["--import", "tsx", self], { env: { ...process.env, TUDSR_BENCH_CASE: name, TUDSR_BENCH_OUT: out }, stdio: ["ignore", "ignore", "inherit"] });
    return JSON.parse(readFileSync(out, "utf8"));
  };
  try {
    const cases: CaseResult[] = [];
    for (const spec of CASES) {
      const result = inChild(spec.name) as CaseResult;
      cases.push(result);
      if (!json) {
        console.log(
          `${result.name.padEnd(34)} wall ${String(result.wallMs).padStart(7)} ms  inference ${String(result.inferenceMs).padStart(7)} ms  overhead ${result.overhead.toFixed(3)}x  tiles ${String(result.tiles).padStart(4)}  peak RSS ${String(result.peakRssMb).padStart(5)} MB  ${result.outputMp} MP  ${result.mpPerSecond} MP/s`,
        );
      }
    }
    const seamPsnrDb = inChild("seam") as number;
    if (!json) console.log(`seam check: tiled vs whole-image x4 output, PSNR ${seamPsnrDb} dB`);
    // Tile fan-out over tudsr worker processes (server/bench/fanout.ts): needs redis-server; --no-fanout skips it.
    let fanOut: FanOutResult | { skipped: string } = { skipped: "--no-fanout" };
    if (!process.argv.includes("--no-fanout")) fanOut = redisMissing() ? { skipped: redisMissing() as string } : (inChild("fanout") as FanOutResult);
    if (json) console.log(JSON.stringify({ cases, seamPsnrDb, fanOut }));
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
