"use client";
// The runs table: newest first, filtered by status, refreshed while any run shown may still change; pick two
// or more runs with outputs to compare them.
import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { RunListItem, RunStatus as Status } from "../../server/api/contract";
import { errorMessage } from "../ui/errors";
import { formatMs, formatWhen } from "../ui/format";
import { isActiveStatus, RunStatus } from "../ui/run-status";
import { useTRPC } from "../ui/trpc";
import { overridesText, runDurationMs, runLabel, triggerLabel, useNow } from "./run-text";
import styles from "./runs.module.css";

/** Filter buttons, in the order a run goes through them. */
const STATUS_FILTERS: Record<Status, string> = {
  queued: "Queued",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  canceled: "Canceled",
  interrupted: "Interrupted",
};

const PAGE_SIZE = 50;
const REFRESH_MS = 2000;

export function RunsList({ initialStatus }: { initialStatus: Status | null }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [status, setStatus] = useState<Status | null>(initialStatus);
  const [picked, setPicked] = useState<string[]>([]);

  const runs = useInfiniteQuery(
    trpc.runs.list.infiniteQueryOptions(
      { status: status ?? undefined, limit: PAGE_SIZE },
      {
        getNextPageParam: (page) => page.nextCursor ?? undefined,
        refetchInterval: (query) => (query.state.data?.pages.some((page) => page.runs.some((run) => isActiveStatus(run.status))) ? REFRESH_MS : false),
      },
    ),
  );
  const rows = runs.data?.pages.flatMap((page) => page.runs) ?? [];
  const now = useNow(rows.some((run) => run.status === "running"));

  const chooseStatus = (next: Status | null) => {
    setStatus(next);
    // Keep the filter in the address, so a reload or a shared link shows the same list.
    window.history.replaceState(null, "", next ? `/runs?status=${next}` : "/runs");
  };
  const toggle = (id: string) => setPicked((list) => (list.includes(id) ? list.filter((other) => other !== id) : [...list, id]));

  return (
    <main className="page">
      <div className="page-header">
        <h1>Runs</h1>
        <span className="spacer" />
        {picked.length > 0 && (
          <button className="ghost small" onClick={() => setPicked([])}>
            Clear selection
          </button>
        )}
        <button
          className="primary"
          disabled={picked.length < 2}
          title={picked.length < 2 ? "Tick two or more runs with outputs" : undefined}
          onClick={() => router.push(`/runs/compare?ids=${picked.map(encodeURIComponent).join(",")}`)}
          data-testid="compare-runs"
        >
          Compare{picked.length >= 2 ? ` ${picked.length} runs` : ""}
        </button>
      </div>

      <div className={styles.filters} role="group" aria-label="Filter by status">
        <button className="small" aria-pressed={status === null} onClick={() => chooseStatus(null)}>
          All
        </button>
        {(Object.keys(STATUS_FILTERS) as Status[]).map((value) => (
          <button key={value} className="small" aria-pressed={status === value} onClick={() => chooseStatus(value)}>
            {STATUS_FILTERS[value]}
          </button>
        ))}
      </div>

      {runs.error ? (
        <div className="alert error row">
          <span>Could not load the runs: {errorMessage(runs.error)}</span>
          <span className="spacer" />
          <button className="small" onClick={() => void runs.refetch()}>
            Retry
          </button>
        </div>
      ) : runs.data && rows.length === 0 ? (
        <EmptyRuns status={status} onShowAll={() => chooseStatus(null)} />
      ) : (
        <table className="table" data-testid="runs-table">
          <thead>
            <tr>
              <th className={styles.pick}>
                <span className={styles.srOnly}>Compare</span>
              </th>
              <th>Status</th>
              <th>Pipeline</th>
              <th>Started</th>
              <th className="num">Duration</th>
              <th>Trigger</th>
              <th className="num">Outputs</th>
              <th>Run</th>
            </tr>
          </thead>
          <tbody>
            {runs.data ? (
              rows.map((run) => <RunRow key={run.id} run={run} now={now} picked={picked.includes(run.id)} onToggle={() => toggle(run.id)} />)
            ) : (
              <tr>
                <td colSpan={8} className={`muted ${styles.loading}`}>
                  Loading runs…
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}

      {runs.hasNextPage && (
        <div className={styles.more}>
          <button onClick={() => void runs.fetchNextPage()} disabled={runs.isFetchingNextPage}>
            {runs.isFetchingNextPage ? "Loading…" : "Older runs"}
          </button>
        </div>
      )}
    </main>
  );
}

function RunRow({ run, now, picked, onToggle }: { run: RunListItem; now: number; picked: boolean; onToggle: () => void }) {
  const href = `/runs/${run.id}`;
  const started = run.startedAt ?? run.createdAt;
  return (
    <tr className={picked ? styles.picked : undefined} data-testid="run-row">
      <td className={styles.pick}>
        <input
          type="checkbox"
          checked={picked}
          disabled={run.outputCount === 0 && !picked}
          onChange={onToggle}
          aria-label={`Compare run ${run.id}`}
          title={run.outputCount === 0 ? "This run has no outputs to compare" : "Pick for comparison"}
        />
      </td>
      <td>
        <RunStatus status={run.status} />
      </td>
      <td>
        <Link href={href}>{runLabel(run)}</Link>
        {run.overrides.length > 0 && (
          <div className={`muted small mono ${styles.clip}`} title={overridesText(run.overrides)}>
            {overridesText(run.overrides)}
          </div>
        )}
        {run.status === "failed" && run.error && (
          <div className={`error-text small ${styles.clip}`} title={run.error}>
            {run.errorNodeId ? `${run.errorNodeId}: ` : ""}
            {run.error}
          </div>
        )}
      </td>
      <td title={started.toLocaleString()}>
        {run.startedAt ? formatWhen(run.startedAt) : <span className="muted">queued {formatWhen(run.createdAt)}</span>}
      </td>
      <td className="num">{formatMs(runDurationMs(run, now))}</td>
      <td>{triggerLabel(run.trigger)}</td>
      <td className="num">{run.outputCount}</td>
      <td>
        <Link href={href} className="mono muted">
          {run.id.slice(-8)}
        </Link>
      </td>
    </tr>
  );
}

function EmptyRuns({ status, onShowAll }: { status: Status | null; onShowAll: () => void }) {
  if (status) {
    return (
      <div className="empty">
        <strong>No {status} runs</strong>
        <button className="small" onClick={onShowAll}>
          Show all runs
        </button>
      </div>
    );
  }
  return (
    <div className="empty" data-testid="runs-empty">
      <strong>No runs yet</strong>
      <p>
        Open a pipeline or start from a template on the <Link href="/">Pipelines</Link> page and press Run.
      </p>
      <p className="small">
        Scripts start runs too: <code>npx tudsr run x4-chunked --input photo.png --output out.png --server http://127.0.0.1:3000 --key $KEY</code>
      </p>
    </div>
  );
}
