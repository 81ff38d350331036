// Runs: a row is created (queued) before anything executes, so a queued run survives a restart. The state
// changes the run queue makes are conditional updates (`where: { id, status }`, then the count), which are
// atomic on SQLite and on Postgres alike: two workers never take the same run, and a late result never
// overwrites a cancel.
import type { NodeTiming } from "../../nodes/graph/engine";
import type { MetricRecord } from "../../nodes/graph/host";
import type { ParamOverride } from "../../nodes/graph/overrides";
import type { Graph } from "../../nodes/graph/schema";
import { BadInputError, NotFoundError } from "../platform/errors";
import type { OutputFile } from "../storage/artifacts";
import { type ArtifactInfo, toArtifactInfo } from "./artifacts";
import { getDb } from "./client";
import type { RunStamp } from "./run-stamp";
import { FINAL_STATUSES, type RunStatus, type RunTrigger } from "./run-statuses";

/** A run row to create: its graph already resolved, overrides applied and validated (server/runs/prepare.ts). */
export interface NewRun {
  /** Exactly what runs. */
  graph: Graph;
  /** The overrides that were applied to the source's graph (shown with the run). */
  overrides: ParamOverride[];
  /** load-image input name -> id of an uploaded (input) artifact. */
  inputs: Record<string, string>;
  trigger: RunTrigger;
  pipelineVersionId?: string;
  templateId?: string;
}

/** Where a run request's graph comes from: its JSON, and the pipeline version or template it belongs to. */
export interface RunSource {
  graph: unknown;
  pipelineVersionId?: string;
  templateId?: string;
}

export interface RunSummary {
  id: string;
  status: RunStatus;
  trigger: RunTrigger;
  pipelineId: string | null;
  pipelineVersion: number | null;
  templateSlug: string | null;
  error: string | null;
  errorNodeId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** The worker that ran (or runs) it: host/pid, or null while it has not started. */
  worker: string | null;
}

/** A run as the runs list shows it. */
export interface RunListItem extends RunSummary {
  /** The saved pipeline's current name (null for template and unsaved-graph runs, or once it is deleted). */
  pipelineName: string | null;
  /** How many output images it stored. */
  outputCount: number;
  /** The parameter overrides it ran with (what tells two runs of one template apart). */
  overrides: ParamOverride[];
}

export interface RunDetail extends RunSummary {
  pipelineName: string | null;
  /** The exact graph that ran (overrides applied). */
  graph: Graph;
  /** Input name -> artifact id. */
  inputs: Record<string, string>;
  overrides: ParamOverride[];
  /** The run this one re-queued, if any. */
  requeuedFrom: string | null;
  /** The run this one re-runs exactly (runs.rerun), and whether it runs even where the stamp differs now. */
  rerun: { of: string; force: boolean } | null;
  /** What made its bytes, recorded by the executor that ran it (null while queued, and for older runs). */
  stamp: RunStamp | null;
  /** Per-node timings (also of the nodes that finished before a failure or a cancel). */
  nodes: NodeTiming[];
  /** Engine time of a succeeded run. */
  totalMs: number | null;
  metrics: MetricRecord[];
  outputs: ArtifactInfo[];
}

/** What a worker needs to execute a claimed run. */
export interface ClaimedRun {
  id: string;
  graph: Graph;
  inputs: Record<string, string>;
  /** A re-run exactly: the executor compares its stamp with this run's before it runs. */
  rerun?: { of: string; force: boolean };
}

/** The `inputs` column: input artifacts, the overrides that were applied, and the run re-queued or re-run. */
interface StoredInputs {
  artifacts: Record<string, string>;
  overrides: ParamOverride[];
  requeuedFrom?: string;
  rerunOf?: string;
  rerunForce?: boolean;
}

interface StoredTimings {
  nodes?: NodeTiming[];
  totalMs?: number;
}

const summaryInclude = {
  pipelineVersion: { select: { pipelineId: true, number: true, pipeline: { select: { name: true } } } },
  template: { select: { slug: true } },
};

