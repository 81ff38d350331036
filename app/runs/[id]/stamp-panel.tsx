"use client";
// A run's reproducibility stamp (what made its bytes, recorded where it ran), the "Re-run exactly" button, and,
// on a re-run, whether its stamp and its output bytes matched the run it repeats.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import type { RunDetail, RunStamp } from "../../../server/api/contract";
import { errorMessage } from "../../ui/errors";
import { isActiveStatus } from "../../ui/run-status";
import { useToast } from "../../ui/toast";
import { useTRPC } from "../../ui/trpc";
import styles from "./stamp-panel.module.css";

const short = (hash: string | null) => (hash ? `${hash.slice(0, 12)}…` : "none");

export function StampPanel({ run }: { run: RunDetail }) {
  const stamp = run.stamp;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const router = useRouter();
  const rerun = useMutation(
    trpc.runs.rerun.mutationOptions({
      onSuccess: (next) => {
        void queryClient.invalidateQueries({ queryKey: trpc.runs.list.pathKey() });
        toast("Re-running exactly, as a new run");
        router.push(`/runs/${next.id}`);
      },
      onError: (error) => toast(`Could not re-run exactly: ${errorMessage(error)}`, { kind: "error" }),
    }),
  );
  if (!stamp) return null;
  // A refused re-run offers "Re-run anyway" instead: re-running it exactly would compare with its own stamp.
  const refused = run.status === "failed" && stamp.rerun !== undefined && !stamp.rerun.forced && stamp.rerun.differences.length > 0;
  const canRerun = !isActiveStatus(run.status) && !refused;
  return (
    <section data-testid="stamp-panel">
      <div className="row">
        <h2>Reproducibility</h2>
        <span className="spacer" />
        {canRerun && (
          <button className="small" onClick={() => rerun.mutate({ id: run.id })} disabled={rerun.isPending} data-testid="rerun-exactly">
            {rerun.isPending ? "Queuing…" : "Re-run exactly"}
          </button>
        )}
      </div>
      {stamp.rerun && <RerunVerdict run={run} rerun={stamp.rerun} refused={refused} onForce={() => rerun.mutate({ id: stamp.rerun!.of, force: true })} forcing={rerun.isPending} />}
      <StampFacts stamp={stamp} />
    </section>
  );
}

/** A re-run: the stamp's differences (prominent), and whether the outputs came out byte for byte the same. */
function RerunVerdict(props: { run: RunDetail; rerun: NonNullable<RunStamp["rerun"]>; refused: boolean; onForce: () => void; forcing: boolean }) {
  const { run, rerun, refused, onForce, forcing } = props;
  const original = useQuery(useTRPC().runs.get.queryOptions({ id: rerun.of })).data;
  const of = <Link href={`/runs/${rerun.of}`}>{rerun.of}</Link>;
  const sameBytes =
    original && run.status === "succeeded" && original.outputs.length > 0
      ? original.outputs.every((output) => run.outputs.find((mine) => mine.name === output.name)?.sha256 === output.sha256)
      : undefined;
  return (
    <div className={`alert ${rerun.differences.length > 0 || sameBytes === false ? "warn" : "ok"}`} data-testid="rerun-verdict">
      {rerun.differences.length === 0 ? (
        <p>Exact re-run of {of}: the stamp matched.</p>
      ) : (
        <>
          <p>
            {refused ? "Not run: the stamp of the machine differs from the one recorded by " : `Re-run of ${rerun.forced ? "(forced) " : ""}`}
            {of}
            {refused ? ":" : ", with these differences:"}
          </p>
          <ul className={styles.differences}>
            {rerun.differences.map((line) => (
              <li key={line} className="mono">
                {line}
              </li>
            ))}
          </ul>
          {refused && (
            <button className="small" onClick={onForce} disabled={forcing} data-testid="rerun-force">
              Re-run anyway
            </button>
          )}
        </>
      )}
      {sameBytes !== undefined && <p>{sameBytes ? "Outputs byte-identical to the original's (same sha256)." : "Outputs differ from the original's bytes."}</p>}
    </div>
  );
}

function StampFacts({ stamp }: { stamp: RunStamp }) {
  const { runtime } = stamp;
  const seeds = Object.entries(stamp.seeds);
  return (
    <div className={styles.facts}>
      <dl className={styles.list}>
        <FactRow name="graph" value={`sha256 ${short(stamp.graph.sha256)}`} title={stamp.graph.sha256} />
        {Object.entries(stamp.inputs).map(([name, hash]) => (
          <FactRow key={name} name={`input ${name}`} value={`sha256 ${short(hash)}`} title={hash} />
        ))}
        {seeds.map(([nodeId, seed]) => (
          <FactRow key={nodeId} name={`seed ${nodeId}`} value={String(seed)} />
        ))}
        {stamp.tiles.map((tiles) => (
          <FactRow
            key={`${tiles.nodeId}-${tiles.iteration ?? ""}`}
            name={`tiles ${tiles.nodeId}${tiles.iteration === undefined ? "" : ` (pass ${tiles.iteration + 1})`}`}
            value={`${tiles.cols}×${tiles.rows} of ${tiles.tileWidth}×${tiles.tileHeight}, overlap ${tiles.overlap}`}
          />
        ))}
        <FactRow name="ONNX Runtime" value={`${runtime.onnxruntime}, ${runtime.threads} intra-op thread${runtime.threads === 1 ? "" : "s"}`} />
        <FactRow name="codecs" value={`sharp ${runtime.sharp}, libvips ${runtime.vips}; Node ${runtime.node}`} />
        <FactRow name="CPU" value={`${runtime.cpu} (${runtime.arch})`} />
        <FactRow name="kernel features" value={runtime.cpuFeatures.join(" ") || "unknown (no /proc/cpuinfo)"} />
      </dl>
      {stamp.models.length > 0 && (
        <table className="table" data-testid="stamp-models">
          <thead>
            <tr>
              <th>Node</th>
              <th>Model</th>
              <th>Precision</th>
              <th>Provider</th>
              <th>File sha256</th>
            </tr>
          </thead>
          <tbody>
            {stamp.models.map((model) => (
              <tr key={model.nodeId}>
                <td className="mono">{model.nodeId}</td>
                <td className="mono">{model.model}</td>
                <td>
                  {model.precision ?? <span className="error-text">{model.problem}</span>}
                  {model.precisionAsked === "auto" && model.precision && <span className="muted"> (auto)</span>}
                </td>
                <td>
                  {model.providerUsed ?? <span className="muted">not started</span>}
                  {model.providerUsed && model.providerUsed !== model.provider && <span className="muted"> (asked {model.provider})</span>}
                </td>
                <td className="mono" title={model.sha256 ? `${model.file}: ${model.sha256}` : undefined}>
                  {short(model.sha256)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function FactRow({ name, value, title }: { name: string; value: string; title?: string }) {
  return (
    <>
      <dt>{name}</dt>
      <dd className="mono" title={title}>
        {value}
      </dd>
    </>
  );
}
