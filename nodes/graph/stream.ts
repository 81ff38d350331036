// Streamed values: a node may hand on a tiles or image value before it has all of it, its parts (tiles, bands of
// rows) following in order as they finish. The engine decides, once the node has returned, how the value is
// delivered: "stream" when its only reader reads that port part by part (parts are freed as they are read, and
// the producer waits while the reader is behind), "whole" otherwise (parts gathered into the whole value, which
// every reader gets, as an unstreamed value). A value nobody started is started whole on first use.
import { type Band, copyRows } from "../image/tiling";
import { createImage, type RgbImage } from "../image/types";
import type { AnyNodeDefinition } from "./define-node";
import type { SaveOptions } from "./host";
import type { PortValue, Tile, TileGrid, TileSet } from "./values";

/** A tile's place, known before its pixels. */
export type TileRect = Omit<Tile, "image">;

type Mode = "stream" | "whole";
type Push<P> = (part: P) => Promise<void>;

/** How many parts a streamed value holds ahead of its reader before its producer waits. */
const AHEAD = 2;

class Stream<P, W extends PortValue> {
  private mode?: Mode;
  private readonly queue: P[] = [];
  private ended = false;
  private failure?: { error: unknown };
  private wake?: () => void;
  private space?: () => void;
  private whole?: Promise<W>;
  private gathered?: (part: P) => void;
  private mapError: (error: unknown) => unknown = (error) => error;
  /** Watchers of the parts as they are made (previews): told each part before anyone reads it. */
  readonly watchers: ((part: P) => void)[] = [];
  /** Time the reader spent waiting for parts (not the reader's own work). */
  waitedMs = 0;
  readonly done: Promise<void>;
  private settle!: { resolve: () => void; reject: (error: unknown) => void };

  constructor(
    private readonly produce: (push: Push<P>) => Promise<void>,
    private readonly gather: () => { add: (part: P) => void; value: () => W },
  ) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => {}); // its failure reaches whoever reads or awaits it
  }

  start(mode: Mode, mapError?: (error: unknown) => unknown): void {
    if (this.mode) return;
    this.mode = mode;
    if (mapError) this.mapError = mapError;
    let gathered: W | undefined;
    if (mode === "whole") {
      const whole = this.gather();
      this.gathered = whole.add;
      this.whole = this.done.then(() => (gathered ??= whole.value()));
      this.whole.catch(() => {});
    }
    this.produce((part) => this.push(part)).then(
      () => this.finish(),
      (error: unknown) => this.finish({ error }),
    );
  }

  private async push(part: P): Promise<void> {
    for (const watch of this.watchers) watch(part);
    if (this.gathered) return this.gathered(part);
    this.queue.push(part);
    this.wake?.();
    while (this.queue.length > AHEAD && !this.failure) await new Promise<void>((resolve) => (this.space = resolve));
  }

  private finish(failure?: { error: unknown }): void {
    this.ended = true;
    this.failure = failure;
    this.wake?.();
    this.space?.();
    if (failure) this.settle.reject(failure.error);
    else this.settle.resolve();
  }

  /** Part by part: the parts as they come (freed as read); gathered whole: the whole value's parts. */
  async *parts(partsOf: (whole: W) => Iterable<P>): AsyncGenerator<P> {
    this.start("stream");
    if (this.mode === "whole") {
      yield* partsOf(await this.value());
      return;
    }
    for (;;) {
      if (this.queue.length) {
        const part = this.queue.shift()!;
        this.space?.();
        yield part;
      } else if (this.ended) {
        if (this.failure) throw this.mapError(this.failure.error);
        return;
      } else {
        const t0 = performance.now();
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.waitedMs += performance.now() - t0;
      }
    }
  }

  /** The whole value; read part by part, its reader gathers it so (then only that reader may ask). */
  value(): Promise<W> {
    this.start("whole");
    this.whole ??= (async () => {
      const whole = this.gather();
      for await (const part of this.parts(() => [])) whole.add(part);
      return whole.value();
    })();
    return this.whole.catch((error: unknown) => Promise.reject(this.mapError(error)));
  }
}

const STREAMS = new WeakMap<object, Stream<Tile, TileSet> | Stream<Band, RgbImage>>();
const RECTS = new WeakMap<TileSet, TileRect[]>();

function streamOf(value: PortValue | undefined) {
  return typeof value === "object" ? STREAMS.get(value) : undefined;
}

/** Whether the value's parts are still to come (or being read). */
export function isStreamed(value: PortValue | undefined): boolean {
  return streamOf(value) !== undefined;
}

/**
 * Tiles (at `rects`, in that order) whose images `produce` pushes as they finish. Until started the set's
 * `tiles` is empty: read it with tilesOf / tileRects, or whole with wholeValue.
 */
