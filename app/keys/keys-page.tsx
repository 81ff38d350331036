"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { type FormEvent, useRef, useState } from "react";
import type { AppRouter } from "../../server/api/root";
import { ConfirmButton } from "../ui/confirm-button";
import { errorMessage } from "../ui/errors";
import { RelativeTime } from "../ui/relative-time";
import { useToast } from "../ui/toast";
import { useTRPC } from "../ui/trpc";
import styles from "./keys.module.css";

type Outputs = inferRouterOutputs<AppRouter>["keys"];
type ApiKey = Outputs["list"][number];
type CreatedKey = Outputs["create"];

export function KeysPage() {
  const trpc = useTRPC();
  const keys = useQuery(trpc.keys.list.queryOptions());
  const [created, setCreated] = useState<CreatedKey>();

  return (
    <main className="page">
      <div className="page-header">
        <h1>API keys</h1>
        <span className="muted small">
          Scripts and the CLI (<code>--server … --key …</code>) call the studio&apos;s HTTP API with a key. A key can run pipelines and read
          results; it cannot manage keys.
        </span>
      </div>
      <CreateKey onCreated={setCreated} />
      {created && <NewSecret created={created} onDone={() => setCreated(undefined)} />}
      {keys.isError ? (
        <div className="alert error row">
          <span>Could not list the keys: {errorMessage(keys.error)}</span>
          <span className="spacer" />
          <button className="small" onClick={() => void keys.refetch()}>
            Retry
          </button>
        </div>
      ) : (
        <table className="table" data-testid="keys-table" aria-busy={!keys.data}>
          <thead>
            <tr>
              <th>Name</th>
              <th>Prefix</th>
              <th>Created</th>
              <th>Last used</th>
              <th>Status</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {keys.data?.length === 0 ? (
              <tr>
                <td colSpan={6} className={styles.loading}>
                  <div className="empty">
                    <strong>No API keys yet</strong>
                    Create one above to call the studio from a script (or run <code>npx tudsr keys create &lt;name&gt;</code>).
                  </div>
                </td>
              </tr>
            ) : keys.data ? (
              keys.data.map((key) => <KeyRow key={key.id} apiKey={key} fresh={key.id === created?.id} />)
            ) : (
              <tr>
                <td colSpan={6} className={`muted ${styles.loading}`}>
                  Loading keys…
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </main>
  );
}

function CreateKey({ onCreated }: { onCreated: (key: CreatedKey) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [touched, setTouched] = useState(false);
  const create = useMutation(
    trpc.keys.create.mutationOptions({
      onSuccess: (key) => {
        void queryClient.invalidateQueries({ queryKey: trpc.keys.list.queryKey() });
        onCreated(key);
        setName("");
        setTouched(false);
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (name.trim()) create.mutate({ name: name.trim() });
  };
  const problem = touched && !name.trim() ? "give the key a name: what will use it?" : create.isError ? errorMessage(create.error) : undefined;
  return (
    <form className={`card ${styles.create}`} onSubmit={submit}>
      <label htmlFor="key-name">Name of a new key</label>
      <div className="row">
        <input
          id="key-name"
          className={styles.name}
          value={name}
          maxLength={200}
          placeholder="what will use it, e.g. nightly batch script"
          aria-invalid={problem ? true : undefined}
          onChange={(event) => setName(event.target.value)}
        />
        <button type="submit" className="primary" disabled={create.isPending} data-testid="create-key">
          {create.isPending ? "Creating…" : "Create key"}
        </button>
      </div>
      {problem && <div className="error-text small">{problem}</div>}
    </form>
  );
}

/** The whole key, shown once: the studio keeps only its hash. */
function NewSecret({ created, onDone }: { created: CreatedKey; onDone: () => void }) {
  const origin = window.location.origin;
  const curl = `curl -H "Authorization: Bearer ${created.secret}" ${origin}/api/v1/runs`;
  const cli = `npx tudsr run x4-chunked --input photo.png --output photo-x4.png --server ${origin} --key ${created.secret}`;
  return (
    <section className={`alert ok ${styles.secret}`} aria-labelledby="new-key-heading">
      <div className="row">
        <strong id="new-key-heading">Key &ldquo;{created.name}&rdquo; created. Copy it now: you will not see it again.</strong>
        <span className="spacer" />
        <button type="button" className="small" onClick={onDone}>
          Done
        </button>
      </div>
      <CopyBox text={created.secret} label="API key" testId="new-key-secret" />
      <div className="small">Try it: list the runs</div>
      <CopyBox text={curl} label="curl example" />
      <div className="small">or run a template on this studio from the command line</div>
      <CopyBox text={cli} label="CLI example" />
    </section>
  );
}

function CopyBox({ text, label, testId }: { text: string; label: string; testId?: string }) {
  const [copied, setCopied] = useState<"yes" | "select">();
  const code = useRef<HTMLElement>(null);
  const selectAll = () => {
    const selection = window.getSelection();
    if (code.current && selection) selection.selectAllChildren(code.current);
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("yes");
    } catch {
      // No clipboard access (an insecure origin, or permission refused): leave the text selected for Ctrl+C.
      selectAll();
      setCopied("select");
    }
  };
  return (
    <div className={styles.copyBox}>
      <code ref={code} className={styles.copyText} aria-label={label} data-testid={testId} onClick={selectAll}>
        {text}
      </code>
      <button type="button" className="small" onClick={() => void copy()} aria-label={`Copy ${label}`}>
        {copied === "yes" ? "Copied" : copied === "select" ? "Press Ctrl+C" : "Copy"}
      </button>
    </div>
  );
}

function KeyRow({ apiKey, fresh }: { apiKey: ApiKey; fresh: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const revoke = useMutation(
    trpc.keys.revoke.mutationOptions({
      onSuccess: () => {
        void queryClient.invalidateQueries({ queryKey: trpc.keys.list.queryKey() });
        toast(`Revoked "${apiKey.name}" (${apiKey.prefix}): scripts using it now get 401`);
      },
      onError: (error) => toast(`Could not revoke "${apiKey.name}": ${errorMessage(error)}`, { kind: "error" }),
    }),
  );
  const revoked = Boolean(apiKey.revokedAt);
  return (
    <tr className={revoked ? styles.revoked : fresh ? styles.fresh : undefined} data-key-prefix={apiKey.prefix}>
      <td className={styles.keyName}>{apiKey.name}</td>
      <td className="mono">{apiKey.prefix}</td>
      <td>
        <RelativeTime date={apiKey.createdAt} />
      </td>
      <td>
        <RelativeTime date={apiKey.lastUsedAt} never="never" />
      </td>
      <td>
        {revoked ? (
          <span className="badge failed">
            revoked <RelativeTime date={apiKey.revokedAt} />
          </span>
        ) : (
          <span className="badge succeeded">active</span>
        )}
      </td>
      <td className={styles.actions}>
        {!revoked && (
          <ConfirmButton
            label="Revoke"
            question="Revoke this key?"
            disabled={revoke.isPending}
            onConfirm={() => revoke.mutate({ id: apiKey.id })}
          />
        )}
      </td>
    </tr>
  );
}
