"use client";
// One node on the canvas: typed handles (coloured by port type), a one-line summary of its params, its live
// run state (progress of tiles, time, failure) with a thumbnail of its last output, and its problems.
import { Handle, type NodeProps, Position } from "@xyflow/react";
import { memo } from "react";
import type { PortSpec } from "../../nodes/graph/define-node";
import { formatMs } from "../ui/format";
import { TileMapCanvas } from "../ui/tile-map-canvas";
import { useEditorView } from "./editor-state";
import { definitionOf, portsOfNode, type StudioNode } from "./flow-graph";
import styles from "./nodes.module.css";
import { summarizeParams } from "./param-fields";

function PortRow({ name, port, side }: { name: string; port: PortSpec; side: "in" | "out" }) {
  return (
    <div className={`${styles.port} ${side === "in" ? styles.portIn : styles.portOut}`} title={`${port.label}: ${port.type}`}>
      <Handle
        type={side === "in" ? "target" : "source"}
        position={side === "in" ? Position.Left : Position.Right}
        id={name}
        className={styles.handle}
        style={{ background: `var(--port-${port.type})` }}
      />
      <span>{port.label}</span>
      <span className={styles.portType}>{port.type}</span>
    </div>
  );
}

/** The tile map fits the node's width. */
const TILE_MAP_SIDE = 200;

export function NodeStatus({ id }: { id: string }) {
  const { runStates, previews, tileMaps } = useEditorView();
  const state = runStates.get(id);
  const preview = previews.get(id);
  // While the node works (and when its run stopped before it finished), its tiles; once done, its output.
  const map = state && state.status !== "done" ? tileMaps.get(id) : undefined;
  if (!state && !preview) return null;
  return (
    <div className={styles.status} data-testid={`node-status-${id}`} data-status={state?.status ?? "idle"}>
      {state && (
        <div className={styles.statusLine}>
          <span className={`${styles.dot} ${styles[state.status]}`} />
          <span className={styles.statusText}>
            {state.status === "running" && state.total ? `running ${state.done ?? 0}/${state.total}` : state.status}
            {state.status === "done" && (state.cached ? " · cached" : ` · ${formatMs(state.ms)}`)}
          </span>
        </div>
      )}
      {state?.status === "running" && state.total ? (
        <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={state.total} aria-valuenow={state.done ?? 0}>
          <div style={{ width: `${(100 * (state.done ?? 0)) / state.total}%` }} />
        </div>
      ) : null}
      {state?.status === "failed" && state.message && <div className={styles.failure}>{state.message}</div>}
      {map && <TileMapCanvas nodeId={id} map={map} active={state?.status === "running"} maxSide={TILE_MAP_SIDE} />}
      {preview && !map && (
        <figure className={styles.preview}>
          {/* eslint-disable-next-line @next/next/no-img-element -- a data URL thumbnail, nothing to optimise */}
          <img src={preview.dataUrl} alt={`last output of ${id}`} data-testid={`node-preview-${id}`} />
          <figcaption>
            {preview.width}×{preview.height}
          </figcaption>
        </figure>
      )}
    </div>
  );
}

export function NodeProblems({ id }: { id: string }) {
  const problems = useEditorView().problems.get(id);
  if (!problems?.length) return null;
  return (
    <ul className={styles.problems} data-testid={`node-problems-${id}`}>
      {problems.map((problem) => (
        <li key={problem}>{problem}</li>
      ))}
    </ul>
  );
}

function StudioNodeView({ id, data, selected }: NodeProps<StudioNode>) {
  const definition = definitionOf(data.nodeType);
  const { inputs, outputs } = portsOfNode(data);
  const hasProblems = (useEditorView().problems.get(id)?.length ?? 0) > 0;
  const summary = definition ? summarizeParams(definition, data.params) : "";
  return (
    <div
      className={`${styles.node} ${selected ? styles.selected : ""} ${hasProblems ? styles.invalid : ""}`}
      data-testid={`node-${id}`}
      data-category={definition?.category}
    >
      <header className={styles.header}>
        <span className={styles.title}>{data.label ?? definition?.title ?? data.nodeType}</span>
        <span className={styles.nodeId}>{id}</span>
      </header>
      <div className={styles.ports}>
        <div>
          {Object.entries(inputs).map(([name, port]) => (
            <PortRow key={name} name={name} port={port} side="in" />
          ))}
        </div>
        <div>
          {Object.entries(outputs).map(([name, port]) => (
            <PortRow key={name} name={name} port={port} side="out" />
          ))}
        </div>
      </div>
      {summary && <div className={styles.summary}>{summary}</div>}
      {!definition && <div className={styles.failure}>unknown node type “{data.nodeType}”</div>}
      <NodeStatus id={id} />
      <NodeProblems id={id} />
    </div>
  );
}

export const StudioNodeComponent = memo(StudioNodeView);
