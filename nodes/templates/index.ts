import type { Graph } from "../graph/schema";
import eval4 from "./eval-x4.json";
import eval8 from "./eval-x8.json";
import evalReal4 from "./eval-real-x4.json";
import x4Chunked from "./x4-chunked.json";
import x4Real from "./x4-real.json";
import x8Direct from "./x8-direct.json";
import x8Twice from "./x8-twice.json";
import x8TwiceReal from "./x8-twice-real.json";
import x16Loop from "./x16-loop.json";

export interface BuiltInTemplate {
  id: string;
  graph: Graph;
}

/** The pipelines shipped with the studio, as graph JSON files in this folder (validated by tests). */
export const builtInTemplates: BuiltInTemplate[] = [
  { id: "x4-chunked", graph: x4Chunked as Graph },
  { id: "x4-real", graph: x4Real as Graph },
  { id: "x8-twice", graph: x8Twice as Graph },
  { id: "x8-twice-real", graph: x8TwiceReal as Graph },
  { id: "x8-direct", graph: x8Direct as Graph },
  { id: "x16-loop", graph: x16Loop as Graph },
  { id: "eval-x4", graph: eval4 as Graph },
  { id: "eval-real-x4", graph: evalReal4 as Graph },
  { id: "eval-x8", graph: eval8 as Graph },
];

export function findTemplate(id: string): BuiltInTemplate | undefined {
  return builtInTemplates.find((template) => template.id === id);
}
