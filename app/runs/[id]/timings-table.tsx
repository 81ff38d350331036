// Where a run's time went: per node, with a bar for its share of the engine's total.
import type { NodeTiming } from "../../../nodes/graph/engine";
import { formatMs } from "../../ui/format";
import styles from "./run.module.css";

/** The workers that ran a node: the run's own, or for a fanned-out generate node each tile batch's. */
function ranOn(node: NodeTiming, runWorker: string | null): string | undefined {
  if (node.tileWorkers) return Object.entries(node.tileWorkers).map(([worker, batches]) => `${worker} ×${batches}`).join(", ");
  return runWorker ?? undefined;
}

export function TimingsTable({ nodes, totalMs, worker = null }: { nodes: NodeTiming[]; totalMs: number | null; worker?: string | null }) {
  const showWorkers = worker !== null || nodes.some((node) => node.tileWorkers);
  // A failed or canceled run has no engine total: its nodes' sum stands in.
  const total = totalMs ?? nodes.reduce((sum, node) => sum + node.ms, 0);
  return (
    <table className="table" data-testid="timings-table">
      <thead>
        <tr>
          <th>Node</th>
          <th>Type</th>
          <th className="num">Time</th>
          <th className={styles.shareColumn}>Share</th>
          <th className="num">Runs</th>
          {showWorkers && <th title="The worker that ran the node; for tiles spread over workers, the tile batches each ran">Worker</th>}
        </tr>
      </thead>
      <tbody>
        {nodes.map((node) => {
          const share = total > 0 ? Math.min(node.ms / total, 1) : 0;
          return (
            <tr key={node.id}>
              <td className="mono">{node.id}</td>
              <td className="muted">{node.type}</td>
              <td className="num">{node.cached ? <span className="muted">cached</span> : formatMs(node.ms)}</td>
              <td>
                <div className={styles.share} title={`${(share * 100).toFixed(1)}% of ${formatMs(total)}`}>
                  <div style={{ width: `${share * 100}%` }} />
                </div>
              </td>
              <td className="num">{node.runs}</td>
              {showWorkers && (
                <td className="mono small" data-testid={`node-worker-${node.id}`}>
                  {ranOn(node, worker)}
                </td>
              )}
            </tr>
          );
        })}
      </tbody>
      <tfoot>
        <tr>
          <td colSpan={2}>{totalMs === null ? "sum of nodes" : "engine total"}</td>
          <td className="num">{formatMs(total)}</td>
          <td colSpan={showWorkers ? 3 : 2} />
        </tr>
      </tfoot>
    </table>
  );
}
