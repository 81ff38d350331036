// What a model suits, in a user's words: photos or art, real-world inputs (blur, noise, JPEG) or clean ones
// (bicubic downscales), from the manifest's `content` and `degradation` fields as the models list returns them.
// The editor's model picker groups its options by it; the template gallery labels each template's models.
import type { Graph } from "../../nodes/graph/schema";
import { nodeRegistry } from "../../nodes/index";
import { resolvedParams } from "./graph-diagram-layout";

/** The part of a models-list entry this needs (ModelSummary has more). */
export interface ModelFacts {
  id: string;
  title?: string;
  scale?: number;
  builtIn?: boolean;
  speedClass?: string;
  /** "photo" | "art" | "unknown" */
  content?: string;
  /** "bicubic" | "real-world" | "unknown" */
  degradation?: string;
}

export type FitContent = "photo" | "art";
export type FitDegradation = "real-world" | "clean";

export interface ModelFit {
  content?: FitContent;
  degradation?: FitDegradation;
  /** "photo · real-world", "art · clean", "photo" (degradation unknown); undefined when nothing is known. */
  label?: string;
  /** A sentence for a tooltip. */
  description: string;
}

const CONTENT_WORDS: Record<FitContent, string> = { photo: "photos", art: "art (anime, illustrations)" };
const DEGRADATION_WORDS: Record<FitDegradation, string> = {
  "real-world": "real-world inputs (blur, noise, JPEG)",
  clean: "clean inputs (bicubic downscales)",
};

/** What a models-list entry suits; undefined (a model the list does not have): nothing known. */
export function modelFit(model: ModelFacts | undefined): ModelFit {
  const content = model?.content === "photo" || model?.content === "art" ? model.content : undefined;
  const degradation = model?.degradation === "real-world" ? "real-world" : model?.degradation === "bicubic" ? "clean" : undefined;
  const parts = [content, degradation].filter((part): part is string => part !== undefined);
  const description =
    content || degradation
      ? `Trained on ${content ? CONTENT_WORDS[content] : "unstated content"}, for ${degradation ? DEGRADATION_WORDS[degradation] : "inputs of an unstated kind"}`
      : "What this model was trained on is not stated";
  return { content, degradation, label: parts.length ? parts.join(" · ") : undefined, description };
}

export interface ModelGroup<M extends ModelFacts> {
  /** "photo · real-world", ..., "not labelled". */
  label: string;
  models: M[];
}

const GROUP_ORDER = ["photo · real-world", "art · real-world", "photo · clean", "art · clean", "photo", "art", "real-world", "clean"];
export const UNLABELLED_GROUP = "not labelled";

/**
 * The models grouped by what they suit, for a picker: photo · real-world, art · real-world, photo · clean,
 * art · clean, then partly labelled ones, then "not labelled" (e.g. uploads nobody described). Within a group
 * the list's order is kept (built-in models first, as the list gives them).
 */
export function groupModelsByFit<M extends ModelFacts>(models: readonly M[]): ModelGroup<M>[] {
  const groups = new Map<string, M[]>();
  for (const model of models) {
    const label = modelFit(model).label ?? UNLABELLED_GROUP;
    groups.set(label, [...(groups.get(label) ?? []), model]);
  }
  const rank = (label: string) => (label === UNLABELLED_GROUP ? GROUP_ORDER.length : GROUP_ORDER.indexOf(label));
  return [...groups].map(([label, members]) => ({ label, models: members })).sort((a, b) => rank(a.label) - rank(b.label));
}

export interface TemplateModel {
  /** The model id a generate node of the graph runs (its param, or the node's default). */
  id: string;
  /** The generate nodes that run it, in graph order. */
  nodeIds: string[];
  /** From the models list; undefined when the list does not have it (not installed, or not loaded yet). */
  model?: ModelFacts;
  fit: ModelFit;
}

/** The models a graph's generate nodes run (loop bodies included), each once, in graph order, with what they suit. */
export function templateModels(graph: Graph, models: readonly ModelFacts[] | undefined): TemplateModel[] {
  const byId = new Map((models ?? []).map((model) => [model.id, model]));
  const used = new Map<string, TemplateModel>();
  for (const node of graph.nodes) {
    if (node.type !== "generate") continue;
    const id = String(resolvedParams(nodeRegistry.get(node.type), node).model ?? "");
    if (!id) continue;
    const entry = used.get(id);
    if (entry) {
      entry.nodeIds.push(node.id);
      continue;
    }
    const model = byId.get(id);
    used.set(id, { id, nodeIds: [node.id], model, fit: modelFit(model) });
  }
  return [...used.values()];
}
