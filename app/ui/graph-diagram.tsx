"use client";
// A graph's thumbnail: its nodes at their canvas positions as rounded boxes, loops as boxes around their
// children, edges coloured by the type of value they carry, all scaled to fit the box it is given.
import { useMemo } from "react";
import type { Graph } from "../../nodes/graph/schema";
import styles from "./graph-diagram.module.css";
import { fitText, layoutGraph } from "./graph-diagram-layout";

const LABEL_SIZE = 27;
const DETAIL_SIZE = 19;
const PORT_RADIUS = 6;

function portColour(type: string | undefined): string {
  return type ? `var(--port-${type})` : "var(--muted)";
}

export function GraphDiagram({ graph, className }: { graph: Graph; className?: string }) {
  const layout = useMemo(() => layoutGraph(graph), [graph]);
  const { viewBox } = layout;
  const summary = `Diagram of ${graph.nodes.length} node${graph.nodes.length === 1 ? "" : "s"} and ${graph.edges.length} connection${graph.edges.length === 1 ? "" : "s"}`;
  if (!graph.nodes.length) {
    return (
      <div className={`${styles.diagram} ${styles.blank} ${className ?? ""}`} role="img" aria-label="Empty graph">
        empty canvas
      </div>
    );
  }
  return (
    <svg
      className={`${styles.diagram} ${className ?? ""}`}
      viewBox={`${viewBox.x} ${viewBox.y} ${viewBox.width} ${viewBox.height}`}
      preserveAspectRatio="xMidYMid meet"
      role="img"
      aria-label={summary}
    >
      {layout.nodes
        .filter((node) => node.container)
        .map((node) => (
          <g key={node.id} className={styles.container}>
            <title>{node.tooltip}</title>
            <rect x={node.x} y={node.y} width={node.width} height={node.height} rx={14} />
            <text className={styles.label} x={node.x + 16} y={node.y + 16 + LABEL_SIZE * 0.8} fontSize={LABEL_SIZE}>
              {fitText([node.label, node.detail].filter(Boolean).join(" · "), node.width - 32, LABEL_SIZE)}
            </text>
          </g>
        ))}
      {layout.edges.map((edge) => (
        <path key={edge.id} className={styles.edge} d={edge.path} style={{ stroke: portColour(edge.type) }} />
      ))}
      {layout.nodes
        .filter((node) => !node.container)
        .map((node) => {
          const centre = node.x + node.width / 2;
          const middle = node.y + node.height / 2;
          return (
            <g key={node.id} className={styles.node}>
              <title>{node.tooltip}</title>
              <rect x={node.x} y={node.y} width={node.width} height={node.height} rx={10} />
              <text
                className={styles.label}
                x={centre}
                y={node.detail ? middle - 4 : middle + LABEL_SIZE * 0.35}
                fontSize={LABEL_SIZE}
                textAnchor="middle"
              >
                {fitText(node.label, node.width - 16, LABEL_SIZE)}
              </text>
              {node.detail && (
                <text className={styles.detail} x={centre} y={middle + DETAIL_SIZE + 2} fontSize={DETAIL_SIZE} textAnchor="middle">
                  {fitText(node.detail, node.width - 16, DETAIL_SIZE)}
                </text>
              )}
            </g>
          );
        })}
      {layout.nodes.flatMap((node) =>
        node.ports.map((port, index) => (
          <circle key={`${node.id}:${index}`} className={styles.port} cx={port.x} cy={port.y} r={PORT_RADIUS} style={{ fill: portColour(port.type) }} />
        )),
      )}
    </svg>
  );
}
