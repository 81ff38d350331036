"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useRouter } from "next/navigation";
import { useMemo } from "react";
import type { AppRouter } from "../../server/api/root";
import { ConfirmButton } from "../ui/confirm-button";
import { errorMessage } from "../ui/errors";
import { GraphDiagram } from "../ui/graph-diagram";
import { templateModels } from "../ui/model-fit";
import { useToast } from "../ui/toast";
import { useTRPC } from "../ui/trpc";
import styles from "./home.module.css";
import { formatScales, type ModelScale, outputScales, scaleFromModelId } from "./output-scale";

type TemplateSummary = inferRouterOutputs<AppRouter>["templates"]["list"][number];
type ModelList = inferRouterOutputs<AppRouter>["models"]["list"];

export function TemplatesSection() {
  const trpc = useTRPC();
  const templates = useQuery(trpc.templates.list.queryOptions());
  const models = useQuery(trpc.models.list.queryOptions());
  const modelScale: ModelScale = useMemo(() => {
    const scales = new Map(models.data?.map((model) => [model.id, model.scale]));
    return (id) => scales.get(id) ?? scaleFromModelId(id);
  }, [models.data]);

  return (
    <section aria-labelledby="templates-heading" className={styles.templates}>
      <div className="page-header">
        <h2 id="templates-heading">Templates</h2>
        <span className="muted small">Tested pipelines to start from: use one to get your own editable copy.</span>
      </div>
      {templates.isError ? (
        <div className="alert error row">
          <span>Could not load the templates: {errorMessage(templates.error)}</span>
          <span className="spacer" />
          <button className="small" onClick={() => void templates.refetch()}>
            Retry
          </button>
        </div>
      ) : !templates.data ? (
        <div className={styles.grid} aria-busy="true" aria-label="Loading templates">
          {[0, 1, 2, 3, 4, 5].map((index) => (
            <div key={index} className={`card ${styles.card} ${styles.templateCard} ${styles.skeleton}`} />
          ))}
        </div>
      ) : templates.data.length === 0 ? (
        <div className="empty">
          <strong>No templates</strong>
          Templates saved from a pipeline appear here.
        </div>
      ) : (
        <div className={styles.grid}>
          {templates.data.map((template) => (
            <TemplateCard key={template.id} template={template} modelScale={modelScale} models={models.data} />
          ))}
        </div>
      )}
    </section>
  );
}

function TemplateCard({ template, modelScale, models }: { template: TemplateSummary; modelScale: ModelScale; models: ModelList | undefined }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const toast = useToast();
  const detail = useQuery({ ...trpc.templates.get.queryOptions({ id: template.id }), staleTime: 60_000 });
  const graph = detail.data?.graph;
  const scales = useMemo(() => (graph ? outputScales(graph, modelScale) : undefined), [graph, modelScale]);
  const evaluates = graph?.nodes.some((node) => node.type === "metrics");
  const used = useMemo(() => (graph ? templateModels(graph, models) : []), [graph, models]);

  const use = useMutation(
    trpc.templates.createPipeline.mutationOptions({
      onSuccess: (pipeline) => {
        void queryClient.invalidateQueries({ queryKey: trpc.pipelines.list.queryKey() });
        router.push(`/pipelines/${pipeline.id}`);
      },
    }),
  );
  const remove = useMutation(
    trpc.templates.delete.mutationOptions({
      onSuccess: () => {
        void queryClient.invalidateQueries({ queryKey: trpc.templates.list.queryKey() });
        toast(`Deleted template "${template.name}"`);
      },
      onError: (error) => toast(`Could not delete template "${template.name}": ${errorMessage(error)}`, { kind: "error" }),
    }),
  );

  return (
    <article className={`card ${styles.card} ${styles.templateCard}`} data-testid={`template-card-${template.slug}`}>
      <div className={styles.diagram}>
        {graph ? <GraphDiagram graph={graph} /> : <span className={styles.diagramNote}>{detail.isError ? "no preview" : ""}</span>}
      </div>
      <div className={styles.titleRow}>
        <span className={styles.name} title={template.name}>
          {template.name}
        </span>
        <span className="badge">{template.builtIn ? "built-in" : "yours"}</span>
      </div>
      <div className={`muted small ${styles.description}`} title={template.description || undefined}>
        {template.description || "No description."}
      </div>
      <div className={styles.badges}>
        <code className="small muted">{template.slug}</code>
        {scales && (
          <span className="badge" title="Output size relative to the input">
            output {formatScales(scales)}
          </span>
        )}
        {evaluates && (
          <span className="badge" title="Measures Y-PSNR and SSIM against the reference">
            PSNR/SSIM
          </span>
        )}
      </div>
      <ul className={styles.models} aria-label="Models it runs" data-testid="template-models">
        {used.map((entry) => (
          <li
            key={entry.id}
            className={styles.model}
            title={entry.model ? `${entry.model.title ?? entry.id}: ${entry.fit.description}` : models ? `${entry.id} is not installed` : entry.id}
            data-testid={`template-model-${entry.id}`}
          >
            <code>{entry.id}</code>
            {entry.fit.label ? (
              <span className={styles.fit}>{entry.fit.label}</span>
            ) : (
              models && !entry.model && <span className={styles.fitMissing}>not installed</span>
            )}
          </li>
        ))}
      </ul>
      {use.isError && <div className="error-text small">{errorMessage(use.error)}</div>}
      <div className={styles.actions}>
        <button
          className="small primary"
          disabled={use.isPending || use.isSuccess}
          onClick={() => use.mutate({ id: template.id })}
          data-testid="use-template"
        >
          {use.isPending || use.isSuccess ? "Creating…" : "Use template"}
        </button>
        <span className="spacer" />
        {!template.builtIn && (
          <ConfirmButton
            label="Delete"
            question="Delete template?"
            disabled={remove.isPending}
            onConfirm={() => remove.mutate({ id: template.id })}
          />
        )}
      </div>
    </article>
  );
}
