"use client";
// The viewer of a large output by tiles (its Deep Zoom pyramid, made when it was stored: artifacts.tiles): only
// the tiles in view are loaded, from the pyramid level whose pixels are at least as fine as the screen's at this
// zoom, over the one-tile level stretched to the whole image (so panning never shows a hole). It moves like the
// ImageViewer (app/ui): wheel zooms around the cursor, drag pans, buttons and keys for fit, 1:1 and steps; the
// whole file stays a download.
import { type KeyboardEvent, type MouseEvent, type PointerEvent, type ReactNode, useEffect, useLayoutEffect, useRef, useState } from "react";
import styles from "../../ui/image-viewer.module.css";

export interface TiledImage {
  width: number;
  height: number;
  tileSize: number;
  format: string;
  /** Tiles are at `${url}/<level>/<col>_<row>.<format>`. */
  url: string;
}

/** The image point at the viewport's centre (fractions of width and height) and the image's displayed width. */
interface View {
  u: number;
  v: number;
  s: number;
}

interface Stage {
  w: number;
  h: number;
  x: number;
  y: number;
}

const ZOOM_STEPS = [0.01, 0.02, 0.05, 0.1, 0.125, 0.25, 1 / 3, 0.5, 2 / 3, 1, 1.5, 2, 3, 4, 6, 8, 12, 16];
const MAX_ZOOM = 16;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function fitZoom(viewport: Stage, width: number, height: number): number {
  return Math.min(viewport.w / width, viewport.h / height, 1);
}

function clampView(view: View, viewport: Stage, width: number, height: number): View {
  const zoom = clamp(view.s / width, fitZoom(viewport, width, height) / 2, MAX_ZOOM);
  const shownW = zoom * width;
  const shownH = zoom * height;
  const axis = (center: number, shown: number, room: number) => (shown <= room ? 0.5 : clamp(center, room / 2 / shown, 1 - room / 2 / shown));
  return { u: axis(view.u, shownW, viewport.w), v: axis(view.v, shownH, viewport.h), s: shownW };
}

function formatZoom(zoom: number): string {
  return `${zoom < 0.1 ? (zoom * 100).toFixed(1) : Math.round(zoom * 100)}%`;
}

interface PlacedTile {
  key: string;
  src: string;
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The tiles of `level` covering the screen rectangle [0, vw) x [0, vh), the image's corner at (left, top) and
 * `zoom` screen px per image px. Level L is the image shrunk 2^(maxLevel - L) times (sizes rounded up).
 */
function tilesInView(image: TiledImage, level: number, maxLevel: number, zoom: number, left: number, top: number, vw: number, vh: number): PlacedTile[] {
  const factor = 2 ** (maxLevel - level);
  const levelW = Math.ceil(image.width / factor);
  const levelH = Math.ceil(image.height / factor);
  const size = image.tileSize;
  // Screen px per level px.
  const scale = zoom * factor;
  const first = (offset: number) => Math.max(0, Math.floor(-offset / scale / size));
  const last = (offset: number, room: number, levelSize: number) => Math.min(Math.ceil(levelSize / size) - 1, Math.floor((room - offset) / scale / size));
  const tiles: PlacedTile[] = [];
  for (let row = first(top); row <= last(top, vh, levelH); row++) {
    for (let col = first(left); col <= last(left, vw, levelW); col++) {
      // Edges rounded on the screen, each shared by two tiles, so no seam shows between them.
      const x0 = Math.round(left + col * size * scale);
      const x1 = Math.round(left + Math.min((col + 1) * size, levelW) * scale);
      const y0 = Math.round(top + row * size * scale);
      const y1 = Math.round(top + Math.min((row + 1) * size, levelH) * scale);
      tiles.push({ key: `${level}/${col}_${row}`, src: `${image.url}/${level}/${col}_${row}.${image.format}`, left: x0, top: y0, width: x1 - x0, height: y1 - y0 });
    }
  }
  return tiles;
}

export function TiledImageViewer({ image, alt, actions, className }: { image: TiledImage; alt: string; actions?: ReactNode; className?: string }) {
  const { width, height, tileSize } = image;
  const stageRef = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState<Stage>({ w: 0, h: 0, x: 0, y: 0 });
  const [requested, setRequested] = useState<View | null>(null);
  const [dragging, setDragging] = useState(false);
  const [failed, setFailed] = useState(0);
  const drag = useRef<{ x: number; y: number; view: View } | null>(null);

  useLayoutEffect(() => {
    const stage = stageRef.current!;
    const measure = () => {
      const rect = stage.getBoundingClientRect();
      const w = stage.clientWidth;
      const h = stage.clientHeight;
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

  const measured = viewport.w > 0 && viewport.h > 0;
  const fit: View = { u: 0.5, v: 0.5, s: (measured ? fitZoom(viewport, width, height) : 1) * width };
  const view = measured && requested ? clampView(requested, viewport, width, height) : fit;
  const zoom = view.s / width;
  const shownW = view.s;
  const shownH = zoom * height;
  const dpr = measured ? window.devicePixelRatio || 1 : 1;
  const snap = (offset: number, origin: number) => Math.round((origin + offset) * dpr) / dpr - origin;
  const left = snap(viewport.w / 2 - view.u * shownW, viewport.x % 1);
  const top = snap(viewport.h / 2 - view.v * shownH, viewport.y % 1);

  const maxLevel = Math.ceil(Math.log2(Math.max(width, height)));
  // The coarsest level at least as fine as the screen (device pixels) at this zoom.
  const level = clamp(maxLevel - Math.floor(Math.log2(1 / (zoom * dpr)) + 1e-9), 0, maxLevel);
  // The whole image in one tile: always under the others.
  const baseLevel = clamp(maxLevel - Math.ceil(Math.log2(Math.max(width, height) / tileSize)), 0, maxLevel);
  const tiles = measured
    ? [
        ...tilesInView(image, baseLevel, maxLevel, zoom, left, top, viewport.w, viewport.h),
        ...(level > baseLevel ? tilesInView(image, level, maxLevel, zoom, left, top, viewport.w, viewport.h) : []),
      ]
    : [];

  const setView = (next: View | null) => setRequested(next && clampView(next, viewport, width, height));

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

  // A native, non-passive wheel listener (the page must not scroll while the wheel zooms), calling this render's.
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
        <span className="spacer" />
        <span className="muted small" title="Shown by tiles: only the part in view is loaded" data-testid="viewer-level">
          tiled · level {level} of {maxLevel}
        </span>
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
        data-testid="tiled-viewer"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={endDrag}
        onPointerCancel={endDrag}
        onDoubleClick={onDoubleClick}
        onKeyDown={onKeyDown}
      >
        <div
          className={styles.image}
          style={{ width: Math.round(shownW), height: Math.round(shownH), transform: `translate(${left}px, ${top}px)`, visibility: measured ? "visible" : "hidden" }}
        />
        {tiles.map((tile) => (
          <img
            key={tile.key}
            src={tile.src}
            alt=""
            draggable={false}
            decoding="async"
            data-testid="viewer-tile"
            data-tile={tile.key}
            onError={() => setFailed((count) => count + 1)}
            style={{
              position: "absolute",
              left: tile.left,
              top: tile.top,
              width: tile.width,
              height: tile.height,
              maxWidth: "none",
              imageRendering: zoom * dpr > 1 ? "pixelated" : "auto",
            }}
          />
        ))}
        {failed > 0 && <div className={`${styles.overlay} error-text`}>{failed} tile(s) of {alt} could not be loaded</div>}
      </div>
    </div>
  );
}
