"use client";
// One run: status (live while it runs), cancel / re-run, its error, its outputs in the viewer, metrics and
// per-node timings.
import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { RunDetail, RunEvent, RunSnapshotEvent } from "../../../server/api/contract";
import { errorMessage } from "../../ui/errors";
import { formatBytes, formatMs, formatWhen } from "../../ui/format";
import { ImageViewer } from "../../ui/image-viewer";
import { isActiveStatus, isFinalRunEvent, RunStatus } from "../../ui/run-status";
import { applyTileMapEvent, NO_TILE_MAPS, type TileMaps } from "../../ui/tile-map";
import { useToast } from "../../ui/toast";
import { useTRPC } from "../../ui/trpc";
import { MetricsTable } from "../metrics";
import { mainFirst, runDurationMs, runLabel, triggerLabel, useNow } from "../run-text";
import { applyNodeEvent, type LiveNodes, LiveProgress } from "./live-progress";
import styles from "./run.module.css";
import { StampPanel } from "./stamp-panel";
import { RunTileMaps } from "./tile-maps";
import { TiledImageViewer } from "./tiled-viewer";
import { TimingsTable } from "./timings-table";

export function RunView({ id }: { id: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const router = useRouter();
  const runKey = trpc.runs.get.queryKey({ id });
  const query = useQuery(trpc.runs.get.queryOptions({ id }));
  const run = query.data;
  const active = run !== undefined && isActiveStatus(run.status);
  const [live, setLive] = useState<LiveNodes>({});
  const [tileMaps, setTileMaps] = useState<TileMaps>(NO_TILE_MAPS);
  const [watchedFromStart, setWatchedFromStart] = useState(false);
  // Canceled while running: the row says canceled at once, the engine's timings come with its last event.
  const [stopping, setStopping] = useState(false);
  const now = useNow(run?.status === "running");

  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: runKey });
    void queryClient.invalidateQueries({ queryKey: trpc.runs.list.pathKey() });
  };

  const onEvent = (event: RunEvent | RunSnapshotEvent) => {
    if (event.type === "run-snapshot") {
      if (event.run.status === "queued") setWatchedFromStart(true);
      if (event.run.status !== run?.status || stopping) refresh();
      if (!isActiveStatus(event.run.status)) setStopping(false);
      return;
    }
    if (event.type === "run-started" || isFinalRunEvent(event.type)) refresh();
    if (isFinalRunEvent(event.type)) setStopping(false);
    if (event.type === "tile-map") setTileMaps((maps) => applyTileMapEvent(maps, event));
    else setLive((nodes) => applyNodeEvent(nodes, event));
  };
  const events = useSubscription(trpc.runs.events.subscriptionOptions({ id }, { enabled: active || stopping, onData: onEvent }));

  const cancel = useMutation(
    trpc.runs.cancel.mutationOptions({
      onSuccess: (result) => {
        queryClient.setQueryData(runKey, result.run);
        setStopping(result.result === "canceling");
        void queryClient.invalidateQueries({ queryKey: trpc.runs.list.pathKey() });
        toast(result.result === "not-active" ? `The run had already ended: ${result.run.status}` : "Run canceled");
      },
      onError: (error) => toast(`Could not cancel the run: ${errorMessage(error)}`, { kind: "error" }),
    }),
  );
  const requeue = useMutation(
    trpc.runs.requeue.mutationOptions({
      onSuccess: (next) => {
        void queryClient.invalidateQueries({ queryKey: trpc.runs.list.pathKey() });
        toast("Queued again as a new run");
        router.push(`/runs/${next.id}`);
      },
      onError: (error) => toast(`Could not re-run: ${errorMessage(error)}`, { kind: "error" }),
    }),
  );

  if (query.error) {
    return (
      <main className="page">
        <p>
          <Link href="/runs">← Runs</Link>
        </p>
        <div className="alert error" data-testid="run-error">
          Could not load run <code>{id}</code>: {errorMessage(query.error)}
        </div>
      </main>
    );
  }

  return (
    <main className={`page ${styles.page}`}>
      <p className={styles.back}>
        <Link href="/runs">← Runs</Link>
      </p>
      <div className="page-header">
        <h1>{run ? runLabel(run) : "Run"}</h1>
        {run ? <RunStatus status={run.status} testId="run-status" /> : <span className="muted">loading…</span>}
        <span className="spacer" />
        {run?.pipelineId && run.pipelineName !== null && (
          <Link className="button" href={`/pipelines/${run.pipelineId}`}>
            Open in editor
          </Link>
        )}
        {run && ["failed", "canceled", "interrupted"].includes(run.status) && (
          <button onClick={() => requeue.mutate({ id })} disabled={requeue.isPending} data-testid="requeue-run">
            {requeue.isPending ? "Queuing…" : "Re-run"}
          </button>
        )}
        {active && (
          <button className="danger" onClick={() => cancel.mutate({ id })} disabled={cancel.isPending} data-testid="cancel-run">
            {cancel.isPending ? "Canceling…" : "Cancel"}
          </button>
        )}
      </div>

      {run ? <RunFacts run={run} now={now} /> : <p className={`muted small ${styles.facts}`}>&nbsp;</p>}

      {run && <RunAlerts run={run} />}
      {active && events.status === "error" && (
        <div className="alert warn">Live progress is unavailable ({errorMessage(events.error)}); reload the page to see where the run is.</div>
      )}
      {run?.status === "queued" && <p className="muted">Waiting in the queue: it starts once the worker has finished the runs before it.</p>}
      {run && active && <LiveProgress graphNodes={run.graph.nodes} live={live} watchedFromStart={watchedFromStart} />}
      {run && tileMaps.size > 0 && <RunTileMaps graphNodes={run.graph.nodes} maps={tileMaps} active={active} />}

      {run && run.outputs.length > 0 && <Outputs run={run} />}

      {run && (run.metrics.length > 0 || run.nodes.length > 0) && (
        <div className={styles.tables}>
          {run.metrics.length > 0 && (
            <section>
              <h2>Metrics</h2>
              <MetricsTable metrics={run.metrics} />
            </section>
          )}
          {run.nodes.length > 0 && (
            <section>
              <h2>Timings</h2>
              <TimingsTable nodes={run.nodes} totalMs={run.totalMs} worker={run.worker ?? null} />
            </section>
          )}
        </div>
      )}

      {run && <RunInputs run={run} />}
      {run && <StampPanel run={run} />}
    </main>
  );
}

