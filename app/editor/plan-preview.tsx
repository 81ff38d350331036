"use client";
// The plan preview: with the run's inputs chosen and a chunk or generate node selected, the tiles that node's
// chunk will cut drawn over the input image (each tile outlined and lightly filled, so overlaps show darker),
// the tile count, model pixels per output pixel, the predicted time of each generate node and of the run, and
// the predicted peak memory, all before anything runs. It asks runs.plan again (debounced) whenever the graph's
// params or wiring change: positions do not count. A graph with problems is not asked about: the nodes already say
// what is wrong, and the server would only refuse it.
import { useMutation } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import type { ChunkPlan, GeneratePlan } from "../../nodes/graph/plan";
import type { NodePlanReport, RunPlan } from "../../nodes/graph/plan-graph";
import type { Graph } from "../../nodes/graph/schema";
import { errorMessage } from "../ui/errors";
import { useTRPC } from "../ui/trpc";
import styles from "./plan-preview.module.css";
import type { RunnerState } from "./use-runner";

const DEBOUNCE_MS = 250;

const seconds = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const megabytes = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;

/** What decides a plan: params and wiring (not where nodes sit on the canvas). */
function planKey(graph: Graph): string {
  return JSON.stringify({ ...graph, nodes: graph.nodes.map(({ position: _position, ...node }) => node) });
}

/** The chunk whose tiles a node works on: itself, or the chunk wired to a generate node's tiles input. */
function chunkOf(plan: RunPlan, graph: Graph, nodeId: string): NodePlanReport | undefined {
  const own = plan.nodes.find((node) => node.nodeId === nodeId && node.detail?.kind === "chunk");
  if (own) return own;
  const source = graph.edges.find((edge) => edge.target === nodeId && edge.targetHandle === "tiles")?.source;
  return plan.nodes.find((node) => node.nodeId === source && node.detail?.kind === "chunk");
}

/** Where a tile time comes from, in a user's words. */
const BASIS = { runs: "from real runs", calibration: "from the calibration", estimate: "a conservative estimate while the model is measured" } as const;

export function PlanPreview(props: { graph: Graph; problemCount: number; runner: RunnerState; nodeId: string; nodeType: string }) {
  const { graph, problemCount, runner, nodeId, nodeType } = props;
  const trpc = useTRPC();
  const planMutation = useMutation(trpc.runs.plan.mutationOptions());
  const [plan, setPlan] = useState<RunPlan>();
  const [problem, setProblem] = useState<string>();
  const asked = useRef(0);
  const key = useMemo(() => planKey(graph), [graph]);
  const missing = runner.inputNames.filter((name) => !runner.inputs[name]);
  const inputs = JSON.stringify(Object.fromEntries(runner.inputNames.map((name) => [name, runner.inputs[name]?.id])));
  const relevant = nodeType === "chunk" || nodeType === "generate";
  const { mutateAsync } = planMutation;

  const ready = relevant && missing.length === 0 && problemCount === 0;

  useEffect(() => {
    if (!ready) return;
    const request = ++asked.current;
    const timer = setTimeout(() => {
      mutateAsync({ graph: JSON.parse(key) as Graph, inputs: JSON.parse(inputs) as Record<string, string> }).then(
        (answer) => {
          if (request !== asked.current) return; // a later change asked again
          setPlan(answer as RunPlan);
          setProblem(undefined);
        },
        (error: unknown) => {
          if (request === asked.current) setProblem(errorMessage(error));
        },
      );
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
    // `graph` itself changes with every drag; `key` only when the plan would.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, inputs, ready, mutateAsync]);

  if (!relevant) return null;
  // What to do before there is a plan to show.
  const waiting =
    problemCount > 0
      ? `Fix the ${problemCount} problem${problemCount === 1 ? "" : "s"} shown on the nodes to see the tiles and the predicted time.`
      : missing.length > 0
        ? `Choose the ${missing.map((name) => `“${name}”`).join(", ")} image (Run bar) to see the tiles and the predicted time before running.`
        : undefined;
  if (waiting) {
    return (
      <section className={styles.preview} data-testid="plan-preview">
        <h4>Plan</h4>
        <p className="muted small">{waiting}</p>
      </section>
    );
  }
  const chunk = plan && chunkOf(plan, graph, nodeId);
  const detail = chunk?.detail as ChunkPlan | undefined;
  const generates = plan?.nodes.filter((node) => node.detail?.kind === "generate" && (node.nodeId === nodeId || nodeType === "chunk")) ?? [];
  const image = runner.inputs[runner.inputNames[0]];
  return (
    <section className={styles.preview} data-testid="plan-preview" aria-busy={planMutation.isPending}>
      <h4>Plan{chunk && chunk.iteration !== undefined ? ` (pass ${chunk.iteration + 1})` : ""}</h4>
      {problem && (
        <p className="error-text small" data-testid="plan-problem">
          {problem}
        </p>
      )}
      {detail && image && (
        <div className={styles.frame} data-testid="plan-grid">
          {/* eslint-disable-next-line @next/next/no-img-element -- the chosen input, served by the API */}
          <img src={image.url} alt={`${image.fileName} with the tiles of ${chunk!.nodeId}`} />
          {/* The grid is in the pixels of the image the chunk cuts (maybe a later stage's): drawn over the input scaled to it. */}
          <svg viewBox={`0 0 ${detail.source.width} ${detail.source.height}`} preserveAspectRatio="none" aria-hidden>
            {detail.rects.map((rect, index) => (
              <rect key={index} className={styles.tile} x={rect.x} y={rect.y} width={rect.width} height={rect.height} data-testid="plan-tile" />
            ))}
          </svg>
        </div>
      )}
      {plan && (
        <dl className={styles.figures}>
          {detail && (
            <>
              <dt>Tiles</dt>
              <dd data-testid="plan-tile-count">{detail.rects.length}</dd>
              <dt>Grid</dt>
              <dd>
                {detail.cols}×{detail.rows} of {detail.tileWidth}×{detail.tileHeight} px, overlap {detail.overlap} (on {detail.source.width}×{detail.source.height})
              </dd>
            </>
          )}
          {generates.map((node) => {
            const generate = node.detail as GeneratePlan;
            return (
              <GenerateFigures key={`${node.nodeId}#${node.iteration ?? ""}`} node={node} generate={generate} />
            );
          })}
          <dt>Whole run</dt>
          <dd data-testid="plan-total">{seconds(plan.totalMs)}</dd>
          <dt>Peak memory</dt>
          <dd data-testid="plan-peak">
            {megabytes(plan.peakBytes)} <span className="muted">(during {plan.peakNodeId})</span>
          </dd>
        </dl>
      )}
    </section>
  );
}

function GenerateFigures({ node, generate }: { node: NodePlanReport; generate: GeneratePlan }) {
  const pass = node.iteration === undefined ? "" : ` #${node.iteration + 1}`;
  const provider = generate.providerUsed === generate.provider ? generate.provider : `${generate.providerUsed} (${generate.provider} missing)`;
  return (
    <>
      <dt>
        {node.nodeId}
        {pass}
      </dt>
      <dd data-testid={`plan-generate-${node.nodeId}`}>
        {seconds(node.ms)} · {generate.model} {generate.precision} on {provider} · {generate.tiles} tile{generate.tiles === 1 ? "" : "s"} ·{" "}
        {generate.modelPixelsPerOutputPixel.toFixed(2)} model px/output px
        <span className="muted"> ({BASIS[generate.basis]})</span>
      </dd>
    </>
  );
}
