"use client";
// Saving the canvas: Ctrl+S creates the pipeline (first time) or its next version; work in progress with
// problems is saved too (the server keeps it and says what is wrong). Leaving with unsaved changes asks first.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import type { Graph } from "../../nodes/graph/schema";
import type { GraphProblem } from "../../nodes/graph/validate";
import { errorMessage } from "../ui/errors";
import { useToast } from "../ui/toast";
import { useTRPC } from "../ui/trpc";

export interface SavedPipeline {
  id: string;
  name: string;
  version: number;
}

export interface SavingState {
  /** The pipeline the canvas is saved to; undefined until a new canvas is first saved. */
  pipeline?: SavedPipeline;
  dirty: boolean;
  busy: boolean;
  version?: number;
  save(): Promise<void>;
  /** After a restore: the server's latest version is what the canvas now shows. */
  markSaved(graph: Graph, version: number): void;
}

const comparable = (graph: Graph) => JSON.stringify(graph);

export function useSaving({ pipeline: loaded, graph, name, problems }: {
  pipeline?: SavedPipeline;
  graph: Graph;
  name: string;
  problems: readonly GraphProblem[];
}): SavingState {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [pipeline, setPipeline] = useState(loaded);
  const [saved, setSaved] = useState(() => (loaded ? comparable(graph) : undefined));
  const version = pipeline?.version;
  const create = useMutation(trpc.pipelines.create.mutationOptions());
  const saveVersion = useMutation(trpc.pipelines.save.mutationOptions());
  const rename = useMutation(trpc.pipelines.rename.mutationOptions());
  const savedName = useRef(pipeline?.name);
  // A new canvas is "unsaved" once it has something on it.
  const dirty = saved !== undefined ? saved !== comparable(graph) : graph.nodes.length > 0;
  const busy = create.isPending || saveVersion.isPending || rename.isPending;

  const save = useCallback(async () => {
    if (busy) return;
    const note = problems.length ? ` with ${problems.length} problem${problems.length === 1 ? "" : "s"} to fix before it can run` : "";
    try {
      if (!pipeline) {
        const created = await create.mutateAsync({ name, graph, allowProblems: true });
        setSaved(comparable(graph));
        setPipeline({ id: created.id, name: created.name, version: created.latestVersion });
        savedName.current = created.name;
        // The address becomes the pipeline's without remounting the editor: undo history and run state stay.
        window.history.replaceState(null, "", `/pipelines/${created.id}`);
        toast(`Created “${created.name}”${note}`);
      } else {
        if (name !== savedName.current) {
          await rename.mutateAsync({ id: pipeline.id, name });
          savedName.current = name;
        }
        const result = await saveVersion.mutateAsync({ id: pipeline.id, graph, allowProblems: true });
        setSaved(comparable(graph));
        setPipeline({ ...pipeline, name, version: result.number });
        toast(`Saved version ${result.number}${note}`);
      }
      await queryClient.invalidateQueries({ queryKey: trpc.pipelines.pathKey() });
    } catch (error) {
      toast(`Not saved: ${errorMessage(error)}`, { kind: "error", ms: 10_000 });
    }
  }, [busy, create, graph, name, pipeline, problems.length, queryClient, rename, saveVersion, toast, trpc]);

  const markSaved = useCallback((restored: Graph, restoredVersion: number) => {
    setSaved(comparable(restored));
    setPipeline((current) => current && { ...current, version: restoredVersion });
  }, []);

  // The browser asks before closing or reloading a tab with unsaved work; links inside the studio ask too.
  useEffect(() => {
    if (!dirty) return;
    const beforeUnload = (event: BeforeUnloadEvent) => event.preventDefault();
    const onClick = (event: MouseEvent) => {
      const link = (event.target as HTMLElement | null)?.closest?.("a[href]") as HTMLAnchorElement | null;
      if (!link || link.target === "_blank" || link.origin !== location.origin || link.pathname === location.pathname) return;
      if (!window.confirm("This pipeline has unsaved changes. Leave without saving?")) {
        event.preventDefault();
        event.stopPropagation();
      }
    };
    window.addEventListener("beforeunload", beforeUnload);
    document.addEventListener("click", onClick, true);
    return () => {
      window.removeEventListener("beforeunload", beforeUnload);
      document.removeEventListener("click", onClick, true);
    };
  }, [dirty]);

  return { pipeline, dirty, busy, version, save, markSaved };
}