interface RunRow {
  id: string;
  status: RunStatus;
  trigger: RunTrigger;
  graph: string;
  inputs: string;
  error: string | null;
  errorNodeId: string | null;
  nodeTimings: string;
  metrics: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  worker: string | null;
  stamp: string | null;
  pipelineVersion: { pipelineId: string; number: number; pipeline: { name: string } } | null;
  template: { slug: string } | null;
}

function toSummary(row: RunRow): RunSummary {
  return {
    id: row.id,
    status: row.status,
    trigger: row.trigger,
    pipelineId: row.pipelineVersion?.pipelineId ?? null,
    pipelineVersion: row.pipelineVersion?.number ?? null,
    templateSlug: row.template?.slug ?? null,
    error: row.error,
    errorNodeId: row.errorNodeId,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    worker: row.worker,
  };
}

function parseInputs(text: string): StoredInputs {
  const parsed = JSON.parse(text) as Partial<StoredInputs>;
  return { ...parsed, artifacts: parsed.artifacts ?? {}, overrides: parsed.overrides ?? [] };
}

function rerunOf(inputs: StoredInputs): ClaimedRun["rerun"] {
  return inputs.rerunOf ? { of: inputs.rerunOf, force: inputs.rerunForce === true } : undefined;
}

function claimed(id: string, row: { graph: string; inputs: string }): ClaimedRun {
  const inputs = parseInputs(row.inputs);
  const rerun = rerunOf(inputs);
  return { id, graph: JSON.parse(row.graph) as Graph, inputs: inputs.artifacts, ...(rerun ? { rerun } : {}) };
}

function runNotFound(id: string): NotFoundError {
  return new NotFoundError("run", id);
}

/** The graph a run request names (an unsaved graph, a pipeline's version or latest, or a template), from the database. */
export async function findRunSource(run: { graph?: unknown; pipelineId?: string; pipelineVersion?: number; templateSlug?: string }): Promise<RunSource> {
  const db = await getDb();
  let pipelineVersionId: string | undefined;
  let templateId: string | undefined;
  let graphText: string | undefined;
  if (run.pipelineId !== undefined) {
    const version = await db.pipelineVersion.findFirst({
      where: { pipelineId: run.pipelineId, ...(run.pipelineVersion !== undefined ? { number: run.pipelineVersion } : {}) },
      orderBy: { number: "desc" },
    });
    if (!version) {
      const pipeline = await db.pipeline.findUnique({ where: { id: run.pipelineId }, select: { id: true } });
      if (!pipeline) throw new NotFoundError("pipeline", run.pipelineId);
      throw new NotFoundError("pipeline version", `${run.pipelineId} v${run.pipelineVersion}`);
    }
    pipelineVersionId = version.id;
    graphText = version.graph;
  }
  if (run.templateSlug !== undefined) {
    const template = await db.template.findUnique({ where: { slug: run.templateSlug } });
    if (!template) throw new NotFoundError("template", run.templateSlug);
    templateId = template.id;
    graphText ??= template.graph;
  }
  const graph = run.graph ?? (graphText === undefined ? undefined : (JSON.parse(graphText) as unknown));
  if (graph === undefined) throw new BadInputError("a run needs a graph, a pipeline or a template");
  return { graph, pipelineVersionId, templateId };
}

/** Stores a queued run (it executes once a worker claims it: see server/runs/). */
export async function insertRun(run: NewRun): Promise<RunDetail> {
  const db = await getDb();
  const stored: StoredInputs = { artifacts: run.inputs, overrides: run.overrides };
  const row = await db.run.create({
    data: {
      graph: JSON.stringify(run.graph),
      inputs: JSON.stringify(stored),
      trigger: run.trigger,
      pipelineVersionId: run.pipelineVersionId,
      templateId: run.templateId,
    },
  });
  return getRun(row.id);
}

