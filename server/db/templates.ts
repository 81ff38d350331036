// Templates: the built-in ones (seeded from nodes/templates/ by server/db/seed.ts on every start) and user
// templates saved from a pipeline's graph. A template is found by its slug (`x4-chunked`) or its row id.
import type { Graph } from "../../nodes/graph/schema";
import { checkGraph } from "../../nodes/graph/validate";
import { nodeRegistry } from "../../nodes/index";
import { builtInTemplates } from "../../nodes/templates/index";
import { BadInputError, NotFoundError, prismaCode } from "../platform/errors";
import { getDb } from "./client";
import { createPipeline, getPipeline, type PipelineDetail } from "./pipelines";

export interface TemplateSummary {
  id: string;
  slug: string;
  name: string;
  description: string;
  builtIn: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface TemplateDetail extends TemplateSummary {
  graph: Graph;
}

const SLUG = /^[a-z0-9][a-z0-9-]{0,59}$/;

interface TemplateRow extends TemplateSummary {
  graph: string;
}

function toSummary(row: TemplateRow): TemplateSummary {
  const { id, slug, name, description, builtIn, createdAt, updatedAt } = row;
  return { id, slug, name, description, builtIn, createdAt, updatedAt };
}

function toDetail(row: TemplateRow): TemplateDetail {
  return { ...toSummary(row), graph: JSON.parse(row.graph) as Graph };
}

/** "My x8 Pipeline!" -> "my-x8-pipeline". */
export function slugOf(name: string): string {
  return (
    name
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/ß/g, "ss")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 50)
      .replace(/-+$/, "") || "template"
  );
}

/** Built-in templates first (in the repository's order), then user templates by name. */
export async function listTemplates(): Promise<TemplateSummary[]> {
  const db = await getDb();
  const rows = await db.template.findMany({ orderBy: [{ name: "asc" }, { id: "asc" }] });
  const order = (row: TemplateRow) => {
    const index = builtInTemplates.findIndex((template) => template.id === row.slug);
    return row.builtIn && index >= 0 ? index : builtInTemplates.length;
  };
  return rows.sort((a, b) => order(a) - order(b)).map(toSummary);
}

/** By slug, else by row id. */
export async function getTemplate(slugOrId: string): Promise<TemplateDetail> {
  const db = await getDb();
  const row =
    (await db.template.findUnique({ where: { slug: slugOrId } })) ?? (await db.template.findUnique({ where: { id: slugOrId } }));
  if (!row) throw new NotFoundError("template", slugOrId);
  return toDetail(row);
}

export interface NewTemplate {
  name: string;
  graph: unknown;
  description?: string;
  /** Default: made from the name, with -2, -3... when taken. A slug given and taken is an error. */
  slug?: string;
}

/** Saves a user template. Throws GraphValidationError for a bad graph, BadInputError for a bad or taken slug. */
export async function saveTemplate(template: NewTemplate): Promise<TemplateDetail> {
  const name = template.name.trim();
  if (!name) throw new BadInputError("a template needs a name");
  const graph = checkGraph(template.graph, nodeRegistry);
  if (template.slug !== undefined && !SLUG.test(template.slug)) {
    throw new BadInputError(`template slug "${template.slug}" must be 1 to 60 lowercase letters, digits or '-', starting with a letter or digit`);
  }
  const base = template.slug ?? slugOf(name);
  const db = await getDb();
  for (let n = 1; ; n++) {
    const slug = n === 1 ? base : `${base}-${n}`;
    const reserved = builtInTemplates.some((builtIn) => builtIn.id === slug);
    if (!reserved) {
      try {
        const row = await db.template.create({
          data: { slug, name, description: template.description ?? "", builtIn: false, graph: JSON.stringify(graph) },
        });
        return toDetail(row);
      } catch (error) {
        if (prismaCode(error) !== "P2002") throw error;
      }
    }
    if (template.slug !== undefined) throw new BadInputError(`template slug "${slug}" is taken`);
  }
}

/** Saves a pipeline's graph (its latest version, or `version`) as a user template. */
export async function saveTemplateFromPipeline(
  pipelineId: string,
  options: { name?: string; description?: string; slug?: string; version?: number } = {},
): Promise<TemplateDetail> {
  const pipeline = await getPipeline(pipelineId, options.version);
  return saveTemplate({
    name: options.name ?? pipeline.name,
    description: options.description ?? pipeline.version.graph.description ?? "",
    slug: options.slug,
    graph: pipeline.version.graph,
  });
}

/** A new pipeline whose version 1 is the template's graph. */
export async function createPipelineFromTemplate(slugOrId: string, name?: string): Promise<PipelineDetail> {
  const template = await getTemplate(slugOrId);
  return createPipeline(name ?? template.name, template.graph, `Created from template "${template.slug}"`);
}

/** Deletes a user template; built-in ones come from the repository and cannot be deleted. */
export async function deleteTemplate(slugOrId: string): Promise<void> {
  const template = await getTemplate(slugOrId);
  if (template.builtIn) throw new BadInputError(`"${template.slug}" is a built-in template; only user templates can be deleted`);
  const db = await getDb();
  await db.template.deleteMany({ where: { id: template.id, builtIn: false } });
}
