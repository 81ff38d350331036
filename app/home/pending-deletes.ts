// Pipelines deleted in this tab whose Undo window is still open: hidden from every list until the delete is
// sent (or undone). Module-level, so leaving the page and coming back within the window keeps them hidden.
import { useSyncExternalStore } from "react";

let pending: ReadonlySet<string> = new Set();
const listeners = new Set<() => void>();

function update(next: Set<string>): void {
  pending = next;
  for (const notify of listeners) notify();
}

export function markPendingDelete(id: string): void {
  update(new Set(pending).add(id));
}

export function clearPendingDelete(id: string): void {
  const next = new Set(pending);
  next.delete(id);
  update(next);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const nothing: ReadonlySet<string> = new Set();

export function usePendingDeletes(): ReadonlySet<string> {
  return useSyncExternalStore(subscribe, () => pending, () => nothing);
}
