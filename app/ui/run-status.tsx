// A run's status as a coloured badge (the colours are globals.css's `.badge.<status>`); a running run pulses.
import type { RunStatus as Status } from "../../server/db/runs";
import styles from "./run-status.module.css";

/** A run in one of these may still change: pages poll or subscribe while they show one. */
export function isActiveStatus(status: Status): boolean {
  return status === "queued" || status === "running";
}

export function RunStatus({ status, testId }: { status: Status; testId?: string }) {
  return (
    <span className={`badge ${status}`} data-testid={testId}>
      {status === "running" && <span className={styles.pulse} aria-hidden="true" />}
      {status}
    </span>
  );
}
