// `tudsr templates [<id>] [--json]`: the built-in pipelines, or one of them in full: its run inputs and outputs,
// and every node with each parameter's value here, its default and its allowed values (from the node's schema).
import { parseArgs } from "node:util";
import type { Graph } from "../../nodes/graph/schema";
import { resolveParams } from "../../nodes/graph/validate";
import { nodeRegistry } from "../../nodes/index";
import { builtInTemplates, findTemplate } from "../../nodes/templates/index";
import { paramDocs } from "./param-docs";
import { CliUsageError } from "./usage-error";

interface TemplateParam {
  name: string;
  /** The value this template runs with (its own, or the default). */
  value: unknown;
  /** True when the template sets it (rather than leaving the default). */
  set: boolean;
  default: unknown;
  allowed: string;
  description: string;
}

interface TemplateDescription {
  id: string;
  name: string;
  description: string;
  /** Run inputs (load-image nodes) and outputs (save-image nodes), each with the node that reads or writes it. */
  inputs: { name: string; node: string }[];
  outputs: { name: string; node: string; format: string }[];
  /** Metrics it reports (metrics nodes' labels). */
  metrics: { label: string; node: string }[];
  nodes: { id: string; type: string; title: string; description: string; inside?: string; params: TemplateParam[] }[];
}

export async function templatesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: "boolean", default: false } } });
  if (positionals.length > 1) throw new CliUsageError(`templates takes at most one template id, got ${positionals.join(" ")}`);
  if (positionals.length === 0) {
    const list = builtInTemplates.map(({ id, graph }) => ({ id, name: graph.name ?? id, description: graph.description ?? "" }));
    if (values.json) console.log(JSON.stringify(list, null, 2));
    else {
      const width = Math.max(...list.map((template) => template.id.length));
      for (const template of list) console.log(`${template.id.padEnd(width)}  ${template.description}`);
      console.log("\n(tudsr templates <id>: its nodes, parameters with defaults and bounds, inputs and outputs)");
    }
    return 0;
  }
  const template = findTemplate(positionals[0]);
  if (!template) throw new CliUsageError(`unknown template "${positionals[0]}" (templates: ${builtInTemplates.map((t) => t.id).join(", ")})`);
  const described = describeTemplate(template.id, template.graph);
  console.log(values.json ? JSON.stringify(described, null, 2) : formatTemplate(described));
  return 0;
}

function describeTemplate(id: string, graph: Graph): TemplateDescription {
  const inputs: TemplateDescription["inputs"] = [];
  const outputs: TemplateDescription["outputs"] = [];
  const metrics: TemplateDescription["metrics"] = [];
  const nodes = graph.nodes.map((node) => {
    const definition = nodeRegistry.get(node.type);
    if (!definition) throw new Error(`template ${id}: node "${node.id}" has the unknown type "${node.type}"`);
    const resolved = resolveParams(definition, node.params);
    if (node.type === "load-image") inputs.push({ name: String(resolved.input), node: node.id });
    if (node.type === "save-image") outputs.push({ name: String(resolved.output), node: node.id, format: String(resolved.format) });
    if (node.type === "metrics") metrics.push({ label: String(resolved.label), node: node.id });
    const params = paramDocs(definition).map((doc) => ({ ...doc, value: resolved[doc.name], set: Object.hasOwn(node.params, doc.name) }));
    return { id: node.id, type: node.type, title: definition.title, description: definition.description, ...(node.parentId ? { inside: node.parentId } : {}), params };
  });
  return { id, name: graph.name ?? id, description: graph.description ?? "", inputs, outputs, metrics, nodes };
}

const show = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

function formatTemplate(template: TemplateDescription): string {
  const lines = [`${template.id}: ${template.name}`, template.description, ""];
  lines.push(`inputs:  ${template.inputs.map((input) => `${input.name} (node ${input.node})`).join(", ") || "none"}`);
  lines.push(`outputs: ${template.outputs.map((output) => `${output.name} (node ${output.node}, ${output.format})`).join(", ") || "none"}`);
  if (template.metrics.length > 0) lines.push(`metrics: ${template.metrics.map((metric) => `${metric.label} (node ${metric.node})`).join(", ")}`);
  lines.push("", "nodes (override a parameter with --set <node>.<param>=<value>):");
  for (const node of template.nodes) {
    lines.push("", `  ${node.id}  ${node.type}: ${node.title}${node.inside ? ` (inside ${node.inside})` : ""}`);
    const name = Math.max(...node.params.map((param) => param.name.length), 0);
    // Long values (degrade's kernel weights) are not padded to: they would push every other line's columns.
    const value = Math.max(...node.params.map((param) => show(param.value).length).filter((length) => length <= 24), 0);
    for (const param of node.params) {
      const note = param.set && show(param.value) !== show(param.default) ? `default ${show(param.default)}` : "the default";
      lines.push(`    ${param.name.padEnd(name)}  ${show(param.value).padEnd(value)}  (${note}; allowed: ${param.allowed})  ${param.description}`);
    }
  }
  return lines.join("\n");
}
