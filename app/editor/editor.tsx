"use client";
// The pipeline editor: palette | canvas | inspector, a toolbar (save, history, export/import, template, run) and
// a run bar. The canvas state is React Flow's nodes and edges; every committed edit is one undo step; the
// saved form is the graph schema of nodes/ (see flow-graph.ts).
import "@xyflow/react/dist/style.css";
import {
  addEdge,
  applyEdgeChanges,
  applyNodeChanges,
  Background,
  type Connection,
  Controls,
  type EdgeChange,
  type FinalConnectionState,
  MiniMap,
  type NodeChange,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Graph } from "../../nodes/graph/schema";
import { validateGraph } from "../../nodes/graph/validate";
import { nodeRegistry } from "../../nodes/index";
import { useToast } from "../ui/toast";
import { type EditorView, EditorViewContext } from "./editor-state";
import styles from "./editor.module.css";
import { EditorToolbar } from "./editor-toolbar";
import {
  absolutePosition,
  connectionProblem,
  CONTAINER_MIN,
  definitionOf,
  edgeStyle,
  flowEdge,
  flowToGraph,
  freshId,
  graphToFlow,
  groupProblems,
  portsOfNode,
  rendererOf,
  type StudioEdge,
  type StudioNode,
} from "./flow-graph";
import { Inspector } from "./inspector";
import { PlanPreview } from "./plan-preview";
import { Palette, NODE_DRAG_TYPE } from "./palette";
import { RunBar } from "./run-bar";
import { ContainerNodeComponent } from "./container-node";
import { StudioNodeComponent } from "./studio-node";
import { type Snapshot, useHistory } from "./use-history";
import { useRunner } from "./use-runner";
import { useSaving } from "./use-saving";

const nodeTypes = { studio: StudioNodeComponent, container: ContainerNodeComponent };

export interface EditorProps {
  /** The saved pipeline being edited; absent for a new, unsaved canvas. */
  pipeline?: { id: string; name: string; version: number };
  graph: Graph;
}

export function Editor(props: EditorProps) {
  return (
    <ReactFlowProvider>
      <EditorCanvas {...props} />
    </ReactFlowProvider>
  );
}

/** Copied nodes live here (and in localStorage, so another tab can paste them). */
const CLIPBOARD_KEY = "tudsr.clipboard";

function isTyping(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return !!element && (element.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName));
}

