// The progressive tile maps of a run as its `tile-map` events build them: per node, the finished tiles' previews
// and the tiles running now. Shared by the run page and the editor.
import type { TileRect } from "../../nodes/graph/events";
import type { TileMapEvent, TilePreview } from "../../server/api/contract";

export interface TileMapState {
  iteration?: number;
  canvas: { width: number; height: number };
  total: number;
  /** By tile index: an update repeats none, a replayed history repeats them all. */
  finished: ReadonlyMap<number, TilePreview>;
  running: readonly (TileRect & { index: number })[];
}

export type TileMaps = ReadonlyMap<string, TileMapState>;

export const NO_TILE_MAPS: TileMaps = new Map();

export function applyTileMapEvent(maps: TileMaps, event: TileMapEvent): TileMaps {
  const old = maps.get(event.nodeId);
  // A loop's next pass makes a new output: its map starts again.
  const finished = new Map(old && old.iteration === event.iteration ? old.finished : []);
  for (const tile of event.finished) finished.set(tile.index, tile);
  return new Map(maps).set(event.nodeId, { iteration: event.iteration, canvas: event.canvas, total: event.total, finished, running: event.running });
}
