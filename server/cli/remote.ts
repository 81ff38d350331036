// `tudsr run ... --server <url> --key <key>`: the same run, on a studio server, through its HTTP API (the one
// the README documents for scripts): upload the inputs, start the run, follow its events, download the outputs.
import { readFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { parseOverride } from "../../nodes/graph/overrides";
import { writeFileAtomic } from "../platform/files";
import { CliUsageError } from "./usage-error";

export interface RemoteRunOptions {
  server: string;
  key: string;
  /** Template slug, saved pipeline id, or a pipeline .json file. */
  spec: string;
  /** Input name -> local file. */
  inputs: Record<string, string>;
  /** Output name -> local file. */
  outputs: Map<string, string>;
  set: string[];
  json: boolean;
}

interface ArtifactInfo {
  id: string;
  name: string | null;
  width: number;
  height: number;
  format: string;
}

interface RunDetail {
  id: string;
  status: string;
  error: string | null;
  errorNodeId: string | null;
  nodes: { id: string; type: string; ms: number }[];
  totalMs: number | null;
  metrics: { label: string; psnr: number; ssim: number }[];
  outputs: ArtifactInfo[];
}

type RunEvent = { type: string; nodeId?: string; ms?: number; message?: string; done?: number; total?: number; cached?: boolean; iteration?: number };

const FINAL = ["succeeded", "failed", "canceled", "interrupted"];
const FORMAT_BY_EXTENSION: Record<string, "png" | "jpeg" | "webp"> = { ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp" };

class RemoteError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

class Client {
  constructor(
    private readonly base: string,
    private readonly key: string,
  ) {}

  async request(method: string, route: string, init: { body?: BodyInit; headers?: Record<string, string> } = {}): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${route}`, {
        method,
        body: init.body,
        headers: { authorization: `Bearer ${this.key}`, ...init.headers },
      });
    } catch (error) {
      throw new Error(`cannot reach ${this.base}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`);
    }
    if (!response.ok) {
      const text = await response.text();
      let message = text.slice(0, 500);
      try {
        const body = JSON.parse(text) as { error?: { message?: string; problems?: { nodeId?: string; edgeId?: string; message: string }[] } };
        message = body.error?.message ?? message;
      } catch {
        // not JSON: keep the text
      }
      const hint = response.status === 401 ? " (check --key / TUDSR_API_KEY: `npx tudsr keys list` on the server)" : "";
      throw new RemoteError(response.status, `${method} ${route}: ${response.status} ${message}${hint}`);
    }
    return response;
  }

  async json<T>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await this.request(method, route, body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    return (await response.json()) as T;
  }
}

export async function remoteRun(options: RemoteRunOptions): Promise<number> {
  const base = options.server.replace(/\/+$/, "");
  if (!/^https?:\/\//.test(base)) throw new CliUsageError(`--server must be an http(s) URL, e.g. http://127.0.0.1:3000 (got "${options.server}")`);
  for (const [name, file] of options.outputs) {
    if (!FORMAT_BY_EXTENSION[path.extname(file).toLowerCase()]) throw new CliUsageError(`--output ${name}=${file}: use .png, .jpg or .webp`);
  }
  const client = new Client(base, options.key);
  const overrides = options.set.map(parseOverride);

  const inputs: Record<string, string> = {};
  for (const [name, file] of Object.entries(options.inputs)) {
    const bytes = await readFile(file).catch(() => {
      throw new CliUsageError(`input file not found: ${file}`);
    });
    const uploaded = (await (
      await client.request("POST", `/api/v1/artifacts?name=${encodeURIComponent(path.basename(file))}`, {
        body: new Uint8Array(bytes),
        headers: { "content-type": "application/octet-stream" },
      })
    ).json()) as ArtifactInfo;
    inputs[name] = uploaded.id;
    log(options, `uploaded ${file} as ${uploaded.id} (${uploaded.width}x${uploaded.height})`);
  }

  const run = await startRun(client, options.spec, overrides, inputs);
  log(options, `run ${run.id} queued on ${base}`);

  let canceled = false;
  const onInterrupt = () => {
    if (canceled) process.exit(130);
    canceled = true;
    log(options, `canceling run ${run.id}... (Ctrl-C again to leave it running)`);
    void client.json("POST", `/api/v1/runs/${run.id}/cancel`).catch(() => undefined);
  };
  process.on("SIGINT", onInterrupt);
  let final: RunDetail;
  try {
    final = await follow(client, run.id, options);
  } finally {
    process.off("SIGINT", onInterrupt);
  }

  if (final.status !== "succeeded") {
    const where = final.errorNodeId ? ` at node "${final.errorNodeId}"` : "";
    throw new Error(`run ${final.id} ${final.status}${where}${final.error ? `: ${final.error}` : ""}`);
  }
  const written: Record<string, string> = {};
  for (const [name, file] of options.outputs) {
    const artifact = final.outputs.find((output) => output.name === name);
    if (!artifact) throw new Error(`the run has no output "${name}" (outputs: ${final.outputs.map((output) => output.name).join(", ") || "none"})`);
    const bytes = Buffer.from(await (await client.request("GET", `/api/v1/artifacts/${artifact.id}`)).arrayBuffer());
    const format = FORMAT_BY_EXTENSION[path.extname(file).toLowerCase()];
    // The server encodes in the graph's format; the extension asked for decides, as for local runs.
    await writeFileAtomic(file, format === artifact.format ? bytes : await sharp(bytes).toFormat(format).toBuffer());
    written[name] = file;
  }
  const summary = {
    run: final.id,
    outputs: final.outputs.map(({ id, name, format, width, height }) => ({ name, artifact: id, file: written[name ?? ""] ?? null, format, width, height })),
    metrics: final.metrics,
    nodes: final.nodes.map(({ id, type, ms }) => ({ id, type, ms: Math.round(ms) })),
    totalMs: Math.round(final.totalMs ?? 0),
  };
  if (options.json) {
    console.log(JSON.stringify(summary));
  } else {
    for (const node of summary.nodes) console.log(`  ${node.id.padEnd(18)} ${node.type.padEnd(12)} ${String(node.ms).padStart(8)} ms`);
    console.log(`  ${"total".padEnd(31)} ${String(summary.totalMs).padStart(8)} ms`);
    for (const metric of summary.metrics) console.log(`  ${metric.label.padEnd(24)} PSNR ${metric.psnr.toFixed(2)} dB  SSIM ${metric.ssim.toFixed(4)}`);
    for (const output of summary.outputs) {
      console.log(`  ${output.name}: ${output.width}x${output.height}${output.file ? ` -> ${output.file}` : " (not downloaded: no --output for it)"}`);
    }
  }
  return 0;
}

function log(options: RemoteRunOptions, message: string): void {
  if (!options.json || process.stderr.isTTY) console.error(`  ${message}`);
}

/** A .json file is sent as the graph; otherwise the spec is a template slug, else a saved pipeline's id. */
async function startRun(client: Client, spec: string, overrides: ReturnType<typeof parseOverride>[], inputs: Record<string, string>): Promise<RunDetail> {
  if (spec.endsWith(".json")) {
    const text = await readFile(spec, "utf8").catch(() => {
      throw new CliUsageError(`pipeline file not found: ${spec}`);
    });
    let graph: unknown;
    try {
      graph = JSON.parse(text);
    } catch (error) {
      throw new CliUsageError(`${spec} is not valid JSON: ${(error as Error).message}`);
    }
    return client.json<RunDetail>("POST", "/api/v1/runs", { graph, overrides, inputs });
  }
  try {
    return await client.json<RunDetail>("POST", "/api/v1/runs", { template: spec, overrides, inputs });
  } catch (error) {
    if (!(error instanceof RemoteError && error.status === 404 && /template "/.test(error.message))) throw error;
  }
  try {
    return await client.json<RunDetail>("POST", "/api/v1/runs", { pipelineId: spec, overrides, inputs });
  } catch (error) {
    if (error instanceof RemoteError && error.status === 404 && /pipeline "/.test(error.message)) {
      throw new CliUsageError(`"${spec}" is neither a template nor a saved pipeline on the server`);
    }
    throw error;
  }
}

/** Follows the run's SSE events (progress lines on stderr); polls instead when the stream breaks. */
async function follow(client: Client, runId: string, options: RemoteRunOptions): Promise<RunDetail> {
  try {
    const response = await client.request("GET", `/api/v1/runs/${runId}/events`, { headers: { accept: "text/event-stream" } });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    const progress = new Map<string, number>();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame
          .split("\n")
          .filter((line) => line.startsWith("data: "))
          .map((line) => line.slice(6))
          .join("\n");
        if (!data) continue;
        const event = JSON.parse(data) as RunEvent & { run?: { status: string } };
        showEvent(event, progress, options);
        if (event.type.startsWith("run-") && FINAL.includes(event.type.slice(4))) {
          await reader.cancel().catch(() => undefined);
          return client.json<RunDetail>("GET", `/api/v1/runs/${runId}`);
        }
        if (event.type === "run-snapshot" && event.run && FINAL.includes(event.run.status)) {
          await reader.cancel().catch(() => undefined);
          return client.json<RunDetail>("GET", `/api/v1/runs/${runId}`);
        }
      }
    }
  } catch (error) {
    if (error instanceof RemoteError && error.status === 401) throw error;
    log(options, `event stream lost (${(error as Error).message}); polling`);
  }
  for (;;) {
    const run = await client.json<RunDetail>("GET", `/api/v1/runs/${runId}`);
    if (FINAL.includes(run.status)) return run;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function showEvent(event: RunEvent, progress: Map<string, number>, options: RemoteRunOptions): void {
  switch (event.type) {
    case "run-started":
      log(options, "running");
      break;
    case "node-progress": {
      // A line per quarter of a node's tiles, so a log stays short.
      const quarter = Math.floor((4 * (event.done ?? 0)) / Math.max(1, event.total ?? 1));
      if (quarter > (progress.get(event.nodeId!) ?? 0)) {
        progress.set(event.nodeId!, quarter);
        log(options, `${event.nodeId}: ${event.done}/${event.total}`);
      }
      break;
    }
    case "node-finished":
      if (event.iteration === undefined) log(options, `${event.nodeId} done in ${Math.round(event.ms ?? 0)} ms${event.cached ? " (cached)" : ""}`);
      break;
    case "node-log":
      log(options, `${event.nodeId}: ${event.message}`);
      break;
    case "node-failed":
      log(options, `${event.nodeId} failed: ${event.message}`);
      break;
  }
}
