// `npm run bench:plan [-- --json] [-- template...]`: how well the run planner predicts. Every built-in template on
// two input sizes (centre crops of real photos), each run twice, each run in a fresh process of its own (as
// `tudsr run` is: it makes its sessions, and its peak memory is its own): the plan's predicted time and peak
// memory next to the run's engine time and its peak resident memory above the process before the run. The first
// run of a size may predict from the calibration and other tile sizes; it records its times, so the second run
// of the same size predicts from a real run (the figure the planner is held to: within 25%).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { centreCrop } from "../../fixtures/photos";
import { findTemplate } from "../../nodes/templates/index";
import { InferenceService } from "../inference/inference-service";
import { fileSizes, planRun } from "../runs/plan-run";
import { prepareRun } from "../runs/prepare";
import { runPipeline } from "../runs/run-pipeline";

/** Per template: the photo and two sizes small enough for a 2-core machine (the x16 loop's second pass is 16x the first). */
const CASES: { template: string; photo: string; sizes: [number, number] }[] = [
  { template: "x4-chunked", photo: "astronaut.png", sizes: [128, 256] },
  { template: "x8-twice", photo: "rocket.jpg", sizes: [96, 160] },
  { template: "x8-direct", photo: "coffee.png", sizes: [96, 160] },
  { template: "x16-loop", photo: "chelsea.png", sizes: [40, 64] },
  { template: "eval-x4", photo: "astronaut.png", sizes: [256, 384] },
  { template: "eval-x8", photo: "coffee.png", sizes: [256, 384] },
  { template: "x4-real", photo: "grace_hopper.jpg", sizes: [64, 96] },
  { template: "x8-twice-real", photo: "rocket.jpg", sizes: [64, 96] },
  { template: "eval-real-x4", photo: "chelsea.png", sizes: [192, 256] },
];
const TOLERANCE = 0.25;

interface Measured {
  predictedMs: number;
  measuredMs: number;
  predictedPeakBytes: number;
  measuredPeakBytes: number;
  tiles: number;
}

function residentBytes(field: "VmRSS" | "VmHWM"): number {
  const line = readFileSync("/proc/self/status", "utf8").split("\n").find((candidate) => candidate.startsWith(`${field}:`))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

/** One run in this process: plan it, reset the resident high-water mark, run it, compare. */
async function child(template: string, file: string): Promise<void> {
  const graph = findTemplate(template)!.graph;
  const inference = new InferenceService(undefined, Number(process.env.TUDSR_INTRA_OP_THREADS) || undefined);
  const plan = await planRun(await prepareRun(graph, { inference }), { inference, sizes: fileSizes({ input: file }) });
  // Writing 5 to clear_refs resets VmHWM (Linux): the peak is then the run's, from what the process held before it.
  writeFileSync("/proc/self/clear_refs", "5");
  const before = residentBytes("VmRSS");
  const result = await runPipeline(graph, { inference, inputs: { input: file } });
  const measured: Measured = {
    predictedMs: plan.totalMs,
    measuredMs: result.totalMs,
    predictedPeakBytes: plan.peakBytes,
    measuredPeakBytes: residentBytes("VmHWM") - before,
    tiles: plan.nodes.reduce((sum, node) => sum + (node.detail?.kind === "generate" ? node.detail.tiles : 0), 0),
  };
  console.log(JSON.stringify(measured));
}

const ratio = (predicted: number, measured: number) => predicted / measured - 1;
const percent = (value: number) => `${value >= 0 ? "+" : ""}${(value * 100).toFixed(0)}%`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--child") return child(args[1], args[2]);
  const json = args.includes("--json");
  const only = args.filter((arg) => !arg.startsWith("--"));
  const dir = mkdtempSync(path.join(os.tmpdir(), "plan-accuracy-"));
  const self = fileURLToPath(import.meta.url);
  const rows: (Measured & { template: string; size: number; run: number })[] = [];
  console.error(`load before: ${os.loadavg().map((load) => load.toFixed(2)).join(" ")}`);
  try {
    for (const { template, photo, sizes } of CASES.filter((entry) => !only.length || only.includes(entry.template))) {
      for (const size of sizes) {
        const file = path.join(dir, `${template}-${size}.png`);
        writeFileSync(file, await centreCrop(photo, size));
        for (const run of [1, 2]) {
          const output = execFileSync(process.execPath, ["--import", "tsx", self, "--child", template, file], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
          const row = { template, size, run, ...(JSON.parse(output.trim().split("\n").pop()!) as Measured) };
          rows.push(row);
          if (!json) {
            const time = ratio(row.predictedMs, row.measuredMs);
            const memory = ratio(row.predictedPeakBytes, row.measuredPeakBytes);
            console.log(
              `${`${template} ${size}px #${run}`.padEnd(24)} tiles ${String(row.tiles).padStart(3)}  ` +
                `time predicted ${(row.predictedMs / 1000).toFixed(1).padStart(6)} s measured ${(row.measuredMs / 1000).toFixed(1).padStart(6)} s ${percent(time).padStart(5)}  ` +
                `peak predicted ${String(Math.round(row.predictedPeakBytes / 2 ** 20)).padStart(5)} MB measured ${String(Math.round(row.measuredPeakBytes / 2 ** 20)).padStart(5)} MB ${percent(memory).padStart(5)}`,
            );
          }
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const second = rows.filter((row) => row.run === 2);
  const within = (values: number[]) => values.filter((value) => Math.abs(value) <= TOLERANCE).length;
  const times = second.map((row) => ratio(row.predictedMs, row.measuredMs));
  const peaks = second.map((row) => ratio(row.predictedPeakBytes, row.measuredPeakBytes));
  const summary = {
    secondRuns: second.length,
    timeWithin25: within(times),
    peakWithin25: within(peaks),
    worstTime: percent(times.reduce((worst, value) => (Math.abs(value) > Math.abs(worst) ? value : worst), 0)),
    worstPeak: percent(peaks.reduce((worst, value) => (Math.abs(value) > Math.abs(worst) ? value : worst), 0)),
    loadAfter: os.loadavg().map((load) => Number(load.toFixed(2))),
  };
  console.log(json ? JSON.stringify({ rows, summary }) : `second runs within 25%: time ${summary.timeWithin25}/${summary.secondRuns} (worst ${summary.worstTime}), peak memory ${summary.peakWithin25}/${summary.secondRuns} (worst ${summary.worstPeak}); load after: ${summary.loadAfter.join(" ")}`);
}

await main();
