"use client";
// Undo/redo as snapshots of the canvas (design-tool style: every committed edit is one step). A snapshot is
// taken before each change; selection and run state are not part of it.
import { useCallback, useRef, useState } from "react";
import type { StudioEdge, StudioNode } from "./flow-graph";

export interface Snapshot {
  nodes: StudioNode[];
  edges: StudioEdge[];
}

const LIMIT = 200;

export function useHistory(current: () => Snapshot, restore: (snapshot: Snapshot) => void) {
  const past = useRef<Snapshot[]>([]);
  const future = useRef<Snapshot[]>([]);
  // Re-render the toolbar when undo/redo availability changes.
  const [, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);

  /** Call before applying an edit: the state as it was becomes one undo step. */
  const remember = useCallback(() => {
    past.current = [...past.current.slice(-(LIMIT - 1)), current()];
    future.current = [];
    bump();
  }, [current]);

  const undo = useCallback(() => {
    const previous = past.current.pop();
    if (!previous) return;
    future.current.push(current());
    restore(previous);
    bump();
  }, [current, restore]);

  const redo = useCallback(() => {
    const next = future.current.pop();
    if (!next) return;
    past.current.push(current());
    restore(next);
    bump();
  }, [current, restore]);

  const reset = useCallback(() => {
    past.current = [];
    future.current = [];
    bump();
  }, []);

  return { remember, undo, redo, reset, canUndo: past.current.length > 0, canRedo: future.current.length > 0 };
}
