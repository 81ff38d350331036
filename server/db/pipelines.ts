// Pipelines and their save history, as the pipelines router uses them. A save always adds a version; nothing
// is rewritten. Graphs are stored as the JSON text of what the caller passes: the caller validates them
// (nodes/graph/validate.ts) first.
import type { Graph } from "../../nodes/graph/schema";
import { NotFoundError, prismaCode } from "../platform/errors";
import { containsText, getDb } from "./client";

export interface VersionSummary {
  number: number;
  message: string;
  createdAt: Date;
}

export interface SavedVersion extends VersionSummary {
  graph: Graph;
}

export interface PipelineSummary {
  id: string;
  name: string;
  createdAt: Date;
  /** Last save or rename. */
  updatedAt: Date;
  latestVersion: number;
}

export interface PipelineDetail extends PipelineSummary {
  /** The version asked for, else the latest. */
  version: SavedVersion;
}

export type PipelineSort = "updated" | "created" | "name";

/** Concurrent saves race for the next number; each lost race costs one retry, so this only bounds a bug. */
const SAVE_ATTEMPTS = 200;

const summarySelect = {
  id: true,
  name: true,
  createdAt: true,
  updatedAt: true,
  versions: { select: { number: true }, orderBy: { number: "desc" as const }, take: 1 },
};

interface SummaryRow {
  id: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
  versions: { number: number }[];
}

interface VersionRow {
  number: number;
  message: string;
  createdAt: Date;
  graph: string;
}

function toSummary(row: SummaryRow): PipelineSummary {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    latestVersion: row.versions[0]?.number ?? 0,
  };
}

function toVersion(row: VersionRow): SavedVersion {
  return { number: row.number, message: row.message, createdAt: row.createdAt, graph: JSON.parse(row.graph) as Graph };
}

function pipelineNotFound(id: string): NotFoundError {
  return new NotFoundError("pipeline", id);
}

async function findSummary(id: string): Promise<PipelineSummary> {
  const db = await getDb();
  const row = await db.pipeline.findUnique({ where: { id }, select: summarySelect });
  if (!row) throw pipelineNotFound(id);
  return toSummary(row);
}

async function findVersion(id: string, number: number): Promise<VersionRow> {
  const db = await getDb();
  const row = await db.pipelineVersion.findUnique({ where: { pipelineId_number: { pipelineId: id, number } } });
  if (!row) {
    await findSummary(id); // an unknown pipeline is reported as such
    throw new NotFoundError("pipeline version", `${id} v${number}`);
  }
  return row;
}

/** Adds the next version. Two saves at once both read the same latest number; the unique (pipeline, number)
 * pair lets exactly one insert win, and the other retries with the next number. */
async function addVersion(id: string, graphJson: string, message: string): Promise<SavedVersion> {
  const db = await getDb();
  for (let attempt = 1; ; attempt++) {
    const latest = await db.pipelineVersion.findFirst({
      where: { pipelineId: id },
      orderBy: { number: "desc" },
      select: { number: true },
    });
    if (!latest) throw pipelineNotFound(id); // every pipeline is created with version 1
    const now = new Date();
    try {
      const [version] = await db.$transaction([
        db.pipelineVersion.create({
          data: { pipelineId: id, number: latest.number + 1, graph: graphJson, message, createdAt: now },
        }),
        db.pipeline.update({ where: { id }, data: { updatedAt: now } }),
      ]);
      return toVersion(version);
    } catch (error) {
      const code = prismaCode(error);
      // P2003 / P2025: the pipeline was deleted meanwhile.
      if (code === "P2003" || code === "P2025") throw pipelineNotFound(id);
      if (code !== "P2002" || attempt >= SAVE_ATTEMPTS) throw error;
      // Spread the losers out so they do not collide again on the next number.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * attempt)));
    }
  }
}

export async function createPipeline(name: string, graph: Graph, message = "Created"): Promise<PipelineDetail> {
  const db = await getDb();
  const row = await db.pipeline.create({
    data: { name, versions: { create: { number: 1, graph: JSON.stringify(graph), message } } },
    include: { versions: true },
  });
  const version = toVersion(row.versions[0]);
  return { ...toSummary(row), version };
}

export async function savePipelineVersion(id: string, graph: Graph, message = ""): Promise<SavedVersion> {
  return addVersion(id, JSON.stringify(graph), message);
}

export async function listPipelines(
  options: { search?: string; sort?: PipelineSort } = {},
): Promise<PipelineSummary[]> {
  const db = await getDb();
  const search = options.search?.trim();
  const orderBy =
    options.sort === "name"
      ? [{ name: "asc" as const }, { id: "asc" as const }]
      : options.sort === "created"
        ? [{ createdAt: "desc" as const }, { id: "asc" as const }]
        : [{ updatedAt: "desc" as const }, { id: "asc" as const }];
  const rows = await db.pipeline.findMany({
    where: search ? { name: containsText(search) } : undefined,
    orderBy,
    select: summarySelect,
  });
  return rows.map(toSummary);
}

/** The pipeline with one version's graph: `version` if given, else the latest. */
export async function getPipeline(id: string, version?: number): Promise<PipelineDetail> {
  const summary = await findSummary(id);
  const row = await findVersion(id, version ?? summary.latestVersion);
  return { ...summary, version: toVersion(row) };
}

/** Newest first. */
export async function listVersions(id: string): Promise<VersionSummary[]> {
  const db = await getDb();
  const row = await db.pipeline.findUnique({
    where: { id },
    select: { versions: { select: { number: true, message: true, createdAt: true }, orderBy: { number: "desc" } } },
  });
  if (!row) throw pipelineNotFound(id);
  return row.versions;
}

/** Makes an old version current again by saving its graph, unchanged, as a new version. */
export async function restoreVersion(id: string, version: number): Promise<SavedVersion> {
  const old = await findVersion(id, version);
  return addVersion(id, old.graph, `Restored version ${version}`);
}

export async function renamePipeline(id: string, name: string): Promise<PipelineSummary> {
  const db = await getDb();
  try {
    return toSummary(await db.pipeline.update({ where: { id }, data: { name }, select: summarySelect }));
  } catch (error) {
    if (prismaCode(error) === "P2025") throw pipelineNotFound(id);
    throw error;
  }
}

/** A new pipeline whose version 1 is the latest graph of `id` (the history is not copied). */
export async function duplicatePipeline(id: string, name?: string): Promise<PipelineDetail> {
  const source = await findSummary(id);
  const latest = await findVersion(id, source.latestVersion);
  const db = await getDb();
  const message = `Duplicated from "${source.name}" version ${latest.number}`;
  const row = await db.pipeline.create({
    data: { name: name ?? `${source.name} (copy)`, versions: { create: { number: 1, graph: latest.graph, message } } },
    include: { versions: true },
  });
  return { ...toSummary(row), version: toVersion(row.versions[0]) };
}

/** Deletes the pipeline and its versions; runs keep their own copy of the graph that ran. */
export async function deletePipeline(id: string): Promise<void> {
  const db = await getDb();
  try {
    await db.pipeline.delete({ where: { id } });
  } catch (error) {
    if (prismaCode(error) === "P2025") throw pipelineNotFound(id);
    throw error;
  }
}
