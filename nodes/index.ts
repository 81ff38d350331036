import type { AnyNodeDefinition } from "./graph/define-node";
import type { NodeRegistry } from "./graph/validate";
import { chunkNode } from "./chunk";
import { degradeNode } from "./degrade";
import { generateNode } from "./generate";
import { loadImageNode } from "./load-image";
import { loopNode } from "./loop";
import { metricsNode } from "./metrics";
import { resizeNode } from "./resize";
import { saveImageNode } from "./save-image";
import { stitchNode } from "./stitch";

/** Every node type, in palette order. Adding a node is adding its file and one line here. */
export const nodeDefinitions: AnyNodeDefinition[] = [
  loadImageNode,
  saveImageNode,
  degradeNode,
  resizeNode,
  chunkNode,
  generateNode,
  stitchNode,
  loopNode,
  metricsNode,
] as AnyNodeDefinition[];

export const nodeRegistry: NodeRegistry = new Map(nodeDefinitions.map((definition) => [definition.type, definition]));
