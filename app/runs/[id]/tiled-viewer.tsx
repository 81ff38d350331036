"use client";
// The viewer of a large output by tiles (its Deep Zoom pyramid, made when it was stored: artifacts.tiles): only
// the tiles in view are loaded, from the pyramid level whose pixels are at least as fine as the screen's at this
// zoom, over the one-tile level stretched to the whole image (so panning never shows a hole). It moves like the
// ImageViewer (app/ui): wheel zooms around the cursor, drag pans, buttons and keys for fit, 1:1 and steps; the
// whole file stays a download.
import { type ReactNode, useState } from "react";
import styles from "../../ui/image-viewer.module.css";
import { clamp, formatZoom, usePanZoom } from "../../ui/pan-zoom";

export interface TiledImage {
  width: number;
  height: number;
  tileSize: number;
  format: string;
  /** Tiles are at `${url}/<level>/<col>_<row>.<format>`. */
  url: string;
}

const ZOOM_STEPS = [0.01, 0.02, 0.05, 0.1, 0.125, 0.25, 1 / 3, 0.5, 2 / 3, 1, 1.5, 2, 3, 4, 6, 8, 12, 16];

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
  const { stageRef, viewport, measured, requested, zoom, shownW, shownH, dpr, left, top, dragging, setView, zoomTo, stepZoom, stageHandlers } = usePanZoom({
    width,
    height,
    zoomSteps: ZOOM_STEPS,
  });
  const [failed, setFailed] = useState(0);

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
        {...stageHandlers}
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
