"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { type DragEvent, useRef, useState } from "react";
import type { AppRouter } from "../../server/api/root";
import { ConfirmButton } from "../ui/confirm-button";
import { errorData, errorMessage } from "../ui/errors";
import { formatBytes } from "../ui/format";
import { RelativeTime } from "../ui/relative-time";
import { useToast } from "../ui/toast";
import { useTRPC } from "../ui/trpc";
import styles from "./models.module.css";

type Outputs = inferRouterOutputs<AppRouter>["models"];
type Model = Outputs["list"][number];
type Uploaded = Outputs["upload"];

const SPEED_HINT: Record<Model["speedClass"], string> = {
  fast: "under 1 M parameters: quick previews",
  balanced: "1 to 5 M parameters",
  quality: "5 M parameters or more: best results, slowest",
};

function formatCount(count: number): string {
  if (count >= 1e6) return `${(count / 1e6).toFixed(2)} M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)} k`;
  return String(count);
}

function formatRange([low, high]: [number, number]): string {
  return `${low}..${high}`;
}

export function ModelsPage() {
  const trpc = useTRPC();
  const models = useQuery(trpc.models.list.queryOptions());
  const [added, setAdded] = useState<string>();

  return (
    <main className="page">
      <div className="page-header">
        <h1>Models</h1>
        <span className="muted small">
          One-step super-resolution models (ONNX) the generate node can run. Built-in ones are converted at set-up; add your own below.
        </span>
      </div>
      <ModelUpload onAdded={setAdded} />
      {models.isError ? (
        <div className="alert error row">
          <span>Could not list the models: {errorMessage(models.error)}</span>
          <span className="spacer" />
          <button className="small" onClick={() => void models.refetch()}>
            Retry
          </button>
        </div>
      ) : (
        <table className="table" data-testid="models-table" aria-busy={!models.data}>
          <thead>
            <tr>
              <th>Model</th>
              <th className="num">Scale</th>
              <th>Speed</th>
              <th title="The pixel values the model is fed and returns">Range</th>
              <th>Layout</th>
              <th className="num">Parameters</th>
              <th className="num">Size</th>
              <th>Source and licence</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {!models.data ? (
              <tr>
                <td colSpan={9} className={`muted ${styles.loading}`}>
                  Loading models…
                </td>
              </tr>
            ) : models.data.length === 0 ? (
              <tr>
                <td colSpan={9} className={styles.loading}>
                  <div className="empty">
                    <strong>No models</strong>
                    Run <code>npm run setup</code> to convert the built-in models, or add a .onnx model above.
                  </div>
                </td>
              </tr>
            ) : (
              models.data.map((model) => <ModelRow key={model.id} model={model} highlight={model.id === added} />)
            )}
          </tbody>
        </table>
      )}
    </main>
  );
}

