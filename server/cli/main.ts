import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import type { EngineEvent } from "../../nodes/graph/events";
import { applyOverrides, parseOverride } from "../../nodes/graph/overrides";
import { checkGraph, GraphValidationError, parseGraph, resolveParams } from "../../nodes/graph/validate";
import { nodeRegistry } from "../../nodes/index";
import { saveImageNode } from "../../nodes/save-image";
import { builtInTemplates, findTemplate } from "../../nodes/templates/index";
import { writeFileAtomic } from "../files";
import { InferenceService } from "../inference/inference-service";
import { type PipelineResult, runPipeline } from "../runtime/run-pipeline";
import { asksForHelp, COMMANDS, commandHelp, overview } from "./help";
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

/** Splits `name=path` (or a plain path, meaning `fallback=path`). */
export function named(value: string, fallback: string): [string, string] {
  const match = /^([A-Za-z0-9_-]{1,40})=(.+)$/.exec(value);
  return match ? [match[1], match[2]] : [fallback, value];
}

export async function loadGraph(spec: string): Promise<unknown> {
  const template = findTemplate(spec);
  if (template) return template.graph;
  if (!spec.endsWith(".json")) {
    throw new CliUsageError(`unknown template "${spec}" (templates: ${builtInTemplates.map((t) => t.id).join(", ")}; or give a pipeline .json file)`);
  }
  const text = await readFile(spec, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new CliUsageError(error.code === "ENOENT" ? `pipeline file not found: ${spec}` : `cannot read ${spec}: ${error.message}`);
  });
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliUsageError(`${spec} is not valid JSON: ${(error as Error).message}`);
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
  const parsed = parseGraph(await loadGraph(positionals[0]));
  if (!parsed.graph) throw new GraphValidationError(parsed.problems);
  const graph = checkGraph(applyOverrides(parsed.graph, values.set.map(parseOverride)), nodeRegistry);
  const outputs = new Map(values.output.map((spec) => named(spec, "output")));
  for (const [name, file] of outputs) {
    const format = FORMAT_BY_EXTENSION[path.extname(file).toLowerCase()];
    if (!format) throw new CliUsageError(`--output ${file}: use .png, .jpg or .webp`);
    const saver = graph.nodes.find((node) => node.type === "save-image" && resolveParams(saveImageNode, node.params).output === name);
    if (!saver) throw new CliUsageError(`the pipeline has no save-image node writing the output "${name}"`);
    saver.params.format = format;
  }

  const progress = new ProgressView(!values.json || process.stderr.isTTY);
  let result: PipelineResult;
  try {
    result = await runPipeline(graph, {
      inference: new InferenceService(),
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
