"use client";
// A zoom/pan viewer for large outputs: wheel zooms around the cursor, drag pans, buttons and keys for fit, 1:1
// and steps. The image is laid out at its displayed size (not a CSS scale), so 1:1 is pixel-exact and
// `image-rendering: pixelated` shows the true pixels above 100%. An optional before/after mode lays a second
// image (the run's input, stretched to the output's size) under the same view, split by a draggable divider.
// The view is relative to the image (its centre point and displayed width), so several viewers can share one
// (the compare page): outputs of different sizes then show the same part of the picture.
import { type KeyboardEvent, type MouseEvent, type PointerEvent, type ReactNode, useEffect, useLayoutEffect, useRef, useState } from "react";
import styles from "./image-viewer.module.css";

/** The image point at the viewport's centre (fractions of width and height) and the image's displayed width. */
export interface ViewerView {
  u: number;
  v: number;
  /** Displayed width of the whole image in CSS px (zoom = s / natural width). */
  s: number;
}

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
const MAX_ZOOM = 32;

interface Size {
  w: number;
  h: number;
}

/** The stage's size, and where its corner falls within a device pixel (text above it can end mid-pixel). */
interface Stage extends Size {
  x: number;
  y: number;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** The whole image in view, but never enlarged: small outputs open at their true pixels. */
function fitZoom(viewport: Size, width: number, height: number): number {
  return Math.min(viewport.w / width, viewport.h / height, 1);
}

/** Keeps the zoom in range and the image covering the viewport on each axis where it is larger than it. */
function clampView(view: ViewerView, viewport: Size, width: number, height: number): ViewerView {
  const minZoom = fitZoom(viewport, width, height) / 2;
  const zoom = clamp(view.s / width, minZoom, MAX_ZOOM);
  const shownW = zoom * width;
  const shownH = zoom * height;
  const axis = (center: number, shown: number, room: number) =>
    shown <= room ? 0.5 : clamp(center, room / 2 / shown, 1 - room / 2 / shown);
  return { u: axis(view.u, shownW, viewport.w), v: axis(view.v, shownH, viewport.h), s: shownW };
}

function formatZoom(zoom: number): string {
  return `${zoom < 0.1 ? (zoom * 100).toFixed(1) : Math.round(zoom * 100)}%`;
}

export function ImageViewer({ src, width, height, alt, before, afterLabel = "output", view: controlled, onViewChange, actions, className }: ImageViewerProps) {
  const stageRef = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState<Stage>({ w: 0, h: 0, x: 0, y: 0 });
  const [ownView, setOwnView] = useState<ViewerView | null>(null);
  const [split, setSplit] = useState<number | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const drag = useRef<{ x: number; y: number; view: ViewerView } | null>(null);

  useLayoutEffect(() => {
    const stage = stageRef.current!;
    const measure = () => {
      const rect = stage.getBoundingClientRect();
      const w = stage.clientWidth;
      const h = stage.clientHeight;
      // clientLeft/Top: the border; the image is placed inside it.
      const x = rect.left + stage.clientLeft;
      const y = rect.top + stage.clientTop;
      setViewport((old) => (old.w === w && old.h === h && old.x === x && old.y === y ? old : { w, h, x, y }));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(stage);
    observer.observe(document.body);
    return () => observer.disconnect();
  }, []);

  const requested = controlled === undefined ? ownView : controlled;
  const measured = viewport.w > 0 && viewport.h > 0;
  const fit: ViewerView = { u: 0.5, v: 0.5, s: (measured ? fitZoom(viewport, width, height) : 1) * width };
  const view = measured && requested ? clampView(requested, viewport, width, height) : fit;
  const zoom = view.s / width;
  const shownW = view.s;
  const shownH = zoom * height;
  // The image's corner on a whole device pixel of the screen, so 1:1 maps each image pixel onto one of them.
  const dpr = measured ? window.devicePixelRatio || 1 : 1;
  const snap = (offset: number, origin: number) => Math.round((origin + offset) * dpr) / dpr - origin;
  const left = snap(viewport.w / 2 - view.u * shownW, viewport.x % 1);
  const top = snap(viewport.h / 2 - view.v * shownH, viewport.y % 1);

  const setView = (next: ViewerView | null) => {
    const value = next && clampView(next, viewport, width, height);
    if (controlled === undefined) setOwnView(value);
    onViewChange?.(value);
  };

  /** Zooms to `nextZoom` keeping the image point under (x, y) (viewport px; default the centre) in place. */
  const zoomTo = (nextZoom: number, x = viewport.w / 2, y = viewport.h / 2) => {
    const pointU = (x - (viewport.w / 2 - view.u * shownW)) / shownW;
    const pointV = (y - (viewport.h / 2 - view.v * shownH)) / shownH;
    const s = clamp(nextZoom, 0.001, MAX_ZOOM) * width;
    const nextH = (s / width) * height;
    setView({ u: pointU - (x - viewport.w / 2) / s, v: pointV - (y - viewport.h / 2) / nextH, s });
  };

  const stepZoom = (direction: 1 | -1) => {
    const next = direction > 0 ? ZOOM_STEPS.find((step) => step > zoom * 1.01) : [...ZOOM_STEPS].reverse().find((step) => step < zoom / 1.01);
    zoomTo(next ?? (direction > 0 ? MAX_ZOOM : zoom / 2));
  };

  // React's wheel listener is passive, and the page must not scroll while the wheel zooms the image: a native
  // listener, calling the latest render's handler.
  const wheelRef = useRef<(event: WheelEvent) => void>(() => {});
  useLayoutEffect(() => {
    wheelRef.current = (event: WheelEvent) => {
      event.preventDefault();
      const rect = stageRef.current!.getBoundingClientRect();
      const delta = clamp(event.deltaY * (event.deltaMode === 1 ? 16 : 1), -200, 200);
      zoomTo(zoom * Math.exp(-delta * 0.002), event.clientX - rect.left, event.clientY - rect.top);
    };
  });
  useEffect(() => {
    const stage = stageRef.current!;
    const onWheel = (event: WheelEvent) => wheelRef.current(event);
    stage.addEventListener("wheel", onWheel, { passive: false });
    return () => stage.removeEventListener("wheel", onWheel);
  }, []);

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { x: event.clientX, y: event.clientY, view };
    setDragging(true);
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    const start = drag.current;
    if (!start) return;
    const startH = (start.view.s / width) * height;
    setView({ u: start.view.u - (event.clientX - start.x) / start.view.s, v: start.view.v - (event.clientY - start.y) / startH, s: start.view.s });
  };
  const endDrag = () => {
    drag.current = null;
    setDragging(false);
  };

  const onDoubleClick = (event: MouseEvent<HTMLDivElement>) => {
    const rect = event.currentTarget.getBoundingClientRect();
    if (Math.abs(zoom - 1) < 0.001) setView(null);
    else zoomTo(1, event.clientX - rect.left, event.clientY - rect.top);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const pan = event.shiftKey ? 0.5 : 0.1;
    const keys: Record<string, () => void> = {
      "+": () => stepZoom(1),
      "=": () => stepZoom(1),
      "-": () => stepZoom(-1),
      "0": () => setView(null),
      "1": () => zoomTo(1),
      ArrowLeft: () => setView({ ...view, u: view.u - (pan * viewport.w) / shownW }),
      ArrowRight: () => setView({ ...view, u: view.u + (pan * viewport.w) / shownW }),
      ArrowUp: () => setView({ ...view, v: view.v - (pan * viewport.h) / shownH }),
      ArrowDown: () => setView({ ...view, v: view.v + (pan * viewport.h) / shownH }),
    };
    const action = keys[event.key];
    if (!action || event.ctrlKey || event.metaKey || event.altKey) return;
    event.preventDefault();
    action();
  };

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
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={endDrag}
        onPointerCancel={endDrag}
        onDoubleClick={onDoubleClick}
        onKeyDown={onKeyDown}
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
