import cliProgress from "cli-progress";
import { access } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import type { EngineEvent } from "../../nodes/graph/events";
import { parseOverride } from "../../nodes/graph/overrides";
import { setParam } from "../../nodes/graph/prepared-graph";
import { InferenceService } from "../inference/inference-service";
import { writeFileAtomic } from "../platform/files";
import { prepareRun } from "../runs/prepare";
import { type PipelineResult, runPrepared } from "../runs/run-pipeline";
import { loadGraph, named } from "./arguments";
import { asksForHelp, commandHelp, COMMANDS, overview } from "./help";
import { CliUsageError } from "./usage-error";

const FORMAT_BY_EXTENSION: Record<string, "png" | "jpeg" | "webp"> = { ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp" };

/** Runs the CLI; returns the exit code. Every failure is one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command !== undefined && Object.hasOwn(COMMANDS, command) && asksForHelp(rest)) {
      console.log(commandHelp(command));
      return 0;
    }
    switch (command) {
      case "run":
        return await runCommand(rest);
      case "keys":
        // Loaded on use: the database and API modules stay out of local runs' start-up.
        return await (await import("./keys")).keysCommand(rest);
      case "ui-link":
        return await (await import("./keys")).uiLinkCommand(rest);
      case "worker":
        return await (await import("./worker")).workerCommand(rest);
      case "templates":
        return await (await import("./templates")).templatesCommand(rest);
      case "models":
        return await (await import("./models")).modelsCommand(rest);
      case "plan":
        return await (await import("./plan")).planCommand(rest);
      case "help":
        if (rest[0] !== undefined && !Object.hasOwn(COMMANDS, rest[0])) throw new CliUsageError(`no command "${rest[0]}" (commands: ${Object.keys(COMMANDS).join(", ")})`);
        console.log(rest[0] === undefined ? overview() : commandHelp(rest[0]));
        return 0;
      case undefined:
      case "--help":
      case "-h":
        console.log(overview());
        return command ? 0 : 2;
      default:
        throw new CliUsageError(`unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(", ")}; tudsr --help)`);
    }
  } catch (error) {
    console.error(`tudsr: ${(error as Error).message}`);
    return error instanceof CliUsageError ? 2 : 1;
  }
}

async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: "string", multiple: true, default: [] },
      output: { type: "string", multiple: true, default: [] },
      set: { type: "string", multiple: true, default: [] },
      json: { type: "boolean", default: false },
      server: { type: "string" },
      key: { type: "string" },
    },
  }).valueOf() as {
    values: { input: string[]; output: string[]; set: string[]; json: boolean; server?: string; key?: string };
    positionals: string[];
  };
  if (positionals.length !== 1) {
    throw new CliUsageError(`run takes one template id or pipeline file, got ${positionals.length ? positionals.join(" ") : "none"} (tudsr run --help)`);
  }
  if (values.server !== undefined) {
    const key = values.key ?? process.env.TUDSR_API_KEY;
    if (!key) throw new CliUsageError("--server needs an API key: --key <key> or TUDSR_API_KEY (create one on the server: `npx tudsr keys create <name>`)");
    const inputs = Object.fromEntries(values.input.map((spec) => named(spec, "input")));
    const outputs = new Map(values.output.map((spec) => named(spec, "output")));
    return (await import("./remote")).remoteRun({ server: values.server, key, spec: positionals[0], inputs, outputs, set: values.set, json: values.json });
  }
  if (values.key !== undefined) throw new CliUsageError("--key is for remote runs: add --server <url>");
  const inputs: Record<string, string> = {};
  for (const spec of values.input) {
    const [name, file] = named(spec, "input");
    await access(file).catch(() => {
      throw new CliUsageError(`input file not found: ${file}`);
    });
    inputs[name] = file;
  }
  const inference = new InferenceService();
  const prepared = await prepareRun(await loadGraph(positionals[0]), { inference, overrides: values.set.map(parseOverride) });
  const outputs = new Map(values.output.map((spec) => named(spec, "output")));
  for (const [name, file] of outputs) {
    const format = FORMAT_BY_EXTENSION[path.extname(file).toLowerCase()];
    if (!format) throw new CliUsageError(`--output ${file}: use .png, .jpg or .webp`);
    const saver = prepared.graph.nodes.find((node) => node.type === "save-image" && prepared.compiled.params.get(node.id)!.output === name);
    if (!saver) throw new CliUsageError(`the pipeline has no save-image node writing the output "${name}"`);
    setParam(prepared, saver.id, "format", format);
  }

  const progress = new ProgressView(!values.json || process.stderr.isTTY);
  let result: PipelineResult;
  try {
    result = await runPrepared(prepared, {
      inference,
      inputs,
      onEvent: (event) => progress.handle(event),
    });
  } finally {
    progress.stop();
  }

  const written: Record<string, string> = {};
  for (const [name, file] of outputs) {
    const output = result.outputs.find((candidate) => candidate.name === name)!;
    await writeFileAtomic(file, output.bytes);
    written[name] = file;
  }
  const summary = {
    outputs: result.outputs.map(({ name, format, width, height, bytes }) => ({ name, file: written[name] ?? null, format, width, height, bytes: bytes.length })),
    metrics: result.metrics,
    nodes: result.nodes.map(({ id, type, ms }) => ({ id, type, ms: Math.round(ms) })),
    totalMs: Math.round(result.totalMs),
  };
  if (values.json) {
    console.log(JSON.stringify(summary));
  } else {
    printSummary(summary);
  }
  return 0;
}

function printSummary(summary: {
  outputs: { name: string; file: string | null; width: number; height: number }[];
  metrics: { label: string; psnr: number; ssim: number }[];
  nodes: { id: string; type: string; ms: number }[];
  totalMs: number;
}): void {
  for (const node of summary.nodes) console.log(`  ${node.id.padEnd(18)} ${node.type.padEnd(12)} ${String(node.ms).padStart(8)} ms`);
  console.log(`  ${"total".padEnd(31)} ${String(summary.totalMs).padStart(8)} ms`);
  for (const metric of summary.metrics) {
    console.log(`  ${metric.label.padEnd(24)} PSNR ${metric.psnr.toFixed(2)} dB  SSIM ${metric.ssim.toFixed(4)}`);
  }
  for (const output of summary.outputs) {
    console.log(`  ${output.name}: ${output.width}x${output.height}${output.file ? ` -> ${output.file}` : " (not written: no --output for it)"}`);
  }
}

/** A progress bar per node (tiles done/total) on a terminal; plain lines when stderr is not one. */
class ProgressView {
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly multibar?: cliProgress.MultiBar;

  constructor(private readonly enabled: boolean) {
    if (enabled && process.stderr.isTTY) {
      this.multibar = new cliProgress.MultiBar(
        { stream: process.stderr, format: " {node} |{bar}| {value}/{total} {status}", hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  handle(event: EngineEvent): void {
    if (!this.enabled) return;
    if (!this.multibar) {
      if (event.type === "node-finished" && event.iteration === undefined) console.error(`  ${event.nodeId} done in ${Math.round(event.ms)} ms${event.cached ? " (cached)" : ""}`);
      if (event.type === "node-log") console.error(`  ${event.nodeId}: ${event.message}`);
      if (event.type === "node-failed") console.error(`  ${event.nodeId} failed: ${event.message}`);
      return;
    }
    const bar = (nodeId: string) => {
      let existing = this.bars.get(nodeId);
      if (!existing) {
        existing = this.multibar!.create(1, 0, { node: nodeId.padEnd(16), status: "" });
        this.bars.set(nodeId, existing);
      }
      return existing;
    };
    switch (event.type) {
      case "node-started":
        bar(event.nodeId).update({ status: "running" });
        break;
      case "node-progress":
        bar(event.nodeId).setTotal(event.total);
        bar(event.nodeId).update(event.done);
        break;
      case "node-finished": {
        const b = bar(event.nodeId);
        b.setTotal(1);
        b.update(1, { status: `${Math.round(event.ms)} ms` });
        break;
      }
      case "node-failed":
        bar(event.nodeId).update({ status: `failed: ${event.message}` });
        break;
      case "node-log":
        this.multibar.log(`${event.nodeId}: ${event.message}\n`);
        break;
    }
  }

  stop(): void {
    this.multibar?.stop();
  }
}
