// Built-in templates: the graph files in nodes/templates/ are the truth; the Template table mirrors them.
// Runs on every start (server/db/client.ts) and writes only what differs.
import { builtInTemplates } from "../../nodes/templates/index";
import type { PrismaClient as Db } from "../../prisma/generated/sqlite/client";
import { prismaCode } from "../platform/errors";

export async function seedBuiltInTemplates(db: Db): Promise<void> {
  const slugs = builtInTemplates.map((template) => template.id);
  const existing = new Map(
    (await db.template.findMany({ where: { slug: { in: slugs } } })).map((row) => [row.slug, row]),
  );
  for (const template of builtInTemplates) {
    const data = {
      name: template.graph.name ?? template.id,
      description: template.graph.description ?? "",
      graph: JSON.stringify(template.graph),
    };
    const row = existing.get(template.id);
    if (!row) {
      try {
        await db.template.create({ data: { slug: template.id, builtIn: true, ...data } });
      } catch (error) {
        // Another process starting at the same time created it first.
        if (prismaCode(error) !== "P2002") throw error;
      }
    } else if (!row.builtIn) {
      console.warn(`template "${template.id}" is a user template; the built-in one of that name is not loaded`);
    } else if (row.name !== data.name || row.description !== data.description || row.graph !== data.graph) {
      await db.template.update({ where: { id: row.id }, data });
    }
  }
  // Built-ins removed from the repository go too; runs keep their own copy of the graph.
  await db.template.deleteMany({ where: { builtIn: true, slug: { notIn: slugs } } });
}