export async function getRun(id: string): Promise<RunDetail> {
  const db = await getDb();
  const row = await db.run.findUnique({
    where: { id },
    include: { ...summaryInclude, artifacts: { where: { kind: "output" }, orderBy: { path: "asc" } } },
  });
  if (!row) throw runNotFound(id);
  const inputs = parseInputs(row.inputs);
  const timings = JSON.parse(row.nodeTimings) as StoredTimings;
  const metrics = JSON.parse(row.metrics) as unknown;
  return {
    ...toSummary(row),
    pipelineName: row.pipelineVersion?.pipeline.name ?? null,
    graph: JSON.parse(row.graph) as Graph,
    inputs: inputs.artifacts,
    overrides: inputs.overrides,
    requeuedFrom: inputs.requeuedFrom ?? null,
    rerun: rerunOf(inputs) ?? null,
    stamp: row.stamp === null ? null : (JSON.parse(row.stamp) as RunStamp),
    nodes: timings.nodes ?? [],
    totalMs: timings.totalMs ?? null,
    metrics: Array.isArray(metrics) ? (metrics as MetricRecord[]) : [],
    outputs: row.artifacts.map(toArtifactInfo),
  };
}

export async function getRunStatus(id: string): Promise<RunStatus> {
  const db = await getDb();
  const row = await db.run.findUnique({ where: { id }, select: { status: true } });
  if (!row) throw runNotFound(id);
  return row.status;
}

export interface RunFilter {
  status?: RunStatus | RunStatus[];
  pipelineId?: string;
  templateSlug?: string;
  trigger?: RunTrigger;
  /** 1..200, default 50. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** Newest first, a page at a time. */
export async function listRuns(filter: RunFilter = {}): Promise<{ runs: RunListItem[]; nextCursor: string | null }> {
  const db = await getDb();
  const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 50), 1), 200);
  const statuses = filter.status === undefined ? undefined : [filter.status].flat();
  const rows = await db.run.findMany({
    where: {
      status: statuses ? { in: statuses } : undefined,
      trigger: filter.trigger,
      pipelineVersion: filter.pipelineId !== undefined ? { pipelineId: filter.pipelineId } : undefined,
      template: filter.templateSlug !== undefined ? { slug: filter.templateSlug } : undefined,
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    include: { ...summaryInclude, _count: { select: { artifacts: { where: { kind: "output" } } } } },
    take: limit + 1,
    ...(filter.cursor ? { cursor: { id: filter.cursor }, skip: 1 } : {}),
  });
  const page = rows.slice(0, limit);
  const runs = page.map((row) => ({
    ...toSummary(row),
    pipelineName: row.pipelineVersion?.pipeline.name ?? null,
    outputCount: row._count.artifacts,
    overrides: parseInputs(row.inputs).overrides,
  }));
  return { runs, nextCursor: rows.length > limit ? page[page.length - 1].id : null };
}

/** Takes the oldest queued run for execution (queued -> running), or null when none is queued. */
export async function claimNextRun(worker?: string): Promise<ClaimedRun | null> {
  const db = await getDb();
  for (;;) {
    const next = await db.run.findFirst({
      where: { status: "queued" },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { id: true },
    });
    if (!next) return null;
    const { count } = await db.run.updateMany({
      where: { id: next.id, status: "queued" },
      data: { status: "running", startedAt: new Date(), ...(worker !== undefined ? { worker } : {}) },
    });
    // Another worker took it (or it was canceled) between the read and the update: try the next one.
    if (count === 0) continue;
    return claimed(next.id, await db.run.findUniqueOrThrow({ where: { id: next.id }, select: { graph: true, inputs: true } }));
  }
}

/**
 * The distributed queue's claim (server/runs/bullmq/): the worker holding the run's job takes the row under a
 * new `owner` token, from queued, or from running when the job came back after its worker was lost (the queue
 * gives a job to one worker at a time, so the previous owner is gone or stale). Null when the run has ended
 * (canceled while queued, or already recorded).
 */
export async function claimRunForJob(id: string, owner: string, worker: string): Promise<ClaimedRun | null> {
  const db = await getDb();
  const { count } = await db.run.updateMany({
    where: { id, status: { in: ["queued", "running"] } },
    data: { status: "running", startedAt: new Date(), owner, worker },
  });
  if (count === 0) return null;
  return claimed(id, await db.run.findUniqueOrThrow({ where: { id }, select: { graph: true, inputs: true } }));
}

