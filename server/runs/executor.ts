// Executes one claimed run: prepares its graph (prepare.ts), runs it (runPrepared), stores its outputs as artifacts,
// records how it ended and publishes its events. The embedded worker and the BullMQ job executor both use it.
import { CanceledError } from "../../nodes/graph/define-node";
import { NodeRunError, type NodeTiming } from "../../nodes/graph/engine";
import type { EngineEvent } from "../../nodes/graph/events";
import type { RunHost } from "../../nodes/graph/host";
import type { Graph } from "../../nodes/graph/schema";
import { formatProblem, GraphValidationError } from "../../nodes/graph/validate";
import { readArtifact, readArtifactContent } from "../db/artifacts";
import { getDb } from "../db/client";
import type { RunStamp } from "../db/run-stamp";
import { type ClaimedRun, finishRun, getRun, getRunStamp, handBackRun, type RunOutcome } from "../db/runs";
import { InferenceService } from "../inference/inference-service";
import { type OutputFile, removeRunOutputFiles, uploadLimits, writeOutputFile } from "../storage/artifacts";
import { artifactStore, LocalArtifactStore } from "../storage/store";
import { publishRunEvent } from "./events";
import { type ExecutorNodeCache, executorNodeCache } from "./node-cache";
import { prepareRun } from "./prepare";
import { RunPreviews } from "./previews";
import { runPrepared } from "./run-pipeline";
import { ABORT_HANDBACK, ABORT_SHUTDOWN } from "./run-queue";
import { RunStamper } from "./stamp";
import { stampDifferences } from "./stamp-diff";
import { RunTileMap } from "./tile-map";

/** Who runs a run on the distributed queue: the claim token the row is owned by, and the worker's name. */
export interface RunClaim {
  owner: string;
  worker: string;
}

/**
 * How an execution ended: `recorded` (its outcome is the run's), `not-recorded` (the row had moved on: a
 * cancel, a recovery, or another worker owning it now), `handed-back` (aborted with ABORT_HANDBACK by a
 * worker shutting down: the row is queued again, for another worker).
 */
export type ExecuteResult = "recorded" | "not-recorded" | "handed-back";

export interface RunExecutor {
  /** Executes a claimed run to its end and records it (under `claim` on the distributed queue). */
  execute(run: ClaimedRun, signal: AbortSignal, claim?: RunClaim): Promise<ExecuteResult>;
}

export interface RunExecutorOptions {
  inference?: InferenceService;
  /** Pixel limit of run inputs; default $TUDSR_MAX_PIXELS (64 MP). */
  maxPixels?: number;
  /**
   * Node outputs kept across this worker's runs, so a re-run executes only what changed; default: one of
   * $TUDSR_NODE_CACHE_MB megabytes (1024; 0 turns it off). null: no cache.
   */
  nodeCache?: ExecutorNodeCache | null;
  /** The distributed queue's tile fan-out for a claimed run (server/runs/bullmq/tiles.ts); `onBatch` hears which worker ran each batch. */
  fanOutTiles?: (runId: string, owner: string, onBatch: (nodeId: string, worker: string) => void) => RunHost["fanOutTiles"];
}

