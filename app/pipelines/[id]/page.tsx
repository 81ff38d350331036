"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { use } from "react";
import { Editor } from "../../editor/editor";
import { errorMessage } from "../../ui/errors";
import { useTRPC } from "../../ui/trpc";

export default function PipelinePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = use(params);
  const trpc = useTRPC();
  // Loaded once: later saves update the editor's own state, and a refetch must not replace the canvas.
  const pipeline = useQuery(trpc.pipelines.get.queryOptions({ id }, { staleTime: Infinity, refetchOnWindowFocus: false }));
  if (pipeline.error) {
    return (
      <main className="page narrow">
        <h1>Cannot open this pipeline</h1>
        <p className="alert error">{errorMessage(pipeline.error)}</p>
        <Link href="/">Back to pipelines</Link>
      </main>
    );
  }
  if (!pipeline.data) return <main className="page muted">Loading pipeline…</main>;
  const { name, latestVersion, version } = pipeline.data;
  return <Editor key={id} pipeline={{ id, name, version: latestVersion }} graph={version.graph} />;
}
