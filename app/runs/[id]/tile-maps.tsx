// The run's progressive tile maps: one per node computing tiles (each stage of a multi-stage graph), in graph
// order, filling in as tiles finish; kept when the run stops, so a canceled run shows what was finished.
import type { GraphNode } from "../../../nodes/graph/schema";
import { TileMapCanvas } from "../../ui/tile-map-canvas";
import type { TileMaps } from "../../ui/tile-map";
import styles from "./run.module.css";

const MAP_SIDE = 320;

export function RunTileMaps({ graphNodes, maps, active }: { graphNodes: GraphNode[]; maps: TileMaps; active: boolean }) {
  const shown = graphNodes.filter((node) => maps.has(node.id));
  return (
    <section className="card" data-testid="run-tile-maps">
      <h3 className={styles.cardTitle}>Tiles</h3>
      <div className={styles.tileMaps}>
        {shown.map((node) => (
          <div key={node.id}>
            <div className="mono small">{node.id}</div>
            <TileMapCanvas nodeId={node.id} map={maps.get(node.id)!} active={active} maxSide={MAP_SIDE} />
          </div>
        ))}
      </div>
    </section>
  );
}