function EditorCanvas({ pipeline, graph: initialGraph }: EditorProps) {
  const flow = useReactFlow<StudioNode, StudioEdge>();
  const toast = useToast();
  const initial = useMemo(() => graphToFlow(initialGraph), [initialGraph]);
  const [nodes, setNodes] = useState<StudioNode[]>(initial.nodes);
  const [edges, setEdges] = useState<StudioEdge[]>(initial.edges);
  const [name, setName] = useState(pipeline?.name ?? initialGraph.name ?? "Untitled pipeline");
  const [refusal, setRefusal] = useState<string>();
  const canvasRef = useRef<HTMLDivElement>(null);

  // Latest state for callbacks that must not be re-created on every change (history, shortcuts).
  const latest = useRef({ nodes, edges });
  latest.current = { nodes, edges };
  const snapshot = useCallback((): Snapshot => ({ nodes: latest.current.nodes, edges: latest.current.edges }), []);
  const restore = useCallback((state: Snapshot) => {
    setNodes(state.nodes);
    setEdges(state.edges);
  }, []);
  const history = useHistory(snapshot, restore);

  /** One undo step for a burst of edits to the same thing (typing in a field, nudging with arrows). */
  const lastCoalesced = useRef({ key: "", at: 0 });
  const rememberCoalesced = useCallback(
    (key: string) => {
      const now = Date.now();
      if (lastCoalesced.current.key !== key || now - lastCoalesced.current.at > 1500) history.remember();
      lastCoalesced.current = { key, at: now };
    },
    [history],
  );

  const graph = useMemo(() => flowToGraph(nodes, edges, { name }), [nodes, edges, name]);
  const problems = useMemo(() => validateGraph(graph, nodeRegistry), [graph]);
  const grouped = useMemo(() => groupProblems(problems), [problems]);

  const saving = useSaving({ pipeline, graph, name, problems });
  const runner = useRunner({ graph, pipelineId: saving.pipeline?.id, clean: !saving.dirty, problems });

  const view: EditorView = useMemo(
    () => ({ problems: grouped.byNode, runStates: runner.nodeStates, previews: runner.previews, tileMaps: runner.tileMaps }),
    [grouped.byNode, runner.nodeStates, runner.previews, runner.tileMaps],
  );

  // Edges with problems are drawn red with their reason as a label.
  const shownEdges = useMemo(
    () =>
      edges.map((edge) => {
        const edgeProblems = grouped.byEdge.get(edge.id);
        return edgeProblems
          ? { ...edge, style: { stroke: "var(--error)", strokeWidth: 2 }, label: edgeProblems[0], labelStyle: { fill: "var(--error)" }, labelBgStyle: { fill: "var(--panel)" } }
          : edge;
      }),
    [edges, grouped.byEdge],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<StudioNode>[]) => {
      if (changes.some((change) => change.type === "dimensions" && change.resizing)) rememberCoalesced("resize");
      setNodes((current) => applyNodeChanges(changes, current));
    },
    [rememberCoalesced],
  );
  const onEdgesChange = useCallback((changes: EdgeChange<StudioEdge>[]) => setEdges((current) => applyEdgeChanges(changes, current)), []);

  const isValidConnection = useCallback(
    (connection: Connection | StudioEdge) =>
      connectionProblem(connection as Connection, latest.current.nodes, latest.current.edges) === undefined,
    [],
  );

  const onConnect = useCallback(
    (connection: Connection) => {
      const problem = connectionProblem(connection, latest.current.nodes, latest.current.edges);
      if (problem) {
        setRefusal(problem);
        return;
      }
      history.remember();
      setRefusal(undefined);
      setEdges((current) => {
        // An input takes one wire: a new connection replaces the old one (as in ComfyUI).
        const rest = current.filter((edge) => !(edge.target === connection.target && edge.targetHandle === connection.targetHandle));
        const id = freshId(`e-${connection.source}-${connection.target}`, new Set(rest.map((edge) => edge.id)));
        const edge = flowEdge({ id, source: connection.source, sourceHandle: connection.sourceHandle ?? "", target: connection.target, targetHandle: connection.targetHandle ?? "" }, latest.current.nodes);
        return addEdge(edge, rest);
      });
    },
    [history],
  );

  // A refused drop says why: React Flow only tells us the connection was invalid.
  const onConnectEnd = useCallback((_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (state.isValid !== false || !state.fromHandle || !state.toHandle) return;
    const [from, to] = state.fromHandle.type === "source" ? [state.fromHandle, state.toHandle] : [state.toHandle, state.fromHandle];
    if (from.type === to.type) {
      setRefusal(`cannot connect two ${from.type === "source" ? "outputs" : "inputs"}: drag from an output to an input`);
      return;
    }
    const problem = connectionProblem(
      { source: from.nodeId, sourceHandle: from.id ?? null, target: to.nodeId, targetHandle: to.id ?? null },
      latest.current.nodes,
      latest.current.edges,
    );
    if (problem) setRefusal(problem);
  }, []);

  useEffect(() => {
    if (!refusal) return;
    const timer = setTimeout(() => setRefusal(undefined), 6000);
    return () => clearTimeout(timer);
  }, [refusal]);

  /** The container whose frame contains `point` (absolute canvas coordinates), excluding `exceptId`. */
  const containerAt = useCallback((point: { x: number; y: number }, exceptId?: string) => {
    const all = latest.current.nodes;
    return all.find((node) => {
      if (node.type !== "container" || node.id === exceptId) return false;
      const origin = absolutePosition(node, all);
      const width = node.measured?.width ?? node.width ?? CONTAINER_MIN.width;
      const height = node.measured?.height ?? node.height ?? CONTAINER_MIN.height;
      return point.x >= origin.x && point.x <= origin.x + width && point.y >= origin.y && point.y <= origin.y + height;
    });
  }, []);

  const addNode = useCallback(
    (nodeType: string, at?: { x: number; y: number }) => {
      const definition = definitionOf(nodeType);
      if (!definition) return;
      const bounds = canvasRef.current?.getBoundingClientRect();
      let position =
        at ?? flow.screenToFlowPosition({ x: (bounds?.left ?? 0) + (bounds?.width ?? 800) / 2 - 115, y: (bounds?.top ?? 0) + (bounds?.height ?? 600) / 2 - 40 });
      // Clicked nodes land in the middle of the view; when that spot is taken, the next free one to the right
      // (pipelines read left to right), so a new node never hides another.
      const overlaps = (x: number, y: number) =>
        latest.current.nodes.some((node) => {
          if (node.type === "container") return false;
          const origin = absolutePosition(node, latest.current.nodes);
          return Math.abs(origin.x - x) < (node.measured?.width ?? 230) + 10 && Math.abs(origin.y - y) < (node.measured?.height ?? 90) + 10;
        });
      while (!at && overlaps(position.x, position.y)) position = { x: position.x + 260, y: position.y };
      const container = definition.container ? undefined : containerAt({ x: position.x + 20, y: position.y + 20 });
      const id = freshId(nodeType, new Set(latest.current.nodes.map((node) => node.id)));
      const parentOrigin = container ? absolutePosition(container, latest.current.nodes) : { x: 0, y: 0 };
      const node: StudioNode = {
        id,
        type: rendererOf(nodeType),
        position: { x: position.x - parentOrigin.x, y: position.y - parentOrigin.y },
        ...(container ? { parentId: container.id } : {}),
        ...(definition.container ? { width: 560, height: 220, style: { zIndex: -1 } } : {}),
        data: { nodeType, params: {} },
        selected: true,
      };
      history.remember();
      setNodes((current) => [...current.map((other) => ({ ...other, selected: false })), node]);
    },
    [containerAt, flow, history],
  );

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(NODE_DRAG_TYPE)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
  }, []);
  const onDrop = useCallback(
    (event: DragEvent) => {
      const nodeType = event.dataTransfer.getData(NODE_DRAG_TYPE);
      if (!nodeType) return;
      event.preventDefault();
      // The node's header lands under the pointer.
      addNode(nodeType, flow.screenToFlowPosition({ x: event.clientX - 115, y: event.clientY - 16 }));
    },
    [addNode, flow],
  );

  // Dropping a node into a loop's frame puts it in that loop's body; dragging it out takes it out.
  const onNodeDragStop = useCallback(
    (_event: unknown, dragged: StudioNode) => {
      const all = latest.current.nodes;
      const moved = all.filter((node) => node.selected || node.id === dragged.id).filter((node) => node.type !== "container");
      let changed = false;
      const next = all.map((node) => {
        if (!moved.includes(node) || (node.parentId && moved.some((other) => other.id === node.parentId))) return node;
        const absolute = absolutePosition(node, all);
        const width = node.measured?.width ?? 230;
        const target = containerAt({ x: absolute.x + width / 2, y: absolute.y + 16 }, node.id);
        if ((target?.id ?? undefined) === node.parentId) return node;
        changed = true;
        const origin = target ? absolutePosition(target, all) : { x: 0, y: 0 };
        const { parentId: _old, ...rest } = node;
        return { ...rest, position: { x: absolute.x - origin.x, y: absolute.y - origin.y }, ...(target ? { parentId: target.id } : {}) };
      });
      if (!changed) return;
      // React Flow wants parents before their children.
      setNodes([...next.filter((node) => node.type === "container"), ...next.filter((node) => node.type !== "container")]);
    },
    [containerAt],
  );

  const onBeforeDelete = useCallback(async () => {
    history.remember();
    return true;
  }, [history]);

  const updateNodeData = useCallback(
    (id: string, patch: Partial<StudioNode["data"]>, coalesceKey: string) => {
      rememberCoalesced(coalesceKey);
      setNodes((current) => current.map((node) => (node.id === id ? { ...node, data: { ...node.data, ...patch } } : node)));
      // A loop's ports change with its mode: wires to ports that no longer exist are shown as problems.
      setEdges((current) => current.map((edge) => (edge.source === id ? { ...edge, style: edgeStyle(portsOfNode({ ...latest.current.nodes.find((n) => n.id === id)!.data, ...patch }).outputs[edge.sourceHandle ?? ""]?.type) } : edge)));
    },
    [rememberCoalesced],
  );

  const replaceGraph = useCallback(
    (next: Graph, options: { undoable: boolean }) => {
      if (options.undoable) history.remember();
      else history.reset();
      const converted = graphToFlow(next);
      setNodes(converted.nodes);
      setEdges(converted.edges);
      if (next.name && !pipeline) setName(next.name);
      requestAnimationFrame(() => flow.fitView({ padding: 0.15, duration: 200 }));
    },
    [flow, history, pipeline],
  );

  const copySelection = useCallback((cut: boolean) => {
    const all = latest.current.nodes;
    const selectedIds = new Set(all.filter((node) => node.selected).map((node) => node.id));
    // A copied loop brings its body along.
    for (const node of all) if (node.parentId && selectedIds.has(node.parentId)) selectedIds.add(node.id);
    if (selectedIds.size === 0) return;
    // A node copied without its loop is copied at its place on the canvas (its position was relative to the frame).
    const copiedNodes = all
      .filter((node) => selectedIds.has(node.id))
      .map((node) => (node.parentId && !selectedIds.has(node.parentId) ? { ...node, parentId: undefined, position: absolutePosition(node, all) } : node));
    const copied = flowToGraph(
      copiedNodes,
      latest.current.edges.filter((edge) => selectedIds.has(edge.source) && selectedIds.has(edge.target)),
    );
    localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(copied));
    if (cut) {
      history.remember();
      setNodes(all.filter((node) => !selectedIds.has(node.id)));
      setEdges((current) => current.filter((edge) => !selectedIds.has(edge.source) && !selectedIds.has(edge.target)));
    }
    toast(`${cut ? "Cut" : "Copied"} ${selectedIds.size} node${selectedIds.size === 1 ? "" : "s"}`);
  }, [history, toast]);

  const paste = useCallback(() => {
    const text = localStorage.getItem(CLIPBOARD_KEY);
    if (!text) return;
    const copied = JSON.parse(text) as Graph;
    const all = latest.current.nodes;
    const taken = new Set(all.map((node) => node.id));
    const renamed = new Map<string, string>();
    for (const node of copied.nodes) {
      const id = freshId(node.type, taken);
      taken.add(id);
      renamed.set(node.id, id);
    }
    const pasted = graphToFlow({
      ...copied,
      nodes: copied.nodes.map((node) => {
        const parentId = node.parentId && renamed.get(node.parentId);
        // Nodes pasted without their loop land on the top level, offset so they do not hide the originals.
        const position = parentId ? node.position : { x: node.position.x + 40, y: node.position.y + 40 };
        const { parentId: _old, ...rest } = node;
        return { ...rest, id: renamed.get(node.id)!, position, ...(parentId ? { parentId } : {}) };
      }),
      edges: copied.edges.map((edge) => ({ ...edge, id: `${edge.id}-${renamed.get(edge.source)}`, source: renamed.get(edge.source)!, target: renamed.get(edge.target)! })),
    });
    history.remember();
    setNodes([...all.map((node) => ({ ...node, selected: false })), ...pasted.nodes.map((node) => ({ ...node, selected: true }))]);
    setEdges((current) => [...current, ...pasted.edges]);
  }, [history]);

  // Design-tool shortcuts. Ctrl+S works everywhere; the rest only when not typing in a field.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (mod && key === "s") {
        event.preventDefault();
        void saving.save();
        return;
      }
      if (isTyping(event.target)) return;
      if (mod && key === "z" && !event.shiftKey) {
        event.preventDefault();
        history.undo();
      } else if (mod && ((key === "z" && event.shiftKey) || key === "y")) {
        event.preventDefault();
        history.redo();
      } else if (mod && key === "c") {
        copySelection(false);
      } else if (mod && key === "x") {
        copySelection(true);
      } else if (mod && key === "v") {
        paste();
      } else if (mod && key === "a") {
        event.preventDefault();
        setNodes((current) => current.map((node) => ({ ...node, selected: true })));
        setEdges((current) => current.map((edge) => ({ ...edge, selected: true })));
      } else if (event.shiftKey && event.code === "Digit1") {
        void flow.fitView({ padding: 0.15, duration: 200 });
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [copySelection, flow, history, paste, saving]);

  const selectedNodes = nodes.filter((node) => node.selected);
  const selected = selectedNodes.length === 1 ? selectedNodes[0] : undefined;

  return (
    <EditorViewContext.Provider value={view}>
      <div className={styles.editor}>
        <EditorToolbar
          name={name}
          onRename={setName}
          pipeline={saving.pipeline}
          saving={saving}
          history={history}
          graph={graph}
          problems={problems}
          onImport={(next) => replaceGraph(next, { undoable: true })}
          onRestore={(next) => replaceGraph(next, { undoable: false })}
          runner={runner}
        />
        <div className={styles.body}>
          <Palette onAdd={(nodeType) => addNode(nodeType)} />
          <div className={styles.canvas} ref={canvasRef} data-testid="canvas">
            <ReactFlow<StudioNode, StudioEdge>
              nodes={nodes}
              edges={shownEdges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onConnectEnd={onConnectEnd}
              isValidConnection={isValidConnection}
              onNodeDragStart={() => history.remember()}
              onNodeDragStop={onNodeDragStop}
              onSelectionDragStart={() => history.remember()}
              onBeforeDelete={onBeforeDelete}
              onDrop={onDrop}
              onDragOver={onDragOver}
              deleteKeyCode={["Delete", "Backspace"]}
              multiSelectionKeyCode={["Shift", "Meta", "Control"]}
              // Only a loaded graph is fitted: on an empty canvas the first dropped node must not move the view.
              fitView={initial.nodes.length > 0}
              fitViewOptions={{ padding: 0.15, maxZoom: 1.2 }}
              minZoom={0.1}
              colorMode="dark"
              proOptions={{ hideAttribution: true }}
            >
              <Background gap={20} size={1} />
              <Controls showInteractive={false} />
              <MiniMap pannable zoomable nodeStrokeWidth={3} nodeColor={(node) => (grouped.byNode.has(node.id) ? "#f06a6a" : node.type === "container" ? "#2a2f3a" : "#3a4150")} />
            </ReactFlow>
            {nodes.length === 0 && (
              <div className={styles.emptyCanvas}>
                <strong>An empty canvas</strong>
                Drag nodes from the palette, or click one to add it. A super-resolution pipeline is usually
                Load image → Chunk → Generate → Stitch → Save image.
              </div>
            )}
            {refusal && (
              <div className={styles.refusal} role="alert" data-testid="connection-refused">
                Connection refused: {refusal}
              </div>
            )}
          </div>
          <Inspector
            selected={selected}
            selectionCount={selectedNodes.length}
            problems={grouped}
            onChange={updateNodeData}
            nodeExtra={selected && <PlanPreview graph={graph} problemCount={problems.length} runner={runner} nodeId={selected.id} nodeType={selected.data.nodeType} />}
            onSelectNode={(id) => {
              setNodes((current) => current.map((node) => ({ ...node, selected: node.id === id })));
              const node = latest.current.nodes.find((candidate) => candidate.id === id);
              if (node) void flow.fitView({ nodes: [node], padding: 1.5, duration: 200, maxZoom: 1.2 });
            }}
          />
        </div>
        <RunBar runner={runner} />
      </div>
    </EditorViewContext.Provider>
  );
}