export function streamTiles(grid: TileGrid, rects: TileRect[], produce: (push: Push<Tile>) => Promise<void>): TileSet {
  const set: TileSet = { grid, tiles: [] };
  const gather = () => {
    const tiles: Tile[] = [];
    return { add: (tile: Tile) => void tiles.push(tile), value: () => ({ grid, tiles }) };
  };
  STREAMS.set(set, new Stream<Tile, TileSet>(produce, gather));
  RECTS.set(set, rects);
  return set;
}

/** An image whose bands of rows `produce` pushes top to bottom. Gathered whole, the bands are copied in as they come. */
export function streamImage(width: number, height: number, produce: (push: Push<Band>) => Promise<void>): RgbImage {
  const image: RgbImage = { width, height, data: new Float32Array(0) };
  const gather = () => {
    const whole = createImage(width, height);
    return { add: (band: Band) => copyRows(band, whole), value: () => whole };
  };
  STREAMS.set(image, new Stream<Band, RgbImage>(produce, gather));
  return image;
}

/** Where a tile set's tiles are, before their pixels may have come. */
export function tileRects(set: TileSet): TileRect[] {
  return RECTS.get(set) ?? set.tiles.map(({ image: _image, ...rect }) => rect);
}

/** A tile set's tiles in order, as they finish where it is streamed. */
export async function* tilesOf(set: TileSet): AsyncGenerator<Tile> {
  const stream = STREAMS.get(set) as Stream<Tile, TileSet> | undefined;
  yield* stream ? stream.parts((whole) => whole.tiles) : set.tiles;
}

/** An image's bands of rows top to bottom: as they finish where it is streamed, else the whole image as one band. */
export async function* bandsOf(image: RgbImage): AsyncGenerator<Band> {
  const stream = STREAMS.get(image) as Stream<Band, RgbImage> | undefined;
  yield* stream ? stream.parts((whole) => [{ top: 0, image: whole }]) : [{ top: 0, image }];
}

/** The value whole (a streamed one once all its parts came; its failure thrown). */
export function wholeValue<V extends PortValue>(value: V): Promise<V> {
  const stream = streamOf(value);
  return stream ? (stream.value() as Promise<V>) : Promise.resolve(value);
}

/**
 * For the engine: starts a node's streamed output, part by part for a single reader that reads it so, else
 * gathered whole; `mapError` is what its readers get when its producer fails. Returns when it has all its parts.
 */
export function startStream(value: PortValue, partByPart: boolean, mapError: (error: unknown) => unknown): Promise<void> {
  const stream = streamOf(value)!;
  stream.start(partByPart ? "stream" : "whole", mapError);
  return stream.done;
}

/**
 * Watches a streamed value's parts as they are made (a preview sampling them as they pass), whichever way it is
 * delivered; `onEnd` once it has all of them (not when its producer fails). Only read a part, at once: it is
 * the reader's. A watcher's own failure is its own (`watch` must not throw). Nothing to watch: false.
 */
export function watchParts(
  value: PortValue | undefined,
  watch: { tile: (tile: Tile) => void; band: (band: Band) => void },
  onEnd: () => void,
): boolean {
  const stream = streamOf(value);
  if (!stream) return false;
  if (RECTS.has(value as TileSet)) (stream as Stream<Tile, TileSet>).watchers.push(watch.tile);
  else (stream as Stream<Band, RgbImage>).watchers.push(watch.band);
  stream.done.then(onEnd, () => {});
  return true;
}

/** The bytes a streamed value holds once gathered whole (float32 RGB), known before its parts come. */
export function streamedBytes(value: PortValue): number {
  if (typeof value === "number") return 8;
  if ("grid" in value) {
    const { scale } = value.grid;
    return tileRects(value).reduce((sum, rect) => sum + Math.round(rect.width * scale) * Math.round(rect.height * scale) * 12, 0);
  }
  return value.width * value.height * 12;
}

/** How long a reader of this value waited for its parts (0 for an unstreamed value). */
export function waitedMs(value: PortValue | undefined): number {
  return streamOf(value)?.waitedMs ?? 0;
}

const STREAM_READERS = new WeakMap<object, Set<string>>();

/** Marks a node type as reading these input ports part by part (tilesOf / bandsOf) when they come streamed. */
export function readsStreams<D extends object>(definition: D, ...ports: string[]): D {
  STREAM_READERS.set(definition, new Set(ports));
  return definition;
}

export function readsStream(definition: AnyNodeDefinition, port: string): boolean {
  return STREAM_READERS.get(definition)?.has(port) ?? false;
}

/** A host that encodes an output as its rows come (bandsOf), holding 8-bit pixels at most. */
export interface RowSavingHost {
  saveOutputRows(name: string, image: RgbImage, options: SaveOptions): Promise<void>;
}

export function savesRows(host: object): host is RowSavingHost {
  return typeof (host as Partial<RowSavingHost>).saveOutputRows === "function";
}