/** The part of a worker that executes one claimed run: prepared, run, outputs stored, outcome recorded, events. */
export function createRunExecutor(options: RunExecutorOptions = {}): RunExecutor {
  const inference = options.inference ?? new InferenceService();
  const maxPixels = options.maxPixels ?? uploadLimits().maxPixels;
  const nodeCache = options.nodeCache === undefined ? executorNodeCache() : (options.nodeCache ?? undefined);

  async function execute(run: ClaimedRun, signal: AbortSignal, claim?: RunClaim): Promise<ExecuteResult> {
    publishRunEvent({ type: "run-started", runId: run.id });
    const timings = new TimingsFromEvents(run.graph);
    const previews = new RunPreviews(run.graph, (nodeId, preview) => publishRunEvent({ type: "node-preview", runId: run.id, nodeId, ...preview }));
    const tileMap = new RunTileMap((update) => publishRunEvent({ ...update, runId: run.id }));
    let outcome: RunOutcome;
    let stamper: RunStamper | undefined;
    let rerun: RerunCheck | undefined;
    const outputs: OutputFile[] = [];
    // Outputs of a distributed run go under its claim, so a stale worker never touches another attempt's files.
    const attempt = claim?.owner;
    try {
      const inputs: Record<string, string | Buffer> = {};
      // The local store hands the engine file paths (as before); any other store, the bytes.
      const local = artifactStore() instanceof LocalArtifactStore;
      for (const [name, artifactId] of Object.entries(run.inputs)) {
        inputs[name] = local ? (await readArtifact(artifactId)).file : (await readArtifactContent(artifactId)).bytes;
      }
      const prepared = await prepareRun(run.graph, { inference });
      stamper = await RunStamper.start(prepared, inputs, inference);
      if (run.rerun) {
        rerun = await checkRerun(run.rerun, stamper.current);
        if (rerun.refused) throw new RerunMismatchError(`not an exact re-run of ${rerun.of}, the stamp differs: ${rerun.before.join("; ")} (re-run it with force to run it anyway)`);
      }
      const result = await runPrepared(prepared, {
        inference,
        inputs,
        signal,
        maxPixels,
        // A re-run exactly executes every node: served from the cache, it would prove nothing.
        cache: run.rerun ? undefined : await nodeCache?.forRun(),
        // ...and cuts the tiles it cut: `auto` sizes follow measurements and the budget, which may have changed.
        repeatTiles: rerun?.recorded.tiles,
        onEvent: (event) => {
          if (event.type === "tile-started" || event.type === "tile-done") return tileMap.add(event);
          timings.add(event);
          publishRunEvent({ ...event, runId: run.id });
        },
        onOutputs: (nodeId, values, iteration) => {
          previews.onOutputs(nodeId, values, iteration);
          stamper!.onOutputs(nodeId, values, iteration);
        },
        onTileImage: tileMap.onTileImage,
        fanOutTiles: claim && options.fanOutTiles ? options.fanOutTiles(run.id, claim.owner, (nodeId, worker) => timings.tileBatch(nodeId, worker)) : undefined,
      });
      if (signal.aborted) throw new CanceledError();
      for (const output of result.outputs) outputs.push(await writeOutputFile(run.id, output, attempt));
      outcome = { status: "succeeded", outputs, nodes: timings.withTileWorkers(result.nodes), totalMs: result.totalMs, metrics: result.metrics };
    } catch (error) {
      outcome = failure(error, signal, timings.list());
    }
    if (stamper) outcome.stamp = finishStamp(stamper, rerun);
    if (claim && signal.aborted && signal.reason === ABORT_HANDBACK) {
      // The worker is shutting down: the run goes back to the queue (for another worker) instead of ending.
      if (outputs.length > 0) await removeRunOutputFiles(run.id, attempt);
      await Promise.all([previews.flush(), tileMap.flush()]);
      if (await handBackRun(run.id, claim.owner)) {
        publishRunEvent({ type: "run-queued", runId: run.id });
        return "handed-back";
      }
      // Canceled (or taken over) meanwhile: record what it is now, as for any other end.
      outcome = { status: "canceled", nodes: timings.list() };
    }
    let recorded = false;
    try {
      recorded = await record(run.id, outcome, claim?.owner);
    } finally {
      // Outputs are kept only by a run recorded as succeeded (not one canceled while it finished).
      if (!(recorded && outcome.status === "succeeded") && outputs.length > 0) await removeRunOutputFiles(run.id, attempt);
    }
    // Before the final event, which ends every watch of the run (the last previews are a few ms of encoding).
    await Promise.all([previews.flush(), tileMap.flush()]);
    // A stale worker (another claim owns the row now) publishes no end: the run has not ended.
    if (claim && !recorded && !(await ownedOrEnded(run.id, claim.owner))) return "not-recorded";
    const stored = await getRun(run.id);
    if (stored.status === "succeeded") {
      const files = stored.outputs.map((artifact) => ({
        name: artifact.name ?? "",
        artifactId: artifact.id,
        width: artifact.width,
        height: artifact.height,
        format: artifact.format,
      }));
      publishRunEvent({ type: "run-succeeded", runId: run.id, outputs: files, totalMs: stored.totalMs ?? 0 });
    } else if (stored.status === "failed") {
      publishRunEvent({ type: "run-failed", runId: run.id, message: stored.error ?? "failed", nodeId: stored.errorNodeId });
    } else if (stored.status === "canceled" || stored.status === "interrupted") {
      publishRunEvent({ type: `run-${stored.status}`, runId: run.id });
    }
    return recorded ? "recorded" : "not-recorded";
  }

  return { execute };
}

