"use client";
// Running the canvas: input images (uploaded, remembered in this browser), start, live per-node state from the
// run's event stream (SSE), previews of each node's last output, cancel. A re-run of an unchanged part of the
// graph is served from the executor's cache; its nodes report "cached".
import { useMutation } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Graph } from "../../nodes/graph/schema";
import { type GraphProblem, resolveParams } from "../../nodes/graph/validate";
import { nodeRegistry } from "../../nodes/index";
import type { RunEvent, RunSnapshotEvent, RunStatus } from "../../server/api/contract";
import { errorMessage } from "../ui/errors";
import { isActiveStatus, isFinalRunEvent } from "../ui/run-status";
import { applyTileMapEvent, NO_TILE_MAPS, type TileMaps } from "../ui/tile-map";
import { useToast } from "../ui/toast";
import { useTRPC, useTRPCClient } from "../ui/trpc";
import type { NodePreview, NodeRunState } from "./editor-state";

export interface InputImage {
  id: string;
  fileName: string;
  url: string;
  width: number;
  height: number;
}

export interface RunOutput {
  name: string;
  artifactId: string;
  width: number;
  height: number;
}

export interface RunnerState {
  inputNames: string[];
  inputs: Record<string, InputImage | undefined>;
  recent: InputImage[];
  choose(name: string, image: InputImage): void;
  upload(name: string, file: File): Promise<void>;
  uploading?: string;
  start(): Promise<void>;
  cancel(): Promise<void>;
  runId?: string;
  status?: RunStatus | "starting";
  /** Starting, queued or running: the run may still change and can be canceled. */
  active: boolean;
  message?: string;
  failedNodeId?: string | null;
  outputs: RunOutput[];
  totalMs?: number;
  startedAt?: number;
  nodeStates: ReadonlyMap<string, NodeRunState>;
  previews: ReadonlyMap<string, NodePreview>;
  tileMaps: TileMaps;
}

const INPUTS_KEY = "tudsr.inputs";
const RECENT_KEY = "tudsr.recentInputs";

function stored<T>(key: string, fallback: T): T {
  try {
    const text = localStorage.getItem(key);
    return text ? (JSON.parse(text) as T) : fallback;
  } catch {
    return fallback;
  }
}

type RunEventData = RunEvent | RunSnapshotEvent;