function ModelRow({ model, highlight }: { model: Model; highlight: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const remove = useMutation(
    trpc.models.delete.mutationOptions({
      onSuccess: () => {
        void queryClient.invalidateQueries({ queryKey: trpc.models.list.queryKey() });
        toast(`Deleted model ${model.id}`);
      },
      onError: (error) => toast(`Could not delete ${model.id}: ${errorMessage(error)}`, { kind: "error" }),
    }),
  );
  const source = model.source;
  return (
    <tr className={highlight ? styles.added : undefined} data-model-id={model.id}>
      <td>
        <div className={styles.title}>{model.title}</div>
        <code className="muted small">{model.id}</code>
      </td>
      <td className="num">x{model.scale}</td>
      <td>
        <span className={`badge ${styles[model.speedClass]}`} title={SPEED_HINT[model.speedClass]}>
          {model.speedClass}
        </span>
      </td>
      <td className="mono">{formatRange(model.valueRange)}</td>
      <td className="mono" title={model.sizeMultiple > 1 ? `input height and width must be multiples of ${model.sizeMultiple}` : undefined}>
        {model.layout}
        {model.sizeMultiple > 1 && <span className="muted"> /{model.sizeMultiple}</span>}
      </td>
      <td className="num">{formatCount(model.parameterCount)}</td>
      <td className="num">{model.fileBytes === null ? <span className="error-text">file missing</span> : formatBytes(model.fileBytes)}</td>
      <td className={styles.source}>
        {"upload" in source ? (
          <>
            <div className="mono">{source.upload}</div>
            <div className="muted small">
              uploaded <RelativeTime date={model.addedAt} /> · licence unknown
            </div>
          </>
        ) : (
          <>
            <div className="mono">
              {source.package}@{source.version}
            </div>
            <div className="muted small">{model.license}</div>
          </>
        )}
      </td>
      <td className={styles.actions}>
        {model.builtIn ? (
          <span className="muted small">built-in</span>
        ) : (
          <ConfirmButton label="Delete" question="Delete model?" disabled={remove.isPending} onConfirm={() => remove.mutate({ id: model.id })} />
        )}
      </td>
    </tr>
  );
}

/** Add a .onnx model: choose or drop a file; it is sent at once, and the server probes what it is. */
function ModelUpload({ onAdded }: { onAdded: (id: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File>();
  const [id, setId] = useState("");
  const [title, setTitle] = useState("");
  const [problem, setProblem] = useState<string>();
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const upload = useMutation(
    trpc.models.upload.mutationOptions({
      onSuccess: (model) => {
        void queryClient.invalidateQueries({ queryKey: trpc.models.list.queryKey() });
        onAdded(model.id);
        setId("");
        setTitle("");
      },
    }),
  );

  const send = (chosen: File | undefined) => {
    upload.reset();
    setProblem(undefined);
    setFile(chosen);
    if (input.current) input.current.value = ""; // choosing the same file again must send it again
    if (!chosen) return;
    // What the browser can tell without sending it; the server checks again, and probes the rest.
    if (!/\.onnx$/i.test(chosen.name)) return setProblem(`"${chosen.name}" is not a .onnx file: export the model to ONNX first`);
    if (chosen.size === 0) return setProblem(`"${chosen.name}" is empty`);
    const form = new FormData();
    form.append("file", chosen);
    if (id.trim()) form.append("id", id.trim());
    if (title.trim()) form.append("title", title.trim());
    upload.mutate(form);
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    if (!upload.isPending) send(event.dataTransfer.files[0]);
  };

  const error = problem ?? (upload.isError ? errorMessage(upload.error) : undefined);
  // Sending the same bytes again helps only after a taken id (once another is typed) or a failure of the server.
  const retryable = upload.isError && (errorData(upload.error).code !== "BAD_REQUEST" || /\bid\b/.test(error ?? ""));
  return (
    <section
      className={`card ${styles.upload} ${dragging ? styles.dragging : ""}`}
      aria-labelledby="model-upload-heading"
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      <div className={styles.uploadRow}>
        <div className={styles.uploadIntro}>
          <h2 id="model-upload-heading">Add a model</h2>
          <div className="muted small">
            Drop a <code>.onnx</code> model here or choose one. It must take one float32 RGB image (NCHW or NHWC, any size) and return
            it upscaled; the studio runs it on a test photo to find its scale, layout and value range.
          </div>
        </div>
        <label className="stack">
          Id (optional)
          <input value={id} onChange={(event) => setId(event.target.value)} placeholder="from the file name" maxLength={60} disabled={upload.isPending} />
        </label>
        <label className="stack">
          Title (optional)
          <input value={title} onChange={(event) => setTitle(event.target.value)} placeholder="from the file name" maxLength={120} disabled={upload.isPending} />
        </label>
        <label className={`button primary ${styles.choose} ${upload.isPending ? styles.busy : ""}`}>
          {upload.isPending ? "Probing…" : "Choose .onnx file"}
          <input
            ref={input}
            type="file"
            accept=".onnx"
            className={styles.fileInput}
            disabled={upload.isPending}
            onChange={(event) => send(event.target.files?.[0])}
            data-testid="model-upload"
          />
        </label>
      </div>
      <div aria-live="polite">
        {upload.isPending && file && (
          <div className={`alert ${styles.probing}`}>
            Sending {file.name} ({formatBytes(file.size)}) and probing it: loading it in ONNX Runtime and running it on a test photo…
          </div>
        )}
        {error && (
          <div className="alert error row" data-testid="model-upload-error">
            <span>
              {/* The server's reasons usually name the file already. */}
              {file && !error.includes(file.name) ? `${file.name} was not added: ` : "Not added: "}
              {error}
            </span>
            <span className="spacer" />
            {file && retryable && (
              <button className="small" onClick={() => send(file)}>
                Try again
              </button>
            )}
          </div>
        )}
        {upload.data && <UploadResult model={upload.data} />}
      </div>
    </section>
  );
}

function UploadResult({ model }: { model: Uploaded }) {
  const { probe } = model;
  return (
    <div className="alert ok" data-testid="model-upload-result">
      Added <strong>{model.title}</strong> as <code>{model.id}</code>: x{model.scale}, {model.layout}, value range {formatRange(model.valueRange)}
      {model.sizeMultiple > 1 ? `, height and width multiples of ${model.sizeMultiple}` : ""}, {formatCount(model.parameterCount)} parameters ({model.speedClass}).
      <div className="small">
        Probe: input <code>{probe.inputName}</code> [{probe.inputShape.join(", ")}] → output <code>{probe.outputName}</code> [{probe.outputShape.join(", ")}];
        PSNR against bicubic {probe.psnrAt["0..1"].toFixed(1)} dB fed 0..1, {probe.psnrAt["0..255"].toFixed(1)} dB fed 0..255.
      </div>
    </div>
  );
}
