"use client";
// What the canvas nodes read besides their own data: validation problems and the live run's per-node state.
// Kept out of node data so a run or a re-validation never enters the undo history.
import { createContext, useContext } from "react";
import { NO_TILE_MAPS, type TileMaps } from "../ui/tile-map";

export type NodeRunStatus = "queued" | "running" | "done" | "failed" | "canceled";

export interface NodeRunState {
  status: NodeRunStatus;
  done?: number;
  total?: number;
  ms?: number;
  cached?: boolean;
  message?: string;
}

export interface NodePreview {
  dataUrl: string;
  width: number;
  height: number;
  port: string;
}

export interface EditorView {
  problems: ReadonlyMap<string, string[]>;
  runStates: ReadonlyMap<string, NodeRunState>;
  previews: ReadonlyMap<string, NodePreview>;
  /** The running (or stopped) run's tile maps, by node. */
  tileMaps: TileMaps;
}

export const EditorViewContext = createContext<EditorView>({ problems: new Map(), runStates: new Map(), previews: new Map(), tileMaps: NO_TILE_MAPS });

export function useEditorView(): EditorView {
  return useContext(EditorViewContext);
}