/** A re-run exactly: the stamp it repeats, and what differs from it before the engine runs. */
interface RerunCheck {
  of: string;
  force: boolean;
  recorded: RunStamp;
  before: string[];
  /**
   * Unless forced, a difference fails the run before anything runs: "exactly" is the promise, and other model
   * bytes or kernels would break it silently.
   */
  refused: boolean;
}

class RerunMismatchError extends Error {}

/** Compares the stamp of this machine now with the recorded one. */
async function checkRerun(rerun: { of: string; force: boolean }, now: RunStamp): Promise<RerunCheck> {
  const recorded = await getRunStamp(rerun.of);
  const before = stampDifferences(recorded, now, "before");
  return { ...rerun, recorded, before, refused: before.length > 0 && !rerun.force };
}

/** The run's whole stamp; a re-run's also says what differed from the one it repeats (after a run: also tiles and providers). */
function finishStamp(stamper: RunStamper, rerun: RerunCheck | undefined): RunStamp {
  if (!rerun) return stamper.finish();
  const differences = rerun.refused ? rerun.before : stampDifferences(rerun.recorded, stamper.finish(), "after");
  return stamper.finish({ of: rerun.of, forced: rerun.force, differences });
}

/** True unless another claim is running the run now. */
async function ownedOrEnded(runId: string, owner: string): Promise<boolean> {
  const row = await (await getDb()).run.findUnique({ where: { id: runId }, select: { status: true, owner: true } });
  return !row || row.status !== "running" || row.owner === owner;
}

/** finishRun, retried a few times: a busy database must not leave a finished run `running`. */
async function record(runId: string, outcome: RunOutcome, owner?: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await finishRun(runId, outcome, owner);
    } catch (error) {
      if (attempt >= 5) throw error;
      console.error(`run worker: recording run ${runId} failed (attempt ${attempt} of 5, retrying): ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

function failure(error: unknown, signal: AbortSignal, nodes: NodeTiming[]): RunOutcome {
  if (signal.aborted) {
    return signal.reason === ABORT_SHUTDOWN
      ? { status: "interrupted", nodes, error: "the worker stopped (shutdown) before the run finished" }
      : { status: "canceled", nodes };
  }
  if (error instanceof CanceledError) return { status: "canceled", nodes };
  if (error instanceof NodeRunError) return { status: "failed", error: error.message, errorNodeId: error.nodeId, nodes };
  if (error instanceof GraphValidationError) {
    return { status: "failed", error: `invalid graph: ${error.problems.map(formatProblem).join("; ")}`, nodes };
  }
  return { status: "failed", error: error instanceof Error ? error.message : String(error), nodes };
}

/** Per-node timings gathered from engine events, for runs that end before the engine returns its own. */
class TimingsFromEvents {
  private readonly nodes = new Map<string, NodeTiming>();
  private readonly tileWorkers = new Map<string, Record<string, number>>();
  private readonly types: Map<string, string>;

  constructor(graph: Graph) {
    this.types = new Map(graph.nodes.map((node) => [node.id, node.type]));
  }

  add(event: EngineEvent): void {
    if (event.type === "node-started" && !this.nodes.has(event.nodeId)) {
      this.nodes.set(event.nodeId, { id: event.nodeId, type: event.nodeType, ms: 0, cached: false, runs: 0 });
    } else if (event.type === "node-finished") {
      // A node served from the cache finishes without starting.
      let timing = this.nodes.get(event.nodeId);
      if (!timing && event.cached) {
        timing = { id: event.nodeId, type: this.types.get(event.nodeId) ?? "", ms: 0, cached: true, runs: 0 };
        this.nodes.set(event.nodeId, timing);
      }
      if (!timing) return;
      timing.ms += event.ms;
      timing.runs += 1;
      timing.cached = event.cached;
    }
  }

  /** A tile batch of a fanned-out node, done by `worker`. */
  tileBatch(nodeId: string, worker: string): void {
    const counts = (this.tileWorkers.get(nodeId) ?? this.tileWorkers.set(nodeId, {}).get(nodeId))!;
    counts[worker] = (counts[worker] ?? 0) + 1;
  }

  /** The engine's (or these) timings, each fanned-out node with the workers that ran its tile batches. */
  withTileWorkers(nodes: NodeTiming[]): NodeTiming[] {
    return nodes.map((node) => (this.tileWorkers.has(node.id) ? { ...node, tileWorkers: this.tileWorkers.get(node.id) } : node));
  }

  list(): NodeTiming[] {
    return this.withTileWorkers([...this.nodes.values()]);
  }
}
