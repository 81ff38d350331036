// A running run's nodes as its events report them (runs.events): which one works, tiles done, times.
import type { GraphNode } from "../../../nodes/graph/schema";
import type { RunEvent } from "../../../server/api/contract";
import { formatMs } from "../../ui/format";
import styles from "./run.module.css";

export interface NodeLive {
  state: "running" | "done" | "failed" | "canceled";
  done: number;
  total: number;
  ms: number | null;
  cached: boolean;
  iteration?: number;
  message?: string;
}

export type LiveNodes = Record<string, NodeLive>;

const IDLE: NodeLive = { state: "running", done: 0, total: 0, ms: null, cached: false };

/** The node states after one more event (run-level events change nothing here). */
export function applyNodeEvent(nodes: LiveNodes, event: RunEvent): LiveNodes {
  const node = "nodeId" in event && event.nodeId !== null ? (nodes[event.nodeId] ?? IDLE) : IDLE;
  switch (event.type) {
    case "node-started":
      return { ...nodes, [event.nodeId]: { ...IDLE, iteration: event.iteration } };
    case "node-progress":
      return { ...nodes, [event.nodeId]: { ...node, done: event.done, total: event.total } };
    case "node-log":
      return { ...nodes, [event.nodeId]: { ...node, message: event.message } };
    case "node-finished":
      return { ...nodes, [event.nodeId]: { ...node, state: "done", ms: event.ms, cached: event.cached } };
    case "node-failed":
      return { ...nodes, [event.nodeId]: { ...node, state: "failed", message: event.message } };
    case "node-canceled":
      return { ...nodes, [event.nodeId]: { ...node, state: "canceled" } };
    default:
      return nodes;
  }
}

/**
 * `watchedFromStart`: the page saw the run before it started, so a node without events has not run yet;
 * otherwise it may have finished before the page opened, and its state is unknown until the run ends.
 */
export function LiveProgress({ graphNodes, live, watchedFromStart }: { graphNodes: GraphNode[]; live: LiveNodes; watchedFromStart: boolean }) {
  const finished = graphNodes.filter((node) => live[node.id]?.state === "done").length;
  return (
    <section className="card" data-testid="run-progress">
      <div className="row">
        <h3 className={styles.cardTitle}>Progress</h3>
        <span className="spacer" />
        <span className="muted small">
          {finished} of {graphNodes.length} nodes done
        </span>
      </div>
      <table className="table">
        <tbody>
          {graphNodes.map((node) => {
            const state = live[node.id];
            const fraction = state?.state === "done" ? 1 : state && state.total > 0 ? state.done / state.total : 0;
            return (
              <tr key={node.id}>
                <td className="mono">{node.id}</td>
                <td className="muted">{node.type}</td>
                <td className={styles.liveState}>{state ? stateText(state) : <span className="muted">{watchedFromStart ? "waiting" : "–"}</span>}</td>
                <td className={styles.liveBar}>
                  <div className="progress">
                    <div style={{ width: `${fraction * 100}%` }} />
                  </div>
                </td>
                <td className="num">{state?.ms !== null && state?.ms !== undefined ? formatMs(state.ms) : ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function stateText(node: NodeLive): string {
  if (node.state === "done") return node.cached ? "cached" : "done";
  if (node.state === "failed") return `failed: ${node.message ?? ""}`;
  if (node.state === "canceled") return "canceled";
  const pass = node.iteration !== undefined ? ` (iteration ${node.iteration + 1})` : "";
  return node.total > 0 ? `${node.done} of ${node.total}${pass}` : `running${pass}`;
}
