"use client";
// The models: built-in and uploaded, in a compact table (architecture, content, what each was trained to
// restore, scale, speed, padding, the weights' licence and origin, the package's licence), filtered by content,
// training degradation, scale, built-in or uploaded and a search text (kept in the address); add a model: one
// .onnx, or an ncnn .param + .bin pair (Upscayl's custom-model format), with what the probe found or why it was refused.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { type DragEvent, useMemo, useRef, useState } from "react";
import { COPYLEFT_NOTE, describeDegradation, describePadding, filterModels, MODEL_CONTENTS, MODEL_DEGRADATIONS, shortLicense } from "../../server/api/contract";
import type { ModelFilter } from "../../server/api/contract";
import type { AppRouter } from "../../server/api/root";
import { ConfirmButton } from "../ui/confirm-button";
import { errorData, errorMessage } from "../ui/errors";
import { formatBytes } from "../ui/format";
import { int8Tag, precisionSummary } from "../ui/precision";
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

const CONTENT_HINT: Record<Model["content"], string> = {
  photo: "trained on photos",
  art: "trained on art: anime, illustrations",
  unknown: "what it was trained on is not stated",
};

const DEGRADATION_HINT: Record<Model["degradation"], string> = {
  bicubic: "trained on clean bicubic downscales: best on clean inputs, keeps noise and JPEG blocks",
  "real-world": "trained on real-world degradations (blur, noise, JPEG): restores as it upscales",
  unknown: "what inputs it was trained to restore is not stated",
};

function formatCount(count: number): string {
  if (count >= 1e6) return `${(count / 1e6).toFixed(2)} M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)} k`;
  return String(count);
}

function formatRange([low, high]: [number, number]): string {
  return `${low}..${high}`;
}

/** The filter as an address query (only what is set). */
function filterQuery(filter: ModelFilter): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) if (value !== undefined && value !== "") params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Which execution providers the generate node's `provider` setting can use on this server. */
function ExecutionProviders() {
  const trpc = useTRPC();
  const providers = useQuery(trpc.models.providers.queryOptions());
  if (!providers.data) return null;
  return (
    <div className={`row small ${styles.providers}`} data-testid="execution-providers">
      <span className="muted">Execution providers here:</span>
      {providers.data.map((provider) => (
        <span
          key={provider.name}
          className={`badge ${provider.available ? styles.available : styles.unavailable}`}
          title={provider.available ? `${provider.name} runs here` : provider.why}
          data-provider={provider.name}
          data-available={provider.available}
        >
          {provider.name} {provider.available ? "✓" : "✗"}
        </span>
      ))}
      <span className="muted">(hover for why; an unavailable one falls back to CPU, or fails, as the node says)</span>
    </div>
  );
}

/** The int8 cell: being made, offered (speed, loss against ground truth), or fp32 only and why in short. */
function describeInt8(model: Model): string {
  if (model.int8Work?.state === "making") return "int8: measuring now…";
  if (model.int8Work?.state === "queued") return "int8: queued";
  if (model.int8.offered) {
    const loss = model.int8.lossDb > 0 ? `−${model.int8.lossDb.toFixed(2)} dB` : "no loss";
    return `${int8Tag(model.int8)} · ${loss}${model.int8.chained ? "" : " · fp32 when chained"}`;
  }
  return model.int8.why.startsWith("no int8 variant has been made") ? "fp32 only" : `fp32 only · ${shortReason(model.int8.why)}`;
}

/** "int8 trunk: 32.08 dB from the fp32 output …; …" -> "32.08 dB from fp32": the first gate a refusal met. */
function shortReason(why: string): string {
  if (/known for this CPU kind/.test(why)) return "refused (known for this CPU)";
  const fidelity = /(\d+(?:\.\d+)?) dB from the fp32 output/.exec(why);
  if (fidelity) return `refused: ${fidelity[1]} dB from fp32`;
  if (/not [\d.]+x faster/.test(why)) return "refused: not faster here";
  if (/against ground truth/.test(why)) return "refused: costs quality";
  return "refused";
}

/** What the background int8 work is doing: the model being measured and those still queued. */
function Int8Work({ models }: { models: Model[] }) {
  const making = models.find((model) => model.int8Work?.state === "making");
  const queued = models.filter((model) => model.int8Work?.state === "queued");
  if (!making && !queued.length) return null;
  const since = making?.int8Work?.state === "making" ? Math.max(0, Math.round((Date.now() - Date.parse(making.int8Work.since)) / 1000)) : 0;
  return (
    <div className="alert warn row" role="status" data-testid="int8-work">
      <span>
        Making int8 variants in the background (runs go first; fp32 runs meanwhile):{" "}
        {making && (
          <>
            measuring <strong>{making.id}</strong> for {since} s
          </>
        )}
        {queued.length > 0 && `${making ? "; " : ""}queued: ${queued.map((model) => model.id).join(", ")}`}
      </span>
    </div>
  );
}

