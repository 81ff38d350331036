"use client";
// The processes executing runs: `tudsr worker` processes on the distributed queue (TUDSR_REDIS_URL), else the
// studio's own executor; what each runs now, its last heartbeat, and the queue's depth. Refreshed every 2 s.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { errorMessage } from "../ui/errors";
import { formatWhen } from "../ui/format";
import { useTRPC } from "../ui/trpc";
import styles from "./workers.module.css";

export function WorkersPage() {
  const trpc = useTRPC();
  const overview = useQuery({ ...trpc.workers.list.queryOptions(), refetchInterval: 2000 });
  const data = overview.data;

  return (
    <main className="page">
      <div className="page-header">
        <h1>Workers</h1>
        <span className="muted small">
          {data?.mode === "distributed"
            ? "Runs execute on tudsr worker processes (BullMQ on Redis); start more on any machine with `npx tudsr worker`."
            : data
              ? "Runs execute in the studio's own executor process (the embedded queue; set TUDSR_REDIS_URL to run workers on other machines)."
              : ""}
        </span>
      </div>

      {overview.isError && <div className="alert error">Could not list the workers: {errorMessage(overview.error)}</div>}

      {data && (
        <p className={styles.depth} data-testid="queue-depth">
          <span>
            waiting <strong>{data.queue.waiting}</strong>
          </span>
          <span>
            active <strong>{data.queue.active}</strong>
          </span>
          <span>
            delayed <strong>{data.queue.delayed}</strong>
          </span>
        </p>
      )}

      <table className="table" data-testid="workers-table" aria-busy={!data}>
        <thead>
          <tr>
            <th>Worker</th>
            <th>Host</th>
            <th className="num">PID</th>
            <th className="num">Concurrency</th>
            <th>Running now</th>
            <th>Last heartbeat</th>
            <th>Artifacts</th>
          </tr>
        </thead>
        <tbody>
          {data?.workers.map((worker) => (
            <tr key={worker.name} data-testid="worker-row">
              <td className="mono">{worker.name}</td>
              <td>{worker.host}</td>
              <td className="num">{worker.pid}</td>
              <td className="num">{worker.concurrency}</td>
              <td>
                {worker.running.length === 0 ? (
                  <span className="muted">idle</span>
                ) : (
                  worker.running.map((runId) => (
                    <Link key={runId} href={`/runs/${runId}`} className={`mono ${styles.run}`}>
                      {runId}
                    </Link>
                  ))
                )}
              </td>
              <td title={new Date(worker.heartbeatAt).toLocaleString()}>{formatWhen(new Date(worker.heartbeatAt))}</td>
              <td className="muted small">{worker.store}</td>
            </tr>
          ))}
          {data && data.workers.length === 0 && (
            <tr>
              <td colSpan={7} className="muted">
                No worker is connected: queued runs wait until one starts (<code>npx tudsr worker</code>).
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </main>
  );
}