/** A worker shutting down hands its run back (running -> queued) if it still owns it; true when it did. */
export async function handBackRun(id: string, owner: string): Promise<boolean> {
  const db = await getDb();
  const { count } = await db.run.updateMany({
    where: { id, status: "running", owner },
    data: { status: "queued", startedAt: null, owner: null, worker: null },
  });
  return count === 1;
}

/** Ends one running run `interrupted` (its job was lost more often than the retry limit); true when it did. */
export async function interruptRun(id: string, error: string): Promise<boolean> {
  const db = await getDb();
  const { count } = await db.run.updateMany({
    where: { id, status: "running" },
    data: { status: "interrupted", finishedAt: new Date(), error },
  });
  return count === 1;
}

/** Ids of the runs in one status, oldest first (the distributed queue's start-up reconciliation). */
export async function runIdsWithStatus(status: RunStatus): Promise<string[]> {
  const db = await getDb();
  const rows = await db.run.findMany({ where: { status }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: { id: true } });
  return rows.map((row) => row.id);
}

export type RunOutcome = (
  | { status: "succeeded"; outputs: OutputFile[]; nodes: NodeTiming[]; totalMs: number; metrics: MetricRecord[] }
  | { status: "failed"; error: string; errorNodeId?: string; nodes: NodeTiming[] }
  | { status: "canceled" | "interrupted"; nodes: NodeTiming[]; error?: string }
) & { stamp?: RunStamp };

/**
 * Records how a running run ended, with its output artifacts, in one transaction. Returns false, changing
 * nothing, when the run is no longer running: canceled or interrupted meanwhile (a canceled or interrupted
 * outcome still updates a row already in that status, to add the timings). With `owner` (the distributed
 * queue), also when another claim owns the row now: a stale worker never records over the one running it.
 */
export async function finishRun(id: string, outcome: RunOutcome, owner?: string): Promise<boolean> {
  const db = await getDb();
  const allowed: RunStatus[] = outcome.status === "canceled" || outcome.status === "interrupted" ? ["running", outcome.status] : ["running"];
  const timings: StoredTimings = { nodes: outcome.nodes, ...(outcome.status === "succeeded" ? { totalMs: outcome.totalMs } : {}) };
  const data = {
    status: outcome.status,
    finishedAt: new Date(),
    nodeTimings: JSON.stringify(timings),
    ...(outcome.status === "succeeded" ? { metrics: JSON.stringify(outcome.metrics) } : {}),
    ...(outcome.status !== "succeeded" && outcome.error !== undefined ? { error: outcome.error } : {}),
    ...(outcome.status === "failed" ? { errorNodeId: outcome.errorNodeId ?? null } : {}),
    ...(outcome.stamp ? { stamp: JSON.stringify(outcome.stamp) } : {}),
  };
  return db.$transaction(async (tx) => {
    const { count } = await tx.run.updateMany({ where: { id, status: { in: allowed }, ...(owner !== undefined ? { owner } : {}) }, data });
    if (count === 0) return false;
    if (outcome.status === "succeeded") {
      for (const output of outcome.outputs) {
        const { path, format, width, height, sizeBytes, sha256 } = output;
        await tx.artifact.create({ data: { kind: "output", runId: id, path, format, width, height, sizeBytes, sha256 } });
      }
    }
    return true;
  });
}

/**
 * Cancels in the database: a queued run becomes canceled (it will never start); a running one becomes
 * canceled at once, and the worker executing it (here or in another process) stops its engine and adds the
 * timings. Returns the status the run had.
 */
export async function markCanceled(id: string): Promise<RunStatus> {
  const db = await getDb();
  for (const from of ["queued", "running"] as const) {
    const { count } = await db.run.updateMany({
      where: { id, status: from },
      data: { status: "canceled", finishedAt: new Date() },
    });
    if (count === 1) return from;
  }
  return getRunStatus(id);
}

