"use client";
// The side panel: the selected node's label and params (a form generated from its zod schema), or, with
// nothing selected, the pipeline's problems and the keyboard shortcuts.
import type { ReactNode } from "react";
import { definitionOf, type StudioNode } from "./flow-graph";
import styles from "./editor.module.css";
import { ParamForm } from "./param-form";

interface InspectorProps {
  selected?: StudioNode;
  selectionCount: number;
  problems: { byNode: ReadonlyMap<string, string[]>; byEdge: ReadonlyMap<string, string[]>; general: string[] };
  onChange(id: string, patch: Partial<StudioNode["data"]>, coalesceKey: string): void;
  onSelectNode(id: string): void;
  /** Shown under the selected node's form (the plan preview). */
  nodeExtra?: ReactNode;
}

const SHORTCUTS: [string, string][] = [
  ["Ctrl+S", "save a version"],
  ["Ctrl+Z / Ctrl+Shift+Z", "undo / redo"],
  ["Ctrl+C / X / V", "copy / cut / paste"],
  ["Ctrl+A", "select all"],
  ["Delete", "delete the selection"],
  ["Shift+drag", "select an area"],
  ["Shift+1", "fit the view"],
];

export function Inspector({ selected, selectionCount, problems, onChange, onSelectNode, nodeExtra }: InspectorProps) {
  const definition = selected && definitionOf(selected.data.nodeType);
  return (
    <aside className={styles.inspector} aria-label="Inspector" data-testid="inspector">
      {selected && definition ? (
        <>
          <header className={styles.inspectorHeader}>
            <strong>{definition.title}</strong>
            <span className="muted small mono">{selected.id}</span>
          </header>
          <p className="muted small">{definition.description}</p>
          <label className={styles.field}>
            Label
            <input
              value={selected.data.label ?? ""}
              placeholder={definition.title}
              onChange={(event) => onChange(selected.id, { label: event.target.value || undefined }, `label:${selected.id}`)}
              maxLength={120}
              data-testid="node-label"
            />
          </label>
          <ParamForm
            key={selected.id}
            definition={definition}
            params={selected.data.params}
            onChange={(params) => onChange(selected.id, { params }, `params:${selected.id}`)}
            problems={problems.byNode.get(selected.id) ?? []}
          />
          {nodeExtra}
        </>
      ) : (
        <>
          <header className={styles.inspectorHeader}>
            <strong>{selectionCount > 1 ? `${selectionCount} nodes selected` : "Pipeline"}</strong>
          </header>
          <ProblemList problems={problems} onSelectNode={onSelectNode} />
          <h4>Shortcuts</h4>
          <dl className={styles.shortcuts}>
            {SHORTCUTS.map(([keys, what]) => (
              <div key={keys}>
                <dt>{keys}</dt>
                <dd>{what}</dd>
              </div>
            ))}
          </dl>
        </>
      )}
    </aside>
  );
}

function ProblemList({ problems, onSelectNode }: Pick<InspectorProps, "problems" | "onSelectNode">) {
  const count = problems.general.length + [...problems.byNode.values(), ...problems.byEdge.values()].reduce((sum, list) => sum + list.length, 0);
  if (count === 0) return <p className="ok-text small">No problems: the pipeline can run.</p>;
  return (
    <div className={styles.problemList} data-testid="problem-list">
      <p className="small">
        {count} problem{count === 1 ? "" : "s"} to fix before running:
      </p>
      <ul>
        {problems.general.map((message) => (
          <li key={message}>{message}</li>
        ))}
        {[...problems.byNode].map(([nodeId, messages]) =>
          messages.map((message) => (
            <li key={nodeId + message}>
              <button className="ghost small" onClick={() => onSelectNode(nodeId)}>
                {nodeId}
              </button>{" "}
              {message}
            </li>
          )),
        )}
        {[...problems.byEdge].map(([edgeId, messages]) =>
          messages.map((message) => (
            <li key={edgeId + message}>
              <span className="mono small">{edgeId}</span> {message}
            </li>
          )),
        )}
      </ul>
    </div>
  );
}
