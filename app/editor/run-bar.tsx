"use client";
// The strip under the canvas: what the current run is doing, how long it took, where its result is.
import Link from "next/link";
import { useEffect, useState } from "react";
import { formatMs } from "../ui/format";
import styles from "./editor.module.css";
import type { RunnerState } from "./use-runner";

export function RunBar({ runner }: { runner: RunnerState }) {
  const { status, runId, active } = runner;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [active]);
  const states = [...runner.nodeStates.values()];
  const finished = states.filter((state) => state.status === "done").length;
  const cached = states.filter((state) => state.status === "done" && state.cached).length;
  return (
    <div className={styles.runBar} data-testid="run-bar" data-status={status ?? "idle"}>
      {!status && <span className="muted">Choose an input image and press Run. Each node shows its progress and its last output.</span>}
      {active && (
        <span>
          <span className={`badge ${status === "starting" ? "queued" : status}`}>{status}</span> {finished}/{states.length} nodes done ·{" "}
          {formatMs(runner.startedAt ? now - runner.startedAt : 0)}
        </span>
      )}
      {status === "succeeded" && (
        <span>
          <span className="badge succeeded">succeeded</span> in {formatMs(runner.totalMs)}
          {cached > 0 && <span className="muted"> · {cached} of {states.length} nodes from cache</span>}
          {runner.outputs.map((output) => (
            <span key={output.artifactId} className="muted">
              {" "}
              · {output.name} {output.width}×{output.height}
            </span>
          ))}
        </span>
      )}
      {status === "failed" && (
        <span className="error-text" data-testid="run-error">
          <span className="badge failed">failed</span> {runner.failedNodeId ? `at ${runner.failedNodeId}: ` : ""}
          {runner.message}
        </span>
      )}
      {(status === "canceled" || status === "interrupted") && (
        <span>
          <span className={`badge ${status}`}>{status}</span> <span className="muted">the run stopped; nothing was saved</span>
        </span>
      )}
      <span className="spacer" />
      {runId && (
        <Link href={`/runs/${runId}`} data-testid="open-run">
          {status === "succeeded" ? "Open result →" : "Run details →"}
        </Link>
      )}
    </div>
  );
}