export const INTERRUPTED_MESSAGE = "the process running it stopped (crash or restart) before it finished";

/** Marks every running run interrupted (at start-up, nothing can still be running them). Returns their ids. */
export async function markInterrupted(): Promise<string[]> {
  const db = await getDb();
  const running = await db.run.findMany({ where: { status: "running" }, select: { id: true } });
  const ids: string[] = [];
  for (const { id } of running) {
    const { count } = await db.run.updateMany({
      where: { id, status: "running" },
      data: { status: "interrupted", finishedAt: new Date(), error: INTERRUPTED_MESSAGE },
    });
    if (count === 1) ids.push(id);
  }
  return ids;
}

/** Current statuses of some runs (a worker checks its runs for a cancel made by another process). */
export async function runStatuses(ids: string[]): Promise<Map<string, RunStatus>> {
  if (ids.length === 0) return new Map();
  const db = await getDb();
  const rows = await db.run.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } });
  return new Map(rows.map((row) => [row.id, row.status]));
}

/**
 * Runs an interrupted, failed or canceled run again, as a NEW queued run with the same graph, inputs, pipeline
 * version and template (`requeuedFrom` points back). The old row is kept as it is: it is the record of what
 * happened (its error, timings and times), the way a pipeline save adds a version instead of rewriting one.
 */
export async function requeueRun(id: string, trigger?: RunTrigger): Promise<RunDetail> {
  const db = await getDb();
  const old = await db.run.findUnique({ where: { id } });
  if (!old) throw runNotFound(id);
  if (!["interrupted", "failed", "canceled"].includes(old.status)) {
    throw new BadInputError(`run "${id}" is ${old.status}; only interrupted, failed or canceled runs can be re-queued`);
  }
  const inputs = parseInputs(old.inputs);
  const row = await db.run.create({
    data: {
      graph: old.graph,
      inputs: JSON.stringify({ artifacts: inputs.artifacts, overrides: inputs.overrides, requeuedFrom: id } satisfies StoredInputs),
      trigger: trigger ?? old.trigger,
      pipelineVersionId: old.pipelineVersionId,
      templateId: old.templateId,
    },
  });
  return getRun(row.id);
}

/** The recorded stamp of a run; NotFoundError for an unknown id, BadInputError for a run without one. */
export async function getRunStamp(id: string): Promise<RunStamp> {
  const db = await getDb();
  const row = await db.run.findUnique({ where: { id }, select: { stamp: true, status: true } });
  if (!row) throw runNotFound(id);
  if (row.stamp === null) {
    throw new BadInputError(
      FINAL_STATUSES.includes(row.status)
        ? `run "${id}" has no reproducibility stamp (it ran before stamps were recorded, or stopped before it started); use Re-run instead`
        : `run "${id}" is ${row.status}: its stamp is recorded when it ends`,
    );
  }
  return JSON.parse(row.stamp) as RunStamp;
}

/**
 * Re-runs a run exactly, as a NEW queued run: `graph` (its stamp's, validated), the same input artifacts,
 * pipeline version and template. The executor that takes it compares the stamp of its machine with the
 * recorded one before running and, unless `force`, fails it listing what changed (see server/runs/executor.ts).
 */
export async function insertRerun(id: string, graph: Graph, options: { force?: boolean; trigger?: RunTrigger } = {}): Promise<RunDetail> {
  const db = await getDb();
  const old = await db.run.findUniqueOrThrow({ where: { id } });
  const inputs = parseInputs(old.inputs);
  const stored: StoredInputs = { artifacts: inputs.artifacts, overrides: inputs.overrides, rerunOf: id, ...(options.force ? { rerunForce: true } : {}) };
  const row = await db.run.create({
    data: {
      graph: JSON.stringify(graph),
      inputs: JSON.stringify(stored),
      trigger: options.trigger ?? old.trigger,
      pipelineVersionId: old.pipelineVersionId,
      templateId: old.templateId,
    },
  });
  return getRun(row.id);
}
