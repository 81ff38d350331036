"use client";
// Runs side by side, the way the TUDSR paper compares x8 strategies: each run's output in a viewer that shares
// one zoom and pan with the others (the same part of the picture everywhere), its mean Y-PSNR/SSIM beneath.
import { useQueries } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { RunDetail } from "../../../server/api/contract";
import { errorMessage } from "../../ui/errors";
import { formatDb, formatMs } from "../../ui/format";
import { ImageViewer } from "../../ui/image-viewer";
import type { ViewerView } from "../../ui/pan-zoom";
import { isActiveStatus, RunStatus } from "../../ui/run-status";
import { useTRPC } from "../../ui/trpc";
import { formatSsim, meanByLabel, type MetricMean } from "../metrics";
import { mainFirst, overridesText, runLabel } from "../run-text";
import styles from "./compare.module.css";

const REFRESH_MS = 2000;

export function CompareView({ ids }: { ids: string[] }) {
  const trpc = useTRPC();
  // A run still going shows its outputs once it is done.
  const runs = useQueries({
    queries: ids.map((id) =>
      trpc.runs.get.queryOptions({ id }, { refetchInterval: (query) => (query.state.data && isActiveStatus(query.state.data.status) ? REFRESH_MS : false) }),
    ),
  });
  const [view, setView] = useState<ViewerView | null>(null);

  if (ids.length < 2) {
    return (
      <main className="page">
        <h1>Compare runs</h1>
        <div className="empty">
          <strong>Pick two or more runs to compare</strong>
          Tick them on the <Link href="/runs">Runs</Link> page and press Compare.
        </div>
      </main>
    );
  }

  // The range of each metric label's means over the runs, to mark the best one under its pane (not a tie).
  const means = runs.map((result) => (result.data ? meanByLabel(result.data.metrics) : []));
  const ranges: Ranges = new Map();
  for (const mean of means.flat()) {
    const range = ranges.get(mean.label) ?? { psnr: [Infinity, -Infinity], ssim: [Infinity, -Infinity] };
    for (const key of ["psnr", "ssim"] as const) range[key] = [Math.min(range[key][0], mean[key]), Math.max(range[key][1], mean[key])];
    ranges.set(mean.label, range);
  }
  const columns = ids.length === 4 ? 2 : Math.min(ids.length, 3);

  return (
    <main className={`page ${styles.page}`}>
      <div className="page-header">
        <h1>Compare {ids.length} runs</h1>
        <span className="muted small">Zoom and pan are linked: wheel to zoom, drag to pan, 0 to fit, 1 for actual pixels.</span>
        <span className="spacer" />
        <Link href="/runs">← Runs</Link>
      </div>
      <div className={`${styles.grid} ${ids.length > 3 ? styles.rows : ""}`} style={{ gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))` }}>
        {ids.map((id, index) => {
          const result = runs[index];
          return (
            <section key={id} className={styles.pane} data-testid="compare-pane">
              {result.data ? (
                <ComparePane run={result.data} means={means[index]} ranges={ranges} view={view} onViewChange={setView} />
              ) : (
                <>
                  <div className={styles.paneHead}>
                    <span className="mono">{id}</span>
                  </div>
                  <div className={styles.paneSub}>&nbsp;</div>
                  <div className={`${styles.placeholder} ${result.error ? "error-text" : "muted"}`}>
                    {result.error ? `Could not load run ${id}: ${errorMessage(result.error)}` : "Loading run…"}
                  </div>
                </>
              )}
            </section>
          );
        })}
      </div>
    </main>
  );
}

/** Metric label -> [lowest, highest] mean over the compared runs. */
type Ranges = Map<string, Record<"psnr" | "ssim", [number, number]>>;

interface PaneProps {
  run: RunDetail;
  means: MetricMean[];
  ranges: Ranges;
  view: ViewerView | null;
  onViewChange: (view: ViewerView | null) => void;
}

function ComparePane({ run, means, ranges, view, onViewChange }: PaneProps) {
  const outputs = mainFirst(run.outputs);
  const [picked, setPicked] = useState(outputs[0]?.id);
  const output = outputs.find((candidate) => candidate.id === picked) ?? outputs[0];
  const marked = (label: string, key: "psnr" | "ssim", value: number, text: string) => {
    const [low, high] = ranges.get(label)![key];
    return value === high && high > low ? <strong className={styles.best}>{text}</strong> : text;
  };
  return (
    <>
      <div className={styles.paneHead}>
        <Link href={`/runs/${run.id}`} className={styles.paneTitle} title={run.id}>
          {runLabel(run)}
        </Link>
        <RunStatus status={run.status} />
        <span className="spacer" />
        {outputs.length > 1 && (
          <select value={output.id} onChange={(event) => setPicked(event.target.value)} aria-label={`Output of ${runLabel(run)}`}>
            {outputs.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                {candidate.name ?? candidate.id}
              </option>
            ))}
          </select>
        )}
      </div>
      {/* Always there (a space when empty), so the viewers of all panes line up. */}
      <div className={`muted small mono ${styles.paneSub}`} title={overridesText(run.overrides)}>
        {overridesText(run.overrides) || "\u00a0"}
      </div>
      {output ? (
        <ImageViewer
          key={output.id}
          className={styles.viewer}
          src={`/api/v1/artifacts/${output.id}`}
          width={output.width}
          height={output.height}
          alt={`${runLabel(run)} output "${output.name ?? output.id}"`}
          view={view}
          onViewChange={onViewChange}
        />
      ) : (
        <div className={`${styles.placeholder} muted`}>
          No outputs: the run {run.status === "failed" ? `failed${run.errorNodeId ? ` at ${run.errorNodeId}` : ""}: ${run.error}` : `is ${run.status}`}.
        </div>
      )}
      <div className={styles.paneFoot}>
        {means.length > 0 ? (
          <table className="table">
            <thead>
              <tr>
                <th>Metric</th>
                <th className="num">Y-PSNR</th>
                <th className="num">SSIM</th>
              </tr>
            </thead>
            <tbody>
              {means.map((mean) => (
                <tr key={mean.label}>
                  <td>
                    {mean.label}
                    {mean.count > 1 && <span className="muted small"> (mean of {mean.count})</span>}
                  </td>
                  <td className="num">{marked(mean.label, "psnr", mean.psnr, formatDb(mean.psnr))}</td>
                  <td className="num">{marked(mean.label, "ssim", mean.ssim, formatSsim(mean.ssim))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="muted small">No metrics: this pipeline has no metrics node.</p>
        )}
        <p className="muted small">
          engine {formatMs(run.totalMs)}
          {output && ` · ${output.width} × ${output.height} ${output.format}`}
        </p>
      </div>
    </>
  );
}
