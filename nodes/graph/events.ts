/** Where a tile lands in the output its node makes, in output pixels. */
export interface TileRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A tile a node computes: its place among the node's tiles and in the output (the "canvas") they make up. */
export interface TileReport {
  index: number;
  total: number;
  rect: TileRect;
  canvas: { width: number; height: number };
}

/** What the engine reports while it runs a graph; the CLI, the run queue and the editor all listen to these. */
export type EngineEvent =
  | { type: "node-started"; nodeId: string; nodeType: string; iteration?: number }
  | { type: "node-progress"; nodeId: string; done: number; total: number }
  | { type: "node-log"; nodeId: string; message: string }
  | { type: "node-finished"; nodeId: string; ms: number; cached: boolean; iteration?: number; /** Megapixels of its largest image, in or out (nodes without a model: their time is recorded per megapixel). */ workMegapixels?: number }
  | { type: "node-failed"; nodeId: string; message: string }
  | { type: "node-canceled"; nodeId: string }
  | TileEvent;

/** A tile's start and end (generate's tiles), for the progressive tile map; pixels go to EngineOptions.onTileImage. */
export type TileEvent =
  | ({ type: "tile-started"; nodeId: string; iteration?: number } & TileReport)
  | ({ type: "tile-done"; nodeId: string; iteration?: number } & TileReport);

export type EngineListener = (event: EngineEvent) => void;
