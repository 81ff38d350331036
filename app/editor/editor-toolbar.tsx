"use client";
// The editor's toolbar: name, undo/redo, save + version history, export/import, save as template, and the
// run controls (input images, Run / Cancel).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import type { Graph } from "../../nodes/graph/schema";
import { formatProblem, type GraphProblem, parseGraph } from "../../nodes/graph/validate";
import { errorMessage } from "../ui/errors";
import { formatWhen } from "../ui/format";
import { useToast } from "../ui/toast";
import { useTRPC } from "../ui/trpc";
import styles from "./editor.module.css";
import { InputPicker } from "./input-picker";
import type { RunnerState } from "./use-runner";
import type { SavingState } from "./use-saving";

interface ToolbarProps {
  name: string;
  onRename(name: string): void;
  pipeline?: { id: string; name: string; version: number };
  saving: SavingState;
  history: { undo(): void; redo(): void; canUndo: boolean; canRedo: boolean };
  graph: Graph;
  problems: readonly GraphProblem[];
  onImport(graph: Graph): void;
  onRestore(graph: Graph): void;
  runner: RunnerState;
}

export function EditorToolbar(props: ToolbarProps) {
  const { name, onRename, pipeline, saving, history, graph, problems, runner } = props;
  const toast = useToast();
  const importRef = useRef<HTMLInputElement>(null);
  const [panel, setPanel] = useState<"history" | "template" | undefined>();

  const exportFile = () => {
    const file = { format: "tudsr-pipeline", name, graph };
    const url = URL.createObjectURL(new Blob([JSON.stringify(file, null, 2)], { type: "application/json" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `${name.replace(/[^\w.-]+/g, "-").replace(/^-|-$/g, "") || "pipeline"}.tudsr.json`;
    link.click();
    URL.revokeObjectURL(url);
  };

  const importFile = async (file: File) => {
    let data: unknown;
    try {
      data = JSON.parse(await file.text());
    } catch (error) {
      toast(`${file.name} is not JSON: ${(error as Error).message}`, { kind: "error", ms: 10_000 });
      return;
    }
    // A pipeline file ({ format, name, graph }) or a bare graph.
    const candidate = data && typeof data === "object" && "graph" in data ? (data as { graph: unknown }).graph : data;
    const { graph: parsed, problems: schemaProblems } = parseGraph(candidate);
    if (!parsed) {
      toast(`${file.name} is not a pipeline: ${schemaProblems.slice(0, 3).map(formatProblem).join("; ")}`, { kind: "error", ms: 12_000 });
      return;
    }
    props.onImport(parsed);
    toast(`Imported ${file.name} (${parsed.nodes.length} nodes); Ctrl+Z undoes it`);
  };

  return (
    <div className={styles.toolbar}>
      <input
        className={styles.name}
        value={name}
        onChange={(event) => onRename(event.target.value)}
        aria-label="Pipeline name"
        data-testid="pipeline-name"
        maxLength={200}
      />
      <span className={styles.saveState} data-testid="save-state">
        {saving.dirty ? "● unsaved" : saving.version ? `v${saving.version} saved` : ""}
      </span>
      <div className={styles.group}>
        <button className="ghost" onClick={history.undo} disabled={!history.canUndo} title="Undo (Ctrl+Z)" data-testid="undo">
          ↶
        </button>
        <button className="ghost" onClick={history.redo} disabled={!history.canRedo} title="Redo (Ctrl+Shift+Z)" data-testid="redo">
          ↷
        </button>
      </div>
      <div className={styles.group}>
        <button onClick={() => void saving.save()} disabled={saving.busy} title="Save a new version (Ctrl+S)" data-testid="save">
          {saving.busy ? "Saving…" : "Save"}
        </button>
        <button className="ghost" onClick={() => setPanel(panel === "history" ? undefined : "history")} disabled={!pipeline} title={pipeline ? "Version history" : "Save first to keep versions"} data-testid="history">
          History
        </button>
        <button className="ghost" onClick={exportFile} title="Download the pipeline as JSON" data-testid="export">
          Export
        </button>
        <button className="ghost" onClick={() => importRef.current?.click()} title="Replace the canvas with a pipeline file" data-testid="import">
          Import
        </button>
        <input
          ref={importRef}
          type="file"
          accept="application/json,.json"
          hidden
          onChange={(event) => {
            const file = event.target.files?.[0];
            event.target.value = "";
            if (file) void importFile(file);
          }}
          data-testid="import-file"
        />
        <button className="ghost" onClick={() => setPanel(panel === "template" ? undefined : "template")} title="Save the canvas as a reusable template" data-testid="save-template">
          Save as template
        </button>
      </div>
      <span className={styles.problemCount} data-testid="problem-count" data-count={problems.length}>
        {problems.length ? `${problems.length} problem${problems.length === 1 ? "" : "s"}` : "valid"}
      </span>
      <div className="spacer" />
      {runner.inputNames.map((inputName) => (
        <InputPicker key={inputName} name={inputName} runner={runner} disabled={runner.active} />
      ))}
      {runner.active ? (
        <button className="danger" onClick={() => void runner.cancel()} data-testid="cancel-run" title="Stop this run (within the current tile)">
          Cancel
        </button>
      ) : (
        <button className="primary" onClick={() => void runner.start()} data-testid="run" title="Run the canvas as it is now">
          ▶ Run
        </button>
      )}
      {panel === "history" && pipeline && <VersionHistory pipelineId={pipeline.id} dirty={saving.dirty} onClose={() => setPanel(undefined)} onRestore={(restored, version) => {
        props.onRestore(restored);
        saving.markSaved(restored, version);
      }} />}
      {panel === "template" && <TemplateForm name={name} graph={graph} problems={problems} onClose={() => setPanel(undefined)} />}
    </div>
  );
}

function VersionHistory({ pipelineId, dirty, onClose, onRestore }: { pipelineId: string; dirty: boolean; onClose(): void; onRestore(graph: Graph, version: number): void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const queryClient = useQueryClient();
  const versions = useQuery(trpc.pipelines.versions.queryOptions({ id: pipelineId }));
  const restore = useMutation(trpc.pipelines.restore.mutationOptions());
  return (
    <div className={styles.popover} data-testid="version-history">
      <header>
        <strong>Versions</strong>
        <button className="ghost small" onClick={onClose} aria-label="Close">×</button>
      </header>
      {versions.isPending && <p className="muted small">Loading…</p>}
      {versions.error && <p className="error-text small">{errorMessage(versions.error)}</p>}
      <ol className={styles.versionList}>
        {versions.data?.map((version, index) => (
          <li key={version.number}>
            <span className="mono">v{version.number}</span>
            <span className="muted small">{version.message || "saved"} · {formatWhen(version.createdAt)}</span>
            {index === 0 ? (
              <span className="small muted">latest</span>
            ) : (
              <button
                className="small"
                disabled={restore.isPending}
                onClick={async () => {
                  if (dirty && !window.confirm("Restoring replaces the canvas; your unsaved changes will be lost. Restore?")) return;
                  try {
                    const restored = await restore.mutateAsync({ id: pipelineId, version: version.number });
                    onRestore(restored.graph, restored.number);
                    await queryClient.invalidateQueries({ queryKey: trpc.pipelines.pathKey() });
                    toast(`Restored v${version.number} as v${restored.number}`);
                  } catch (error) {
                    toast(`Cannot restore: ${errorMessage(error)}`, { kind: "error" });
                  }
                }}
                data-testid={`restore-v${version.number}`}
              >
                Restore
              </button>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}

function TemplateForm({ name, graph, problems, onClose }: { name: string; graph: Graph; problems: readonly GraphProblem[]; onClose(): void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [title, setTitle] = useState(name);
  const [description, setDescription] = useState(graph.description ?? "");
  const create = useMutation(trpc.templates.create.mutationOptions());
  return (
    <form
      className={styles.popover}
      onSubmit={async (event) => {
        event.preventDefault();
        try {
          const template = await create.mutateAsync({ name: title, graph: { ...graph, name: title, description }, description: description || undefined });
          await queryClient.invalidateQueries({ queryKey: trpc.templates.pathKey() });
          toast(`Saved template “${template.name}”`);
          onClose();
        } catch (error) {
          toast(`Not saved as a template: ${errorMessage(error)}`, { kind: "error", ms: 10_000 });
        }
      }}
      data-testid="template-form"
    >
      <header>
        <strong>Save as template</strong>
        <button type="button" className="ghost small" onClick={onClose} aria-label="Close">×</button>
      </header>
      {problems.length > 0 && <p className="alert warn small">Templates must be valid: fix the {problems.length} problem(s) first.</p>}
      <label>
        Name
        <input value={title} onChange={(event) => setTitle(event.target.value)} required maxLength={200} />
      </label>
      <label>
        One-line description
        <input value={description} onChange={(event) => setDescription(event.target.value)} maxLength={500} />
      </label>
      <button className="primary" type="submit" disabled={create.isPending || problems.length > 0}>
        Save template
      </button>
    </form>
  );
}
