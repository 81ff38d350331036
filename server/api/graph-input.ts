// Graph inputs of the API. The wire schema is graphSchema itself (the OpenAPI document shows it), but
// procedures take the graph as `unknown` and check it here: zod's own error would name paths
// ("nodes.3.params"), while checkGraph names every problem's node or edge id, schema and semantics alike.
import { z } from "zod";
import { type Graph } from "../../nodes/graph/schema";
import { checkGraph } from "../../nodes/graph/validate";
import { nodeRegistry } from "../../nodes/index";

/** A graph as the API receives it: checked by `validGraph`, so an invalid one is a 400 listing every problem. */
export const graphInput = z.unknown().describe("a pipeline graph (see the Graph schema)");

/** The graph, schema- and semantically valid; otherwise throws GraphValidationError (400, with `problems`). */
export function validGraph(input: unknown): Graph {
  return checkGraph(input, nodeRegistry);
}

/** Text a database can store: Postgres text holds no NUL character (it would fail as a 500, not a 400). */
export const storableText = z.string().refine((text) => !text.includes("\u0000"), "must not contain NUL (\\u0000) characters");
export const idInput = storableText.pipe(z.string().min(1).max(100));
export const nameInput = storableText.pipe(z.string().trim().min(1).max(200));
