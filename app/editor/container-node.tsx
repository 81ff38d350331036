"use client";
// A loop container: a resizable frame that nodes are dropped into. Outside handles feed and take the loop's
// value; the inside handles (body-in on the left, body-out on the right) wire its body.
import { Handle, NodeResizer, type NodeProps, Position } from "@xyflow/react";
import { memo } from "react";
import { useEditorView } from "./editor-state";
import { CONTAINER_MIN, definitionOf, portsOfNode, type StudioNode } from "./flow-graph";
import styles from "./nodes.module.css";
import { NodeProblems, NodeStatus } from "./studio-node";
import { summarizeParams } from "./param-fields";

function ContainerNodeView({ id, data, selected }: NodeProps<StudioNode>) {
  const definition = definitionOf(data.nodeType);
  const { inputs, outputs } = portsOfNode(data);
  const hasProblems = (useEditorView().problems.get(id)?.length ?? 0) > 0;
  const outside = (ports: typeof inputs) => Object.entries(ports).filter(([, port]) => !port.internal);
  const inside = (ports: typeof inputs) => Object.entries(ports).filter(([, port]) => port.internal);
  return (
    <div className={`${styles.container} ${selected ? styles.selected : ""} ${hasProblems ? styles.invalid : ""}`} data-testid={`node-${id}`}>
      <NodeResizer isVisible={selected} minWidth={CONTAINER_MIN.width} minHeight={CONTAINER_MIN.height} lineClassName={styles.resizeLine} handleClassName={styles.resizeHandle} />
      <header className={styles.containerHeader}>
        <span className={styles.title}>{data.label ?? definition?.title ?? data.nodeType}</span>
        <span className={styles.summary}>{definition ? summarizeParams(definition, data.params) : ""}</span>
        <span className={styles.nodeId}>{id}</span>
      </header>
      {outside(inputs).map(([name, port]) => (
        <Handle key={name} type="target" position={Position.Left} id={name} className={styles.handle} style={{ top: 18, background: `var(--port-${port.type})` }} title={`${port.label}: ${port.type}`} />
      ))}
      {outside(outputs).map(([name, port]) => (
        <Handle key={name} type="source" position={Position.Right} id={name} className={styles.handle} style={{ top: 18, background: `var(--port-${port.type})` }} title={`${port.label}: ${port.type}`} />
      ))}
      {inside(outputs).map(([name, port]) => (
        <div key={name} className={`${styles.innerPort} ${styles.innerLeft}`}>
          <span>{port.label} ▸</span>
          <Handle type="source" position={Position.Right} id={name} className={styles.handle} style={{ background: `var(--port-${port.type})` }} />
        </div>
      ))}
      {inside(inputs).map(([name, port]) => (
        <div key={name} className={`${styles.innerPort} ${styles.innerRight}`}>
          <Handle type="target" position={Position.Left} id={name} className={styles.handle} style={{ background: `var(--port-${port.type})` }} />
          <span>◂ {port.label}</span>
        </div>
      ))}
      <div className={styles.containerFooter}>
        <NodeStatus id={id} />
        <NodeProblems id={id} />
      </div>
    </div>
  );
}

export const ContainerNodeComponent = memo(ContainerNodeView);
