// A run's status as a coloured badge (the colours are globals.css's `.badge.<status>`); a running run has a dot.
import type { RunStatus as Status } from "../../server/api/contract";
import styles from "./run-status.module.css";

/** A run in one of these may still change: pages poll or subscribe while they show one. */
export function isActiveStatus(status: Status): boolean {
  return status === "queued" || status === "running";
}

// As server/runs/events.ts's isFinalEvent, which the browser cannot import (it reads the database).
const FINAL_EVENTS = new Set(["run-succeeded", "run-failed", "run-canceled", "run-interrupted"]);

/** The last event a run's stream sends: the run has ended, its stored record is complete. */
export function isFinalRunEvent(type: string): boolean {
  return FINAL_EVENTS.has(type);
}

export function RunStatus({ status, testId }: { status: Status; testId?: string }) {
  return (
    <span className={`badge ${status}`} data-testid={testId}>
      {status === "running" && <span className={styles.dot} aria-hidden="true" />}
      {status}
    </span>
  );
}
