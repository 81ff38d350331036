"use client";
import { GRAPH_VERSION, type Graph } from "../../../nodes/graph/schema";
import { Editor } from "../../editor/editor";

const EMPTY: Graph = { version: GRAPH_VERSION, nodes: [], edges: [] };

/** An empty canvas; the first save (Ctrl+S) creates the pipeline. */
export default function NewPipelinePage() {
  return <Editor graph={EMPTY} />;
}
