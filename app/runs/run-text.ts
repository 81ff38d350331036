// How a run is named and timed in the runs pages.
import { useEffect, useState } from "react";
import type { ParamOverride } from "../../nodes/graph/overrides";
import type { RunTrigger } from "../../server/api/contract";

interface Labelled {
  pipelineName: string | null;
  pipelineId: string | null;
  pipelineVersion: number | null;
  templateSlug: string | null;
}

/** "my pipeline v3", a template's slug, or what is left of a deleted pipeline. */
export function runLabel(run: Labelled): string {
  if (run.pipelineName !== null) return `${run.pipelineName} v${run.pipelineVersion}`;
  if (run.templateSlug !== null) return run.templateSlug;
  return run.pipelineId !== null ? "deleted pipeline" : "unsaved graph";
}

/** "generate.model=esrgan-slim-x4, chunk.tileSize=192": what a run changed in its graph. */
export function overridesText(overrides: ParamOverride[]): string {
  return overrides.map((override) => `${override.nodeId}.${override.param}=${typeof override.value === "string" ? override.value : JSON.stringify(override.value)}`).join(", ");
}

const TRIGGERS: Record<RunTrigger, string> = { ui: "browser", api: "API", cli: "CLI" };

export function triggerLabel(trigger: RunTrigger): string {
  return TRIGGERS[trigger];
}

/** A run's outputs with the one named "output" (the templates' main one) first. */
export function mainFirst<T extends { name: string | null }>(outputs: T[]): T[] {
  return [...outputs.filter((output) => output.name === "output"), ...outputs.filter((output) => output.name !== "output")];
}

/** Wall time from start to finish; for a run still going, to `now`. */
export function runDurationMs(run: { startedAt: Date | null; finishedAt: Date | null }, now: number): number | null {
  if (!run.startedAt) return null;
  return (run.finishedAt?.getTime() ?? now) - run.startedAt.getTime();
}

/** The current time, ticking every `ms` while `enabled` (running durations); only read it on the client. */
export function useNow(enabled: boolean, ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!enabled) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [enabled, ms]);
  return now;
}