export function ModelsPage({ initialFilter = {} }: { initialFilter?: ModelFilter }) {
  const trpc = useTRPC();
  // Polled while int8 variants are being made in the background, so their state changes in view.
  const models = useQuery({ ...trpc.models.list.queryOptions(), refetchInterval: (query) => (query.state.data?.some((model) => model.int8Work) ? 3000 : false) });
  const [added, setAdded] = useState<string>();
  const [filter, setFilterState] = useState<ModelFilter>(initialFilter);
  const setFilter = (change: Partial<ModelFilter>) => {
    const next = { ...filter, ...change };
    setFilterState(next);
    // Kept in the address, so a reload or a shared link shows the same list.
    window.history.replaceState(null, "", `/models${filterQuery(next)}`);
  };
  const shown = useMemo(() => (models.data ? filterModels(models.data, filter) : undefined), [models.data, filter]);
  const filtered = Object.values(filter).some((value) => value !== undefined && value !== "");

  return (
    <main className={`page ${styles.page}`}>
      <div className="page-header">
        <h1>Models</h1>
        <span className="muted small">
          One-step super-resolution models the generate node can run. Built-in ones are converted at set-up; add your own below (.onnx, or an
          ncnn .param + .bin pair).
        </span>
      </div>
      <ExecutionProviders />
      {models.data && <Int8Work models={models.data} />}
      <ModelUpload
        onAdded={(id) => {
          setAdded(id);
          // The new model must be in view: drop filters it might not match.
          if (filtered) setFilter({ content: undefined, degradation: undefined, scale: undefined, kind: undefined, q: undefined });
        }}
      />
      <ModelFilters filter={filter} onChange={setFilter} models={models.data} shown={shown?.length} />
      {models.isError ? (
        <div className="alert error row">
          <span>Could not list the models: {errorMessage(models.error)}</span>
          <span className="spacer" />
          <button className="small" onClick={() => void models.refetch()}>
            Retry
          </button>
        </div>
      ) : (
        <div className={styles.tableWrap}>
          <table className={`table ${styles.table}`} data-testid="models-table" aria-busy={!models.data}>
            <thead>
              <tr>
                <th>Model</th>
                <th>Content</th>
                <th title="What the model was trained to restore">Trained on</th>
                <th className="num">Scale</th>
                <th>Speed</th>
                <th title="The pixel values the model is fed and returns, and its tensor layout">Range</th>
                <th title="What the model's own programs do at each tile's border; the input size it needs">Padding</th>
                <th>Weights</th>
                <th title="The package (or upload) the file was made from, and its licence">Package</th>
                <th className="num">Size</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {!models.data || !shown ? (
                <tr>
                  <td colSpan={11} className={`muted ${styles.loading}`}>
                    Loading models…
                  </td>
                </tr>
              ) : models.data.length === 0 ? (
                <tr>
                  <td colSpan={11} className={styles.loading}>
                    <div className="empty">
                      <strong>No models</strong>
                      Run <code>npm run setup</code> to convert the built-in models, or add a model above.
                    </div>
                  </td>
                </tr>
              ) : shown.length === 0 ? (
                <tr>
                  <td colSpan={11} className={styles.loading}>
                    <div className="empty" data-testid="models-none-match">
                      <strong>No model matches these filters</strong>
                      <button className="small" onClick={() => setFilter({ content: undefined, degradation: undefined, scale: undefined, kind: undefined, q: undefined })}>
                        Clear filters
                      </button>
                    </div>
                  </td>
                </tr>
              ) : (
                shown.map((model) => <ModelRow key={model.id} model={model} highlight={model.id === added} />)
              )}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}

function ModelFilters({
  filter,
  onChange,
  models,
  shown,
}: {
  filter: ModelFilter;
  onChange: (change: Partial<ModelFilter>) => void;
  models: Model[] | undefined;
  shown: number | undefined;
}) {
  const scales = [...new Set([...(models ?? []).map((model) => model.scale), ...(filter.scale ? [filter.scale] : [])])].sort((a, b) => a - b);
  const active = Object.values(filter).some((value) => value !== undefined && value !== "");
  return (
    <div className={styles.filters} role="search" aria-label="Filter the models">
      <input
        type="search"
        className={styles.search}
        value={filter.q ?? ""}
        onChange={(event) => onChange({ q: event.target.value || undefined })}
        placeholder="Search id, title, architecture, licence…"
        aria-label="Search models"
      />
      <select aria-label="Filter by content" value={filter.content ?? ""} onChange={(event) => onChange({ content: (event.target.value || undefined) as ModelFilter["content"] })}>
        <option value="">Any content</option>
        {MODEL_CONTENTS.map((content) => (
          <option key={content} value={content}>
            {content === "unknown" ? "content unknown" : content}
          </option>
        ))}
      </select>
      <select
        aria-label="Filter by training"
        value={filter.degradation ?? ""}
        onChange={(event) => onChange({ degradation: (event.target.value || undefined) as ModelFilter["degradation"] })}
      >
        <option value="">Trained on anything</option>
        {MODEL_DEGRADATIONS.map((degradation) => (
          <option key={degradation} value={degradation}>
            {degradation === "unknown" ? "training unknown" : describeDegradation(degradation)}
          </option>
        ))}
      </select>
      <select aria-label="Filter by scale" value={filter.scale ?? ""} onChange={(event) => onChange({ scale: event.target.value ? Number(event.target.value) : undefined })}>
        <option value="">Any scale</option>
        {scales.map((scale) => (
          <option key={scale} value={scale}>
            x{scale}
          </option>
        ))}
      </select>
      <div className={styles.kinds} role="group" aria-label="Built-in or uploaded">
        {(
          [
            [undefined, "All"],
            ["built-in", "Built-in"],
            ["uploaded", "Uploaded"],
          ] as const
        ).map(([kind, label]) => (
          <button key={label} className="small" aria-pressed={filter.kind === kind} onClick={() => onChange({ kind })}>
            {label}
          </button>
        ))}
      </div>
      <span className="spacer" />
      {models && shown !== undefined && (
        <span className="muted small" data-testid="models-count">
          {active ? `${shown} of ${models.length} models` : `${models.length} models`}
        </span>
      )}
      {active && (
        <button className="ghost small" onClick={() => onChange({ content: undefined, degradation: undefined, scale: undefined, kind: undefined, q: undefined })}>
          Clear filters
        </button>
      )}
    </div>
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
      <td className={styles.model}>
        <div className={styles.title}>{model.title}</div>
        <code className="muted small">{model.id}</code>
        <div className="muted small">{model.architecture}</div>
      </td>
      <td>
        <span className={model.content === "unknown" ? "muted" : undefined} title={CONTENT_HINT[model.content]} data-field="content">
          {model.content}
        </span>
      </td>
      <td>
        <span className={`${styles.nowrap} ${model.degradation === "unknown" ? "muted" : styles[model.degradation === "real-world" ? "realWorld" : "clean"]}`} title={DEGRADATION_HINT[model.degradation]} data-field="degradation">
          {describeDegradation(model.degradation)}
        </span>
      </td>
      <td className="num" data-field="scale">
        x{model.scale}
      </td>
      <td>
        <span className={`badge ${styles[model.speedClass]}`} title={SPEED_HINT[model.speedClass]}>
          {model.speedClass}
        </span>
        <div className="muted small">{formatCount(model.parameterCount)} params</div>
        <div className={`small ${model.int8.offered ? "" : "muted"}`} title={precisionSummary(model.int8)} data-field="int8">
          {describeInt8(model)}
        </div>
      </td>
      <td className="mono">
        {formatRange(model.valueRange)}
        <div className="muted small">{model.layout}</div>
      </td>
      <td className={styles.nowrap} title={model.padding.mode === "none" ? "no padding at the borders" : `${model.padding.mode}-pads each tile by ${model.padding.pixels} px, then crops the upscaled padding away${model.padding.inGraph ? " (inside the ONNX graph)" : " (the generate node does it)"}`}>
        <span data-field="padding">{describePadding(model.padding)}</span>
        {model.sizeMultiple > 1 && <div className="muted small">sizes ×{model.sizeMultiple}</div>}
      </td>
      <td className={styles.source}>
        <div data-field="weights-license">{model.weights.license}</div>
        <div className="muted small">{model.weights.origin}</div>
      </td>
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
            <div className="small" data-field="license">
              {model.copyleft ? (
                <span className={`badge ${styles.copyleft}`} title={`${model.license}: ${COPYLEFT_NOTE}`}>
                  {shortLicense(model.license)} · copyleft
                </span>
              ) : (
                <span className="muted" title={model.license}>
                  {shortLicense(model.license)}
                </span>
              )}
            </div>
            {model.copyleft && <div className="muted small">model files only, never its code</div>}
          </>
        )}
      </td>
      <td className={`num ${styles.nowrap}`}>{model.fileBytes === null ? <span className="error-text">file missing</span> : formatBytes(model.fileBytes)}</td>
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

/** What was chosen so far: one .onnx, or the halves of an ncnn pair (one may still be missing). */
interface Chosen {
  onnx?: File;
  param?: File;
  bin?: File;
}

function chosenNames(chosen: Chosen): string {
  return [chosen.onnx, chosen.param, chosen.bin]
    .filter((file): file is File => file !== undefined)
    .map((file) => file.name)
    .join(" + ");
}

/** Whether a message names one of the files already. */
function namesAFile(message: string, chosen: Chosen): boolean {
  return [chosen.onnx, chosen.param, chosen.bin].some((file) => file !== undefined && message.includes(file.name));
}

function chosenSize(chosen: Chosen): number {
  return [chosen.onnx, chosen.param, chosen.bin].reduce((sum, file) => sum + (file?.size ?? 0), 0);
}

/**
 * Add a model: choose or drop one .onnx, or an ncnn .param with its .bin (together, or one after the other);
 * it is sent as soon as it is complete, and the server converts (ncnn) and probes it.
 */
function ModelUpload({ onAdded }: { onAdded: (id: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [chosen, setChosen] = useState<Chosen>({});
  const [sent, setSent] = useState<Chosen>();
  const [id, setId] = useState("");
  const [title, setTitle] = useState("");
  const [content, setContent] = useState<Model["content"]>("unknown");
  const [degradation, setDegradation] = useState<Model["degradation"]>("unknown");
  const [problem, setProblem] = useState<string>();
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const upload = useMutation(
    trpc.models.upload.mutationOptions({
      onSuccess: (model) => {
        void queryClient.invalidateQueries({ queryKey: trpc.models.list.queryKey() });
        onAdded(model.id);
        // What the user said was about this model: the next one starts blank.
        setId("");
        setTitle("");
        setContent("unknown");
        setDegradation("unknown");
      },
    }),
  );

  const send = (files: Chosen) => {
    setSent(files);
    setChosen({});
    const form = new FormData();
    if (files.onnx) form.append("file", files.onnx);
    if (files.param) form.append("param", files.param);
    if (files.bin) form.append("bin", files.bin);
    if (id.trim()) form.append("id", id.trim());
    if (title.trim()) form.append("title", title.trim());
    if (content !== "unknown") form.append("content", content);
    if (degradation !== "unknown") form.append("degradation", degradation);
    upload.mutate(form);
  };

  const choose = (list: File[]) => {
    if (input.current) input.current.value = ""; // choosing the same file again must send it again
    if (list.length === 0) return;
    upload.reset();
    setProblem(undefined);
    setSent(undefined);
    // What the browser can tell without sending them; the server checks again, converts and probes the rest.
    const refuse = (why: string) => {
      setChosen({});
      setSent({ onnx: list[0] });
      setProblem(why);
    };
    const other = list.find((file) => !/\.(onnx|param|bin)$/i.test(file.name));
    if (other) return refuse(`"${other.name}" is not a model file: choose a .onnx, or an ncnn .param with its .bin`);
    const empty = list.find((file) => file.size === 0);
    if (empty) return refuse(`"${empty.name}" is empty`);
    const onnx = list.filter((file) => /\.onnx$/i.test(file.name));
    const params = list.filter((file) => /\.param$/i.test(file.name));
    const bins = list.filter((file) => /\.bin$/i.test(file.name));
    if (onnx.length > 0) {
      if (list.length > 1) return refuse("choose one .onnx on its own, or an ncnn .param with its .bin");
      return send({ onnx: onnx[0] });
    }
    if (params.length > 1 || bins.length > 1) return refuse("choose one .param and one .bin: the two files of one ncnn model");
    const next: Chosen = { param: params[0] ?? chosen.param, bin: bins[0] ?? chosen.bin };
    if (next.param && next.bin) return send(next);
    setChosen(next); // half a pair: wait for the other file
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    if (!upload.isPending) choose([...event.dataTransfer.files]);
  };

  const error = problem ?? (upload.isError ? errorMessage(upload.error) : undefined);
  // Sending the same bytes again helps only after a taken id (once another is typed) or a failure of the server.
  const retryable = !problem && upload.isError && (errorData(upload.error).code !== "BAD_REQUEST" || /\bid\b/.test(error ?? ""));
  const waitingFor = chosen.param && !chosen.bin ? "bin" : chosen.bin && !chosen.param ? "param" : undefined;
  const sentNames = sent ? chosenNames(sent) : "";
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
      data-testid="model-upload-zone"
    >
      <div className={styles.uploadRow}>
        <div className={styles.uploadIntro}>
          <h2 id="model-upload-heading">Add a model</h2>
          <div className="muted small">
            Drop a <code>.onnx</code> model here, or an ncnn <code>.param</code> and its <code>.bin</code> together (Upscayl&apos;s custom-model
            format: converted to ONNX), or choose them. It must take one RGB image of any size and return it upscaled; the studio runs it on a
            test photo to find its scale, layout, value range and size multiple.
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
        <label className="stack">
          Content
          <select value={content} onChange={(event) => setContent(event.target.value as Model["content"])} disabled={upload.isPending}>
            <option value="unknown">not stated</option>
            <option value="photo">photos</option>
            <option value="art">art (anime…)</option>
          </select>
        </label>
        <label className="stack">
          Trained on
          <select value={degradation} onChange={(event) => setDegradation(event.target.value as Model["degradation"])} disabled={upload.isPending}>
            <option value="unknown">not stated</option>
            <option value="bicubic">clean bicubic</option>
            <option value="real-world">real-world</option>
          </select>
        </label>
        <label className={`button primary ${styles.choose} ${upload.isPending ? styles.busy : ""}`}>
          {upload.isPending ? "Probing…" : waitingFor ? `Choose the .${waitingFor}` : "Choose files"}
          <input
            ref={input}
            type="file"
            multiple
            accept={waitingFor ? `.${waitingFor}` : ".onnx,.param,.bin"}
            className={styles.fileInput}
            disabled={upload.isPending}
            onChange={(event) => choose([...(event.target.files ?? [])])}
            data-testid="model-upload"
          />
        </label>
      </div>
      <div aria-live="polite">
        {waitingFor && (
          <div className="alert warn row" data-testid="model-upload-pending">
            <span>
              <strong>{(chosen.param ?? chosen.bin)!.name}</strong> chosen: now choose or drop its <code>.{waitingFor}</code>{" "}
              {waitingFor === "bin" ? "(the weights)" : "(the network)"}; an ncnn model needs both files.
            </span>
            <span className="spacer" />
            <button className="small" onClick={() => setChosen({})}>
              Clear
            </button>
          </div>
        )}
        {upload.isPending && sent && (
          <div className={`alert ${styles.probing}`}>
            Sending {sentNames} ({formatBytes(chosenSize(sent))}) and {sent.onnx ? "" : "converting it to ONNX, then "}probing it: loading it in ONNX
            Runtime and running it on a test photo…
          </div>
        )}
        {error && (
          <div className="alert error row" data-testid="model-upload-error">
            <span>
              {/* The server's reasons usually name the file already. */}
              {sent && !namesAFile(error, sent) ? `${sentNames} was not added: ` : "Not added: "}
              {error}
            </span>
            <span className="spacer" />
            {sent && retryable && (
              <button className="small" onClick={() => send(sent)}>
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
  const { probe, imported } = model;
  return (
    <div className="alert ok" data-testid="model-upload-result">
      Added <strong>{model.title}</strong> as <code>{model.id}</code>: <strong>x{model.scale}</strong>, {model.layout}, value range {formatRange(model.valueRange)},{" "}
      {model.sizeMultiple > 1 ? `height and width multiples of ${model.sizeMultiple}` : "any height and width (size multiple 1)"}, {formatCount(model.parameterCount)}{" "}
      parameters ({model.speedClass}).
      {imported && (
        <div className="small">
          Converted from ncnn: {imported.param} + {imported.bin} ({formatCount(imported.parameterCount)} weights) → a {formatBytes(imported.onnxBytes)} ONNX file.
        </div>
      )}
      <div className="small">
        Probe: input <code>{probe.inputName}</code> [{probe.inputShape.join(", ")}] → output <code>{probe.outputName}</code> [{probe.outputShape.join(", ")}];
        PSNR against bicubic {probe.psnrAt["0..1"].toFixed(1)} dB fed 0..1, {probe.psnrAt["0..255"].toFixed(1)} dB fed 0..255. Use it in a pipeline: pick{" "}
        <code>{model.id}</code> as a generate node&apos;s model.
      </div>
    </div>
  );
}