function RunFacts({ run, now }: { run: RunDetail; now: number }) {
  const facts: [string, string, string?][] = [
    ["trigger", triggerLabel(run.trigger)],
    ["queued", formatWhen(run.createdAt), run.createdAt.toLocaleString()],
  ];
  if (run.startedAt) facts.push(["started", formatWhen(run.startedAt), run.startedAt.toLocaleString()]);
  if (run.finishedAt) facts.push(["finished", formatWhen(run.finishedAt), run.finishedAt.toLocaleString()]);
  if (run.startedAt) facts.push([run.finishedAt ? "took" : "running for", formatMs(runDurationMs(run, now))]);
  if (run.totalMs !== null) facts.push(["engine", formatMs(run.totalMs)]);
  if (run.worker) facts.push(["worker", run.worker]);
  return (
    <p className={`muted small ${styles.facts}`}>
      {facts.map(([name, value, title]) => (
        <span key={name} title={title}>
          {name} <span className={styles.factValue}>{value}</span>
        </span>
      ))}
      <span className="mono">{run.id}</span>
    </p>
  );
}

function RunAlerts({ run }: { run: RunDetail }) {
  if (run.status === "failed") {
    return (
      <div className="alert error" data-testid="run-failure">
        {run.errorNodeId ? (
          <>
            Failed at node <code>{run.errorNodeId}</code>: {run.error}
          </>
        ) : (
          <>Failed: {run.error}</>
        )}
      </div>
    );
  }
  if (run.status === "interrupted") return <div className="alert warn">Interrupted: {run.error ?? "the server stopped while it ran"}. Re-run it to try again.</div>;
  if (run.status === "canceled") return <div className="alert warn">Canceled{run.startedAt ? "" : " before it started"}.</div>;
  return null;
}

