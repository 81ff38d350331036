// `tudsr plan <template | pipeline.json> --input [name=]<image> [--set node.param=value]... [--json]`: how a run
// will cut its images and what it will cost on this machine, before anything runs: each chunk node's tile grid,
// each generate node's model, precision, provider, tiles and predicted time, the run's total and peak memory.
import { parseArgs } from "node:util";
import { parseOverride } from "../../nodes/graph/overrides";
import type { ChunkPlan, GeneratePlan } from "../../nodes/graph/plan";
import type { RunPlan } from "../../nodes/graph/plan-graph";
import { InferenceService } from "../inference/inference-service";
import { fileSizes, planRun } from "../runs/plan-run";
import { prepareRun } from "../runs/prepare";
import { loadGraph, named } from "./arguments";
import { CliUsageError } from "./usage-error";

export async function planCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: "string", multiple: true, default: [] },
      set: { type: "string", multiple: true, default: [] },
      json: { type: "boolean", default: false },
    },
  }) as { values: { input: string[]; set: string[]; json: boolean }; positionals: string[] };
  if (positionals.length !== 1) {
    throw new CliUsageError(`plan takes one template id or pipeline file, got ${positionals.length ? positionals.join(" ") : "none"} (tudsr plan --help)`);
  }
  const files = Object.fromEntries(values.input.map((spec) => named(spec, "input")));
  const inference = new InferenceService(undefined, Number(process.env.TUDSR_INTRA_OP_THREADS) || undefined);
  const prepared = await prepareRun(await loadGraph(positionals[0]), { inference, overrides: values.set.map(parseOverride) });
  const plan = await planRun(prepared, { inference, sizes: fileSizes(files) });
  console.log(values.json ? JSON.stringify(plan) : formatPlan(plan).join("\n"));
  return 0;
}

const seconds = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const megabytes = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;

function chunkLine(detail: ChunkPlan): string {
  const count = detail.rects.length;
  return `${detail.source.width}x${detail.source.height} -> ${count} tile${count === 1 ? "" : "s"} (${detail.cols}x${detail.rows}) of ${detail.tileWidth}x${detail.tileHeight}, overlap ${detail.overlap}`;
}

function generateLine(detail: GeneratePlan): string {
  const provider = detail.providerUsed === detail.provider ? detail.provider : `${detail.providerUsed} (${detail.provider} is not available here)`;
  return (
    `${detail.model} x${detail.scale} ${detail.precision} on ${provider}: ${detail.tiles} tile${detail.tiles === 1 ? "" : "s"} of ${detail.tileWidth}x${detail.tileHeight}, ` +
    `${detail.modelPixelsPerOutputPixel.toFixed(2)} model px per output px`
  );
}

/** The plan as lines: one per node (and loop pass), then the totals. */
export function formatPlan(plan: RunPlan): string[] {
  const lines = Object.entries(plan.inputs).map(([name, size]) => `  input ${name}: ${size.width}x${size.height}`);
  for (const node of plan.nodes) {
    const id = node.iteration === undefined ? node.nodeId : `${node.nodeId}#${node.iteration + 1}`;
    const image = node.outputs.image?.kind === "image" ? `-> ${node.outputs.image.width}x${node.outputs.image.height}` : "";
    const what = node.detail?.kind === "chunk" ? chunkLine(node.detail) : node.detail?.kind === "generate" ? generateLine(node.detail) : image;
    const basis = node.detail?.kind === "generate" ? ` (${{ runs: "from real runs", calibration: "from the calibration", estimate: "a conservative estimate while the model is measured" }[node.detail.basis]})` : "";
    lines.push(`  ${id.padEnd(14)} ${node.type.padEnd(11)} ${seconds(node.ms).padStart(7)}${basis.padEnd(24)} ${what}`);
  }
  lines.push(`  predicted total ${seconds(plan.totalMs)}, peak memory ${megabytes(plan.peakBytes)} (while ${plan.peakNodeId} runs)`);
  return lines;
}
