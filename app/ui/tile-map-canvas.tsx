"use client";
// One node's tile map on two stacked <canvas>es: finished tiles drawn once each as their previews arrive (never
// redrawn, never one DOM node per tile), the running tiles outlined on the overlay. `data-tiles-drawn` counts the
// tiles drawn on the canvas so far.
import { useEffect, useRef } from "react";
import type { TileMapState } from "./tile-map";
import styles from "./tile-map-canvas.module.css";

const OUTLINE = "#ffcc33";

export function TileMapCanvas({ nodeId, map, active, maxSide }: { nodeId: string; map: TileMapState; active: boolean; maxSide: number }) {
  const tilesRef = useRef<HTMLCanvasElement>(null);
  const overlayRef = useRef<HTMLCanvasElement>(null);
  // What is on the tiles canvas, and the draws waiting: in tile order, so overlaps show as the stitch cuts them.
  const drawn = useRef({ key: "", indices: new Set<number>(), queue: Promise.resolve() });
  const shrink = Math.min(1, maxSide / Math.max(map.canvas.width, map.canvas.height));
  const width = Math.max(1, Math.round(map.canvas.width * shrink));
  const height = Math.max(1, Math.round(map.canvas.height * shrink));
  const key = `${map.iteration ?? ""}:${width}x${height}`;

  useEffect(() => {
    const canvas = tilesRef.current;
    const context = canvas?.getContext("2d");
    if (!canvas || !context) return;
    const state = drawn.current;
    if (state.key !== key) {
      // A new pass (or size): the canvas was cleared by its new size, or is cleared here.
      context.clearRect(0, 0, canvas.width, canvas.height);
      state.key = key;
      state.indices = new Set();
      state.queue = Promise.resolve();
      canvas.dataset.tilesDrawn = "0";
    }
    const fresh = [...map.finished.values()].filter((tile) => !state.indices.has(tile.index)).sort((a, b) => a.index - b.index);
    for (const tile of fresh) {
      state.indices.add(tile.index);
      state.queue = state.queue.then(async () => {
        const image = new Image();
        image.src = tile.dataUrl;
        try {
          await image.decode();
        } catch {
          return; // a preview that does not decode leaves its place empty; the run is unaffected
        }
        if (state.key !== key) return;
        context.drawImage(image, tile.x * shrink, tile.y * shrink, tile.width * shrink, tile.height * shrink);
        canvas.dataset.tilesDrawn = String(Number(canvas.dataset.tilesDrawn ?? 0) + 1);
      });
    }
  }, [key, map.finished, shrink]);

  useEffect(() => {
    const canvas = overlayRef.current;
    const context = canvas?.getContext("2d");
    if (!canvas || !context) return;
    context.clearRect(0, 0, canvas.width, canvas.height);
    if (!active) return;
    context.strokeStyle = OUTLINE;
    context.lineWidth = 2;
    for (const tile of map.running) context.strokeRect(tile.x * shrink + 1, tile.y * shrink + 1, Math.max(1, tile.width * shrink - 2), Math.max(1, tile.height * shrink - 2));
  }, [active, map.running, shrink, width, height]);

  return (
    <figure className={styles.map} data-testid={`tile-map-${nodeId}`} data-tiles-total={map.total} data-tiles-finished={map.finished.size}>
      <div className={styles.frame}>
        <canvas ref={tilesRef} width={width} height={height} data-testid={`tile-map-canvas-${nodeId}`} aria-label={`tiles of ${nodeId} drawn so far`} />
        <canvas ref={overlayRef} width={width} height={height} aria-hidden />
      </div>
      <figcaption className={styles.caption}>
        {map.finished.size} of {map.total} tiles · {map.canvas.width}×{map.canvas.height}
      </figcaption>
    </figure>
  );
}
