"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type ReactNode, useRef, useState } from "react";
import type { AppRouter } from "../../server/api/root";
import { errorMessage } from "../ui/errors";
import { GraphDiagram } from "../ui/graph-diagram";
import { RelativeTime } from "../ui/relative-time";
import { useToast } from "../ui/toast";
import { useTRPC } from "../ui/trpc";
import styles from "./home.module.css";

export type PipelineSummary = inferRouterOutputs<AppRouter>["pipelines"]["list"][number];

export function PipelineCard({ pipeline, onDelete }: { pipeline: PipelineSummary; onDelete: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const toast = useToast();
  const [renaming, setRenaming] = useState(false);
  const href = `/pipelines/${pipeline.id}`;
  // A saved version never changes, so its graph is fetched once per version.
  const detail = useQuery({ ...trpc.pipelines.get.queryOptions({ id: pipeline.id, version: pipeline.latestVersion }), staleTime: Infinity });

  const invalidateList = () => queryClient.invalidateQueries({ queryKey: trpc.pipelines.list.queryKey() });
  const duplicate = useMutation(
    trpc.pipelines.duplicate.mutationOptions({
      onSuccess: (copy) => {
        void invalidateList();
        toast(`Duplicated as "${copy.name}"`, { action: { label: "Open", run: () => router.push(`/pipelines/${copy.id}`) } });
      },
      onError: (error) => toast(`Could not duplicate "${pipeline.name}": ${errorMessage(error)}`, { kind: "error" }),
    }),
  );

  const meta = (
    <div className={`muted small ${styles.meta}`}>
      v{pipeline.latestVersion} · changed <RelativeTime date={pipeline.updatedAt} />
    </div>
  );

  return (
    <article className={`card ${styles.card} ${styles.pipelineCard}`} data-testid="pipeline-card">
      <Link href={href} className={styles.diagram} aria-label={`Open ${pipeline.name}`} tabIndex={-1}>
        {detail.data ? (
          <GraphDiagram graph={detail.data.version.graph} />
        ) : (
          <span className={styles.diagramNote}>{detail.isError ? "no preview" : ""}</span>
        )}
      </Link>
      {renaming ? (
        <RenameField pipeline={pipeline} onDone={() => setRenaming(false)} meta={meta} />
      ) : (
        <>
          <Link href={href} className={styles.name} title={pipeline.name}>
            {pipeline.name}
          </Link>
          {meta}
        </>
      )}
      <div className={styles.actions}>
        <Link href={href} className="button small primary">
          Open
        </Link>
        <button className="small" disabled={duplicate.isPending} onClick={() => duplicate.mutate({ id: pipeline.id })}>
          {duplicate.isPending ? "Duplicating…" : "Duplicate"}
        </button>
        <button className="small" disabled={renaming} onClick={() => setRenaming(true)}>
          Rename
        </button>
        <span className="spacer" />
        <button className="small danger" onClick={onDelete} aria-label={`Delete ${pipeline.name}`}>
          Delete
        </button>
      </div>
    </article>
  );
}

/**
 * The name as a text field: Enter or leaving the field saves, Escape keeps the old name. What is wrong with the
 * name shows in place of the `meta` line, so the card keeps its height.
 */
function RenameField({ pipeline, onDone, meta }: { pipeline: PipelineSummary; onDone: () => void; meta: ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState(pipeline.name);
  // Escape, or a save on its way, must not be followed by another save from the blur that comes with it.
  const settled = useRef(false);
  const rename = useMutation(
    trpc.pipelines.rename.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.pipelines.list.queryKey() });
        onDone();
      },
      onError: () => {
        settled.current = false;
      },
    }),
  );
  const cancel = () => {
    settled.current = true;
    onDone();
  };
  const save = () => {
    if (settled.current) return;
    const trimmed = name.trim();
    if (trimmed === pipeline.name) return cancel();
    if (!trimmed) return;
    settled.current = true;
    rename.mutate({ id: pipeline.id, name: trimmed });
  };
  const problem = !name.trim() ? "a pipeline needs a name" : rename.isError ? errorMessage(rename.error) : undefined;
  return (
    <>
      <input
        className={styles.rename}
        autoFocus
        value={name}
        maxLength={200}
        aria-label="Pipeline name"
        aria-invalid={problem ? true : undefined}
        readOnly={rename.isPending}
        onFocus={(event) => event.target.select()}
        onChange={(event) => setName(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter") save();
          if (event.key === "Escape") cancel();
        }}
        onBlur={() => (name.trim() ? save() : cancel())}
      />
      {problem ? <div className={`error-text small ${styles.meta}`}>{problem}</div> : meta}
    </>
  );
}