/** Outputs this large have a Deep Zoom pyramid beside their file (server/images/deep-zoom.ts). */
const DEEP_ZOOM_MIN_PIXELS = 4096 * 4096;

function Outputs({ run }: { run: RunDetail }) {
  const outputs = mainFirst(run.outputs);
  const [picked, setPicked] = useState(outputs[0].id);
  const output = outputs.find((candidate) => candidate.id === picked) ?? outputs[0];
  const inputId = run.inputs.input ?? Object.values(run.inputs)[0];
  const input = useQuery(useTRPC().artifacts.get.queryOptions(inputId ? { id: inputId } : skipToken)).data;
  const url = `/api/v1/artifacts/${output.id}`;
  const sameSize = input && input.width === output.width && input.height === output.height;
  const beforeLabel = input ? `input ${input.width} × ${input.height}${sameSize ? "" : ", enlarged by the browser"}` : "input";
  // A large output is shown by tiles where the server made its pyramid (older runs have none: the whole file).
  const large = output.width * output.height >= DEEP_ZOOM_MIN_PIXELS;
  const tiles = useQuery(useTRPC().artifacts.tiles.queryOptions(large ? { id: output.id } : skipToken));
  const download = (
    <a className="button small" href={url} download data-testid="download-output">
      Download {output.format.toUpperCase()} · {formatBytes(output.sizeBytes)}
    </a>
  );
  return (
    <section>
      <div className="row">
        <h2>Output{outputs.length > 1 ? "s" : ""}</h2>
        {outputs.length > 1 && (
          <div className={styles.tabs} role="tablist" aria-label="Outputs">
            {outputs.map((candidate) => (
              <button key={candidate.id} role="tab" className="small" aria-selected={candidate.id === output.id} onClick={() => setPicked(candidate.id)}>
                {candidate.name ?? candidate.id}
              </button>
            ))}
          </div>
        )}
      </div>
      {large && tiles.isPending ? (
        <div className={`${styles.viewer} muted`}>Loading {output.width} × {output.height} output…</div>
      ) : large && tiles.data ? (
        <TiledImageViewer key={output.id} className={styles.viewer} image={tiles.data} alt={`output "${output.name ?? output.id}"`} actions={download} />
      ) : (
        <ImageViewer
          key={output.id}
          className={styles.viewer}
          src={url}
          width={output.width}
          height={output.height}
          alt={`output "${output.name ?? output.id}"`}
          afterLabel={`output ${output.width} × ${output.height}`}
          before={inputId ? { src: `/api/v1/artifacts/${inputId}`, label: beforeLabel } : undefined}
          actions={download}
        />
      )}
    </section>
  );
}

function RunInputs({ run }: { run: RunDetail }) {
  const inputs = Object.entries(run.inputs);
  if (inputs.length === 0 && run.overrides.length === 0 && !run.requeuedFrom) return null;
  return (
    <section>
      <h2>Inputs</h2>
      <ul className={styles.inputs}>
        {inputs.map(([name, artifactId]) => (
          <InputItem key={name} name={name} artifactId={artifactId} />
        ))}
        {run.overrides.map((override) => (
          <li key={`${override.nodeId}.${override.param}`}>
            <span className="mono">
              {override.nodeId}.{override.param}
            </span>{" "}
            set to <span className="mono">{JSON.stringify(override.value)}</span>
          </li>
        ))}
        {run.requeuedFrom && (
          <li>
            re-run of <Link href={`/runs/${run.requeuedFrom}`}>{run.requeuedFrom}</Link>
          </li>
        )}
      </ul>
    </section>
  );
}

function InputItem({ name, artifactId }: { name: string; artifactId: string }) {
  const input = useQuery(useTRPC().artifacts.get.queryOptions({ id: artifactId }));
  return (
    <li>
      <span className="mono">{name}</span>:{" "}
      {input.data ? (
        <>
          {input.data.width} × {input.data.height} {input.data.format}, {formatBytes(input.data.sizeBytes)}{" "}
        </>
      ) : input.error ? (
        <span className="error-text">{errorMessage(input.error)} </span>
      ) : null}
      <a href={`/api/v1/artifacts/${artifactId}`}>download</a>
    </li>
  );
}
