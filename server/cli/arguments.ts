// What `tudsr run` and `tudsr plan` share: the graph named on the command line and `name=path` arguments.
import { readFile } from "node:fs/promises";
import { builtInTemplates, findTemplate } from "../../nodes/templates/index";
import { CliUsageError } from "./usage-error";

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
