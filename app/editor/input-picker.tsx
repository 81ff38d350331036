"use client";
// Chooses the image a load-image node reads: upload one (click or drop a file), or pick a recent upload.
import { useRef, useState } from "react";
import styles from "./editor.module.css";
import type { RunnerState } from "./use-runner";

export function InputPicker({ name, runner, disabled }: { name: string; runner: RunnerState; disabled: boolean }) {
  const fileRef = useRef<HTMLInputElement>(null);
  const [open, setOpen] = useState(false);
  const chosen = runner.inputs[name];
  const busy = runner.uploading === name;
  return (
    <div
      className={styles.inputPicker}
      onDragOver={(event) => event.dataTransfer.types.includes("Files") && event.preventDefault()}
      onDrop={(event) => {
        const file = event.dataTransfer.files[0];
        if (!file) return;
        event.preventDefault();
        void runner.upload(name, file);
      }}
      data-testid={`input-picker-${name}`}
    >
      <button className="ghost" onClick={() => setOpen(!open)} disabled={disabled} title={`Run input “${name}”: click to choose, or drop an image here`}>
        {chosen ? (
          <>
            {/* eslint-disable-next-line @next/next/no-img-element -- the uploaded input, served by the API */}
            <img src={chosen.url} alt="" className={styles.inputThumb} />
            <span className={styles.inputName}>{chosen.fileName}</span>
            <span className="muted small">{chosen.width}×{chosen.height}</span>
          </>
        ) : (
          <span>{busy ? "Uploading…" : `Choose ${name} image…`}</span>
        )}
      </button>
      <input
        ref={fileRef}
        type="file"
        accept="image/png,image/jpeg,image/webp,image/tiff,image/gif,image/avif"
        hidden
        onChange={(event) => {
          const file = event.target.files?.[0];
          event.target.value = "";
          setOpen(false);
          if (file) void runner.upload(name, file);
        }}
        data-testid={`input-file-${name}`}
      />
      {open && (
        <div className={styles.popover} data-testid={`input-menu-${name}`}>
          <header>
            <strong>Input “{name}”</strong>
            <button className="ghost small" onClick={() => setOpen(false)} aria-label="Close">×</button>
          </header>
          <button className="primary" onClick={() => fileRef.current?.click()} disabled={busy}>
            Upload an image…
          </button>
          {runner.recent.length > 0 && <p className="muted small">Recent uploads</p>}
          <div className={styles.recentGrid}>
            {runner.recent.map((image) => (
              <button
                key={image.id}
                className={styles.recentItem}
                onClick={() => {
                  runner.choose(name, image);
                  setOpen(false);
                }}
                title={`${image.fileName} (${image.width}×${image.height})`}
              >
                {/* eslint-disable-next-line @next/next/no-img-element -- a recent upload */}
                <img src={image.url} alt={image.fileName} />
              </button>
            ))}
          </div>
        </div>
      )}
    </div>
  );
}
