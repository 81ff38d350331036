/** What the engine reports while it runs a graph; the CLI, the run queue and the editor all listen to these. */
export type EngineEvent =
  | { type: "node-started"; nodeId: string; nodeType: string; iteration?: number }
  | { type: "node-progress"; nodeId: string; done: number; total: number }
  | { type: "node-log"; nodeId: string; message: string }
  | { type: "node-finished"; nodeId: string; ms: number; cached: boolean; iteration?: number }
  | { type: "node-failed"; nodeId: string; message: string }
  | { type: "node-canceled"; nodeId: string };

export type EngineListener = (event: EngineEvent) => void;
