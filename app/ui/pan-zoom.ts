// Zoom and pan over an image laid out at its displayed size, shared by the image viewer and the tiled viewer:
// wheel zooms around the cursor, drag pans, double-click and keys for fit, 1:1 and steps. The view is relative to
// the image (its centre point and displayed width), so several viewers can share one; the image's corner is
// snapped to a whole device pixel so 1:1 maps each image pixel onto one screen pixel.
import { type KeyboardEvent, type MouseEvent, type PointerEvent, useEffect, useLayoutEffect, useRef, useState } from "react";

/** The image point at the viewport's centre (fractions of width and height) and the image's displayed width. */
export interface ViewerView {
  u: number;
  v: number;
  /** Displayed width of the whole image in CSS px (zoom = s / natural width). */
  s: number;
}

interface Size {
  w: number;
  h: number;
}

/** The stage's size, and where its corner falls within a device pixel (text above it can end mid-pixel). */
interface Stage extends Size {
  x: number;
  y: number;
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** The whole image in view, but never enlarged: small outputs open at their true pixels. */
function fitZoom(viewport: Size, width: number, height: number): number {
  return Math.min(viewport.w / width, viewport.h / height, 1);
}

/** Keeps the zoom in range and the image covering the viewport on each axis where it is larger than it. */
function clampView(view: ViewerView, viewport: Size, width: number, height: number, maxZoom: number): ViewerView {
  const zoom = clamp(view.s / width, fitZoom(viewport, width, height) / 2, maxZoom);
  const shownW = zoom * width;
  const shownH = zoom * height;
  const axis = (center: number, shown: number, room: number) => (shown <= room ? 0.5 : clamp(center, room / 2 / shown, 1 - room / 2 / shown));
  return { u: axis(view.u, shownW, viewport.w), v: axis(view.v, shownH, viewport.h), s: shownW };
}

export function formatZoom(zoom: number): string {
  return `${zoom < 0.1 ? (zoom * 100).toFixed(1) : Math.round(zoom * 100)}%`;
}

export interface PanZoomOptions {
  /** Natural size of the image. */
  width: number;
  height: number;
  /** The zoom levels the buttons and keys step through, ascending; the last is the largest zoom. */
  zoomSteps: number[];
  /** Controlled view (null: fit), for viewers that share one; uncontrolled when omitted. */
  view?: ViewerView | null;
  onViewChange?: (view: ViewerView | null) => void;
}

export function usePanZoom({ width, height, zoomSteps, view: controlled, onViewChange }: PanZoomOptions) {
  const maxZoom = zoomSteps[zoomSteps.length - 1];
  const stageRef = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState<Stage>({ w: 0, h: 0, x: 0, y: 0 });
  const [ownView, setOwnView] = useState<ViewerView | null>(null);
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
  const view = measured && requested ? clampView(requested, viewport, width, height, maxZoom) : fit;
  const zoom = view.s / width;
  const shownW = view.s;
  const shownH = zoom * height;
  // The image's corner on a whole device pixel of the screen, so 1:1 maps each image pixel onto one of them.
  const dpr = measured ? window.devicePixelRatio || 1 : 1;
  const snap = (offset: number, origin: number) => Math.round((origin + offset) * dpr) / dpr - origin;
  const left = snap(viewport.w / 2 - view.u * shownW, viewport.x % 1);
  const top = snap(viewport.h / 2 - view.v * shownH, viewport.y % 1);

  const setView = (next: ViewerView | null) => {
    const value = next && clampView(next, viewport, width, height, maxZoom);
    if (controlled === undefined) setOwnView(value);
    onViewChange?.(value);
  };

  /** Zooms to `nextZoom` keeping the image point under (x, y) (viewport px; default the centre) in place. */
  const zoomTo = (nextZoom: number, x = viewport.w / 2, y = viewport.h / 2) => {
    const pointU = (x - (viewport.w / 2 - view.u * shownW)) / shownW;
    const pointV = (y - (viewport.h / 2 - view.v * shownH)) / shownH;
    const s = clamp(nextZoom, 0.001, maxZoom) * width;
    const nextH = (s / width) * height;
    setView({ u: pointU - (x - viewport.w / 2) / s, v: pointV - (y - viewport.h / 2) / nextH, s });
  };

  const stepZoom = (direction: 1 | -1) => {
    const next = direction > 0 ? zoomSteps.find((step) => step > zoom * 1.01) : [...zoomSteps].reverse().find((step) => step < zoom / 1.01);
    zoomTo(next ?? (direction > 0 ? maxZoom : zoom / 2));
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

  const endDrag = () => {
    drag.current = null;
    setDragging(false);
  };
  /** The stage's handlers: drag pans, double-click toggles fit and 1:1 at the cursor, keys zoom and pan. */
  const stageHandlers = {
    onPointerDown: (event: PointerEvent<HTMLDivElement>) => {
      if (event.button !== 0) return;
      event.currentTarget.setPointerCapture(event.pointerId);
      drag.current = { x: event.clientX, y: event.clientY, view };
      setDragging(true);
    },
    onPointerMove: (event: PointerEvent<HTMLDivElement>) => {
      const start = drag.current;
      if (!start) return;
      const startH = (start.view.s / width) * height;
      setView({ u: start.view.u - (event.clientX - start.x) / start.view.s, v: start.view.v - (event.clientY - start.y) / startH, s: start.view.s });
    },
    onPointerUp: endDrag,
    onPointerCancel: endDrag,
    onDoubleClick: (event: MouseEvent<HTMLDivElement>) => {
      const rect = event.currentTarget.getBoundingClientRect();
      if (Math.abs(zoom - 1) < 0.001) setView(null);
      else zoomTo(1, event.clientX - rect.left, event.clientY - rect.top);
    },
    onKeyDown: (event: KeyboardEvent<HTMLDivElement>) => {
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
    },
  };

  return { stageRef, viewport, measured, requested, view, zoom, shownW, shownH, dpr, left, top, dragging, setView, zoomTo, stepZoom, stageHandlers };
}
