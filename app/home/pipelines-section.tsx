"use client";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { errorMessage } from "../ui/errors";
import { useToast } from "../ui/toast";
import { useTRPC, useTRPCClient } from "../ui/trpc";
import styles from "./home.module.css";
import { clearPendingDelete, markPendingDelete, usePendingDeletes } from "./pending-deletes";
import { PipelineCard, type PipelineSummary } from "./pipeline-card";

type Sort = "updated" | "created" | "name";

/** How long a deleted pipeline can be brought back; the delete is sent only when this runs out. */
const UNDO_MS = 8_000;
const SEARCH_DELAY_MS = 200;

export function PipelinesSection() {
  const trpc = useTRPC();
  const trpcClient = useTRPCClient();
  const queryClient = useQueryClient();
  const toast = useToast();
  const pendingDeletes = usePendingDeletes();
  const [searchText, setSearchText] = useState("");
  const [search, setSearch] = useState("");
  const [sort, setSort] = useState<Sort>("updated");

  useEffect(() => {
    const timer = setTimeout(() => setSearch(searchText.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [searchText]);

  const list = useQuery({
    ...trpc.pipelines.list.queryOptions({ search: search || undefined, sort }),
    // Keep the current cards while a new search or sort loads, so the grid does not flash empty.
    placeholderData: keepPreviousData,
  });
  const pipelines = list.data?.filter((pipeline) => !pendingDeletes.has(pipeline.id));

  // Why a delayed delete rather than delete-then-recreate on Undo: re-creating from the exported graph would
  // bring back only the latest graph, under a new id, with no version history, and runs would lose their link to
  // it. Holding the delete back until the Undo window closes loses nothing; if the tab closes first, the
  // pipeline simply stays.
  const remove = (pipeline: PipelineSummary) => {
    markPendingDelete(pipeline.id);
    const timer = setTimeout(async () => {
      try {
        await trpcClient.pipelines.delete.mutate({ id: pipeline.id });
        queryClient.setQueriesData<PipelineSummary[]>({ queryKey: trpc.pipelines.list.queryKey() }, (old) =>
          old?.filter((entry) => entry.id !== pipeline.id),
        );
      } catch (error) {
        toast(`Could not delete "${pipeline.name}": ${errorMessage(error)}`, { kind: "error" });
      } finally {
        clearPendingDelete(pipeline.id);
        void queryClient.invalidateQueries({ queryKey: trpc.pipelines.list.queryKey() });
      }
    }, UNDO_MS);
    toast(`Deleted "${pipeline.name}"`, {
      ms: UNDO_MS,
      action: {
        label: "Undo",
        run: () => {
          clearTimeout(timer);
          clearPendingDelete(pipeline.id);
        },
      },
    });
  };

  return (
    <section aria-labelledby="pipelines-heading">
      <div className="page-header">
        <h1 id="pipelines-heading">Pipelines</h1>
        <span className="spacer" />
        <input
          type="search"
          className={styles.search}
          placeholder="Search pipelines"
          aria-label="Search pipelines by name"
          value={searchText}
          onChange={(event) => setSearchText(event.target.value)}
          onKeyDown={(event) => event.key === "Escape" && setSearchText("")}
          data-testid="pipeline-search"
        />
        <label className="row">
          Sort
          <select value={sort} onChange={(event) => setSort(event.target.value as Sort)} aria-label="Sort pipelines">
            <option value="updated">Last change</option>
            <option value="created">Created</option>
            <option value="name">Name</option>
          </select>
        </label>
        <Link href="/pipelines/new" className="button primary" data-testid="new-pipeline">
          New pipeline
        </Link>
      </div>

      {list.isError && !list.data ? (
        <div className="alert error row">
          <span>Could not load the pipelines: {errorMessage(list.error)}</span>
          <span className="spacer" />
          <button className="small" onClick={() => void list.refetch()}>
            Retry
          </button>
        </div>
      ) : !pipelines ? (
        <div className={styles.grid} aria-busy="true" aria-label="Loading pipelines">
          {[0, 1, 2, 3].map((index) => (
            <div key={index} className={`card ${styles.card} ${styles.pipelineCard} ${styles.skeleton}`} />
          ))}
        </div>
      ) : pipelines.length === 0 ? (
        search ? (
          <div className="empty">
            <strong>No pipeline matches &ldquo;{search}&rdquo;</strong>
            <button className="small" onClick={() => setSearchText("")}>
              Clear the search
            </button>
          </div>
        ) : (
          <div className="empty">
            <strong>No pipelines yet</strong>
            <p>Start from one of the templates below, or wire your own on an empty canvas.</p>
            <Link href="/pipelines/new" className="button primary">
              New pipeline
            </Link>
          </div>
        )
      ) : (
        <div className={`${styles.grid} ${list.isPlaceholderData ? styles.refreshing : ""}`}>
          {pipelines.map((pipeline) => (
            <PipelineCard key={pipeline.id} pipeline={pipeline} onDelete={() => remove(pipeline)} />
          ))}
        </div>
      )}
    </section>
  );
}
