"use client";
// A zoom/pan viewer for large outputs: wheel zooms around the cursor, drag pans, buttons and keys for fit, 1:1
// and steps. The image is laid out at its displayed size (not a CSS scale), so 1:1 is pixel-exact and
// `image-rendering: pixelated` shows the true pixels above 100%. An optional before/after mode lays a second
// image (the run's input, stretched to the output's size) under the same view, split by a draggable divider.
// The view is relative to the image (its centre point and displayed width), so several viewers can share one
// (the compare page): outputs of different sizes then show the same part of the picture.
import { type PointerEvent, type ReactNode, useState } from "react";
import styles from "./image-viewer.module.css";
import { clamp, formatZoom, usePanZoom, type ViewerView } from "./pan-zoom";


export interface ImageViewerProps {
  src: string;
  /** Natural size, known from the artifact, so the layout does not wait for the file. */
  width: number;
  height: number;
  alt: string;
  /** Enables the before/after mode: this image is stretched to `width` x `height` and shown left of the divider. */
  before?: { src: string; label: string };
  afterLabel?: string;
  /** Controlled view (null: fit), for viewers that share one; uncontrolled when omitted. */
  view?: ViewerView | null;
  onViewChange?: (view: ViewerView | null) => void;
  /** Extra toolbar content at its end (e.g. a download link). */
  actions?: ReactNode;
  className?: string;
}

const ZOOM_STEPS = [0.05, 0.1, 0.125, 0.25, 1 / 3, 0.5, 2 / 3, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32];

export function ImageViewer({ src, width, height, alt, before, afterLabel = "output", view: controlled, onViewChange, actions, className }: ImageViewerProps) {
  const { stageRef, measured, requested, zoom, shownW, shownH, left, top, dragging, setView, zoomTo, stepZoom, stageHandlers } = usePanZoom({
    width,
    height,
    zoomSteps: ZOOM_STEPS,
    view: controlled,
    onViewChange,
  });
  const [split, setSplit] = useState<number | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);

  const onError = () => {
    // The <img> cannot read why; the API answers errors as JSON, so ask once more for the message.
    fetch(src)
      .then(async (response) => {
        const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
        setLoadError(body?.error?.message ?? `the server answered ${response.status}`);
      })
      .catch(() => setLoadError("the studio server cannot be reached"));
  };

  const imageStyle = {
    width: shownW,
    height: shownH,
    transform: `translate(${left}px, ${top}px)`,
    imageRendering: zoom > 1 ? ("pixelated" as const) : ("auto" as const),
    visibility: measured ? ("visible" as const) : ("hidden" as const),
  };

  return (
    <div className={`${styles.viewer} ${className ?? ""}`}>
      <div className={styles.toolbar}>
        <button className="small" onClick={() => setView(null)} title="The whole image, at most 100% (0)" aria-pressed={requested === null}>
          Fit
        </button>
        <button className="small" onClick={() => zoomTo(1)} title="Actual pixels: one image pixel per screen pixel (1)" aria-pressed={Math.abs(zoom - 1) < 0.001}>
          1:1
        </button>
        <button className="small" onClick={() => stepZoom(-1)} title="Zoom out (-)" aria-label="Zoom out">
          −
        </button>
        <span className={styles.zoom} data-testid="viewer-zoom">
          {formatZoom(zoom)}
        </span>
        <button className="small" onClick={() => stepZoom(1)} title="Zoom in (+)" aria-label="Zoom in">
          +
        </button>
        {before && (
          <button className="small" onClick={() => setSplit(split === null ? 0.5 : null)} aria-pressed={split !== null} title="Compare with the input under a draggable divider">
            Before / after
          </button>
        )}
        <span className="spacer" />
        <span className="muted small">
          {width} × {height} px
        </span>
        {actions}
      </div>
      <div
        ref={stageRef}
        className={`${styles.stage} ${dragging ? styles.dragging : ""}`}
        tabIndex={0}
        role="group"
        aria-label={`${alt}: wheel or +/- to zoom, drag or arrow keys to pan, 0 to fit, 1 for actual pixels`}
        {...stageHandlers}
      >
        <img
          className={styles.image}
          src={src}
          alt={alt}
          width={width}
          height={height}
          style={imageStyle}
          draggable={false}
          decoding="async"
          onLoad={() => setLoaded(true)}
          onError={onError}
          data-testid="output-image"
        />
        {before && split !== null && (
          <>
            <div className={styles.beforeLayer} style={{ clipPath: `inset(0 ${(1 - split) * 100}% 0 0)` }}>
              <img className={styles.image} src={before.src} alt={before.label} style={{ ...imageStyle, imageRendering: "auto" }} draggable={false} decoding="async" />
            </div>
            <span className={`${styles.label} ${styles.labelLeft}`}>{before.label}</span>
            <span className={`${styles.label} ${styles.labelRight}`}>{afterLabel}</span>
            <Divider split={split} onChange={setSplit} />
          </>
        )}
        {!loaded && !loadError && <div className={styles.overlay}>Loading {width} × {height} image…</div>}
        {loadError && <div className={`${styles.overlay} error-text`}>Could not show {alt}: {loadError}</div>}
      </div>
    </div>
  );
}

/** The before/after divider: drag it, or focus it and use the arrow keys. */
function Divider({ split, onChange }: { split: number; onChange: (split: number) => void }) {
  const follow = (event: PointerEvent<HTMLDivElement>) => {
    const stage = event.currentTarget.parentElement!.getBoundingClientRect();
    onChange(clamp((event.clientX - stage.left) / stage.width, 0, 1));
  };
  return (
    <div
      className={styles.divider}
      style={{ left: `${split * 100}%` }}
      role="slider"
      tabIndex={0}
      aria-label="Before/after divider"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(split * 100)}
      onPointerDown={(event) => {
        event.stopPropagation();
        event.currentTarget.setPointerCapture(event.pointerId);
      }}
      onPointerMove={(event) => {
        if (event.currentTarget.hasPointerCapture(event.pointerId)) follow(event);
      }}
      onDoubleClick={(event) => event.stopPropagation()}
      onKeyDown={(event) => {
        const step = event.shiftKey ? 0.2 : 0.05;
        if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
        event.preventDefault();
        event.stopPropagation();
        onChange(clamp(split + (event.key === "ArrowLeft" ? -step : step), 0, 1));
      }}
    >
      <span className={styles.knob} aria-hidden="true">
        ⇔
      </span>
    </div>
  );
}