export function useRunner({ graph, pipelineId, clean, problems }: {
  graph: Graph;
  pipelineId?: string;
  /** The canvas equals the pipeline's latest saved version: the run is recorded against the pipeline. */
  clean: boolean;
  problems: readonly GraphProblem[];
}): RunnerState {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const toast = useToast();
  const [inputs, setInputs] = useState<Record<string, InputImage | undefined>>({});
  const [recent, setRecent] = useState<InputImage[]>([]);
  const [uploading, setUploading] = useState<string>();
  const [runId, setRunId] = useState<string>();
  const [status, setStatus] = useState<RunnerState["status"]>();
  const [message, setMessage] = useState<string>();
  const [failedNodeId, setFailedNodeId] = useState<string | null>();
  const [outputs, setOutputs] = useState<RunOutput[]>([]);
  const [totalMs, setTotalMs] = useState<number>();
  const [startedAt, setStartedAt] = useState<number>();
  const [nodeStates, setNodeStates] = useState<Map<string, NodeRunState>>(new Map());
  const [previews, setPreviews] = useState<Map<string, NodePreview>>(new Map());
  const [tileMaps, setTileMaps] = useState<TileMaps>(NO_TILE_MAPS);
  // The run this editor follows now: late answers about an earlier run are ignored.
  const currentRun = useRef<string | undefined>(undefined);

  // Read after mount: localStorage does not exist while the server renders.
  useEffect(() => {
    setInputs(stored(INPUTS_KEY, {}));
    setRecent(stored(RECENT_KEY, []));
  }, []);

  const inputNames = useMemo(() => {
    const names = new Set<string>();
    for (const node of graph.nodes) {
      const definition = nodeRegistry.get(node.type);
      if (node.type === "load-image" && definition) names.add(String(resolveParams(definition, node.params).input));
    }
    return [...names];
  }, [graph]);

  const choose = useCallback((name: string, image: InputImage) => {
    setInputs((current) => {
      const next = { ...current, [name]: image };
      localStorage.setItem(INPUTS_KEY, JSON.stringify(next));
      return next;
    });
    setRecent((current) => {
      const next = [image, ...current.filter((other) => other.id !== image.id)].slice(0, 8);
      localStorage.setItem(RECENT_KEY, JSON.stringify(next));
      return next;
    });
  }, []);

  const uploadMutation = useMutation(trpc.artifacts.upload.mutationOptions());
  const upload = useCallback(
    async (name: string, file: File) => {
      setUploading(name);
      try {
        const form = new FormData();
        form.append("file", file);
        const artifact = await uploadMutation.mutateAsync(form);
        choose(name, { id: artifact.id, fileName: file.name, url: artifact.url, width: artifact.width, height: artifact.height });
      } catch (error) {
        toast(`Cannot use ${file.name}: ${errorMessage(error)}`, { kind: "error", ms: 10_000 });
      } finally {
        setUploading(undefined);
      }
    },
    [choose, toast, uploadMutation],
  );

  const startMutation = useMutation(trpc.runs.start.mutationOptions());
  const cancelMutation = useMutation(trpc.runs.cancel.mutationOptions());

  const start = useCallback(async () => {
    if (problems.length > 0) {
      toast(`Fix the ${problems.length} problem${problems.length === 1 ? "" : "s"} shown on the nodes before running`, { kind: "error" });
      return;
    }
    const missing = inputNames.filter((name) => !inputs[name]);
    if (missing.length > 0) {
      toast(`Choose an input image for ${missing.map((name) => `“${name}”`).join(", ")} first`, { kind: "error" });
      return;
    }
    setRunId(undefined);
    currentRun.current = undefined;
    setStatus("starting");
    setMessage(undefined);
    setFailedNodeId(undefined);
    setOutputs([]);
    setTotalMs(undefined);
    setNodeStates(new Map(graph.nodes.map((node) => [node.id, { status: "queued" }])));
    setTileMaps(NO_TILE_MAPS);
    try {
      const runInputs = Object.fromEntries(inputNames.map((name) => [name, inputs[name]!.id]));
      const source = pipelineId && clean ? { pipelineId } : { graph };
      const run = await startMutation.mutateAsync({ ...source, inputs: runInputs });
      currentRun.current = run.id;
      setRunId(run.id);
      setStatus(run.status);
      setStartedAt(Date.now());
    } catch (error) {
      setStatus("failed");
      setMessage(errorMessage(error));
      setNodeStates(new Map());
    }
  }, [clean, graph, inputNames, inputs, pipelineId, problems.length, startMutation, toast]);

  const cancel = useCallback(async () => {
    if (!runId) return;
    try {
      await cancelMutation.mutateAsync({ id: runId });
    } catch (error) {
      toast(`Cannot cancel: ${errorMessage(error)}`, { kind: "error" });
    }
  }, [cancelMutation, runId, toast]);

  const patchNode = (nodeId: string, patch: (state: NodeRunState | undefined) => NodeRunState) =>
    setNodeStates((current) => new Map(current).set(nodeId, patch(current.get(nodeId))));

  const settleNodes = (status: NodeRunState["status"]) =>
    setNodeStates((current) => new Map([...current].map(([id, state]) => [id, state.status === "queued" || state.status === "running" ? { ...state, status } : state])));

  /** A run that ended: its stored record is the truth (a fast, fully cached run may end before the stream opens). */
  const settleFromStore = async (id: string) => {
    try {
      const run = await client.runs.get.query({ id });
      if (id !== currentRun.current) return;
      setStatus(run.status);
      setMessage(run.error ?? undefined);
      setFailedNodeId(run.errorNodeId);
      setTotalMs(run.totalMs ?? undefined);
      setOutputs(run.outputs.map((output) => ({ name: output.name ?? "output", artifactId: output.id, width: output.width, height: output.height })));
      setNodeStates((current) => {
        const next = new Map(current);
        // Timings of a run that did not succeed include the nodes it stopped in: only a success says all finished.
        if (run.status === "succeeded") {
          for (const timing of run.nodes) next.set(timing.id, { ...next.get(timing.id), status: "done", ms: timing.ms, cached: timing.cached });
        }
        if (run.errorNodeId) next.set(run.errorNodeId, { status: "failed", message: run.error ?? "failed" });
        for (const [nodeId, state] of next) {
          if (state.status === "queued" || state.status === "running") next.set(nodeId, { ...state, status: "canceled" });
        }
        return next;
      });
    } catch (error) {
      toast(`Cannot read the finished run: ${errorMessage(error)}`, { kind: "error" });
    }
  };

  const onEvent = (event: RunEventData) => {
    if (event.runId !== currentRun.current) return;
    if (event.type === "run-snapshot" ? !isActiveStatus(event.run.status) : isFinalRunEvent(event.type)) {
      void settleFromStore(event.runId);
    }
    switch (event.type) {
      case "run-snapshot":
        setStatus(event.run.status);
        break;
      case "run-started":
        setStatus("running");
        break;
      case "node-started":
        patchNode(event.nodeId, (state) => ({ ...state, status: "running", message: undefined }));
        break;
      case "node-progress":
        patchNode(event.nodeId, (state) => ({ ...state, status: "running", done: event.done, total: event.total }));
        break;
      case "node-finished": // once per pass for nodes inside a loop: times add up
        patchNode(event.nodeId, (state) => ({ ...state, status: "done", ms: (state?.ms ?? 0) + event.ms, cached: event.cached && (state?.cached ?? true) }));
        break;
      case "node-failed":
        patchNode(event.nodeId, (state) => ({ ...state, status: "failed", message: event.message }));
        break;
      case "node-canceled":
        patchNode(event.nodeId, (state) => ({ ...state, status: "canceled" }));
        break;
      case "node-preview":
        setPreviews((current) => new Map(current).set(event.nodeId, { dataUrl: event.dataUrl, width: event.width, height: event.height, port: event.port }));
        break;
      case "tile-map":
        setTileMaps((current) => applyTileMapEvent(current, event));
        break;
      case "run-succeeded":
        setStatus("succeeded");
        setOutputs(event.outputs);
        setTotalMs(event.totalMs);
        break;
      case "run-failed":
        setStatus("failed");
        setMessage(event.message);
        setFailedNodeId(event.nodeId);
        settleNodes("canceled");
        break;
      case "run-canceled":
        setStatus("canceled");
        settleNodes("canceled");
        break;
      case "run-interrupted":
        setStatus("interrupted");
        settleNodes("canceled");
        break;
    }
  };

  const active = status === "starting" || (status !== undefined && isActiveStatus(status));
  useSubscription(
    trpc.runs.events.subscriptionOptions(
      { id: runId ?? "" },
      {
        enabled: runId !== undefined && active,
        onData: (event) => onEvent(event as RunEventData),
        onError: (error) => toast(`Lost the run's progress stream: ${errorMessage(error)}`, { kind: "error" }),
      },
    ),
  );

  return {
    inputNames,
    inputs,
    recent,
    choose,
    upload,
    uploading,
    start,
    cancel,
    runId,
    status,
    active,
    message,
    failedNodeId,
    outputs,
    totalMs,
    startedAt,
    nodeStates,
    previews,
    tileMaps,
  };
}
