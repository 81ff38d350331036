// Tile fan-out on the distributed queue: a generate node with `distribute: auto` hands its tile batches to the
// workers as child jobs of one BullMQ flow (FlowProducer): each batch's input tiles go to the artifact store as
// raw float32 (lossless: never PNG), a worker upscales the batch exactly as the node would, writes the result
// beside it, and the flow's parent (the fan-in) completes once every batch has; the run's own worker reads the
// tiles back and its engine stitches them. Job ids are deterministic (run, claim, node, pass, batch): a child
// retried after its worker was lost runs again under the same id and writes the same key, never a second copy;
// the stitch reads exactly one result per batch. The bytes equal a single-machine run's.
import { FlowProducer, QueueEvents } from "bullmq";
import { type InferenceContext, upscaleTileBatch } from "../../../nodes/generate";
import { CanceledError } from "../../../nodes/graph/define-node";
import type { TileFanOutRequest } from "../../../nodes/graph/host";
import type { InferenceOptions } from "../../../nodes/graph/models";
import { createImage, type RgbImage } from "../../../nodes/image/types";
import type { InferenceService } from "../../inference/inference-service";
import { artifactStore } from "../../storage/store";
import { redisOptions, redisUrl, TILE_QUEUE } from "./config";

/** What a tile job carries: keys and settings, never pixels. */
export interface TileJobData {
  runId: string;
  input: string;
  output: string;
  modelId: string;
  options: Omit<InferenceOptions, "signal">;
}

/** float32 tiles, losslessly: u32 count, then per image u32 width, u32 height and its CHW floats (little-endian). */
export function encodeTiles(images: RgbImage[]): Buffer {
  const size = 4 + images.reduce((sum, image) => sum + 8 + image.data.byteLength, 0);
  const buffer = Buffer.alloc(size);
  let offset = buffer.writeUInt32LE(images.length, 0);
  for (const image of images) {
    offset = buffer.writeUInt32LE(image.width, offset);
    offset = buffer.writeUInt32LE(image.height, offset);
    const floats = new Float32Array(buffer.buffer, buffer.byteOffset + offset, image.data.length);
    floats.set(image.data);
    offset += image.data.byteLength;
  }
  return buffer;
}

export function decodeTiles(buffer: Buffer): RgbImage[] {
  const count = buffer.readUInt32LE(0);
  let offset = 4;
  const images: RgbImage[] = [];
  for (let i = 0; i < count; i++) {
    const width = buffer.readUInt32LE(offset);
    const height = buffer.readUInt32LE(offset + 4);
    offset += 8;
    const image = createImage(width, height);
    // Copied out (the buffer's offset may not be 4-byte aligned).
    new Uint8Array(image.data.buffer).set(buffer.subarray(offset, offset + image.data.byteLength));
    offset += image.data.byteLength;
    images.push(image);
  }
  if (offset !== buffer.length) throw new Error(`tile data has ${buffer.length - offset} bytes left over`);
  return images;
}

/** Runs one tile job where the engine runs (the worker's executor child). */
export async function runTileJob(data: TileJobData, inference: InferenceService): Promise<void> {
  const store = artifactStore();
  const images = decodeTiles(await store.get(data.input));
  const model = await inference.describeModel(data.modelId);
  // A tile job has inference and a log, nothing else of a run.
  const ctx: InferenceContext = { host: inference, log: (message) => console.error(`tile job ${data.output}: ${message}`) };
  const upscaled = await upscaleTileBatch(images, model, data.options, ctx);
  await store.put(data.output, encodeTiles(upscaled));
}

interface FanOutClients {
  flows: FlowProducer;
  events: QueueEvents;
  ready: Promise<unknown>;
}

const shared = globalThis as typeof globalThis & { __tudsrTileClients?: FanOutClients };

function clients(): FanOutClients {
  if (!shared.__tudsrTileClients) {
    const url = redisUrl();
    if (!url) throw new Error("TUDSR_REDIS_URL is not set");
    const flows = new FlowProducer({ connection: redisOptions(url) });
    const events = new QueueEvents(TILE_QUEUE, { connection: redisOptions(url) });
    flows.on("error", (error: Error) => console.error(`tile fan-out (redis): ${error.message}`));
    events.on("error", (error: Error) => console.error(`tile fan-out events (redis): ${error.message}`));
    shared.__tudsrTileClients = { flows, events, ready: events.waitUntilReady() };
  }
  return shared.__tudsrTileClients;
}

export async function closeTileClients(): Promise<void> {
  const current = shared.__tudsrTileClients;
  shared.__tudsrTileClients = undefined;
  await Promise.allSettled([current?.flows.close(), current?.events.close()]);
}

/**
 * The fan-out of one run's generate nodes (one per execution): `fanOutTiles` for its RunHost. Batches fewer
 * than two stay local (nothing to spread). `onBatch` hears which worker ran each batch (the run page shows it).
 */
export function tileFanOut(runId: string, owner: string, onBatch: (nodeId: string, worker: string) => void = () => {}) {
  const passes = new Map<string, number>();
  return async (request: TileFanOutRequest, signal: AbortSignal, progress: (done: number, total: number) => void): Promise<RgbImage[] | undefined> => {
    const batches: RgbImage[][] = [];
    for (let start = 0; start < request.images.length; start += request.batchSize) batches.push(request.images.slice(start, start + request.batchSize));
    if (batches.length < 2) return undefined;
    // A node inside a loop runs once per pass: each pass has its own ids and keys.
    const pass = (passes.get(request.nodeId) ?? 0) + 1;
    passes.set(request.nodeId, pass);
    const base = `${runId}-${owner}-${request.nodeId}-${pass}`;
    const prefix = `tiles/${runId}/${owner}/${request.nodeId}-${pass}`;
    const store = artifactStore();
    const { flows, events, ready } = clients();
    await ready;
    await Promise.all(batches.map((images, i) => store.put(`${prefix}/in-${i}.f32`, encodeTiles(images))));
    const total = request.images.length;
    let done = 0;
    progress(0, total);
    const children = batches.map((_, i) => ({
      name: "tiles",
      queueName: TILE_QUEUE,
      data: { runId, input: `${prefix}/in-${i}.f32`, output: `${prefix}/out-${i}.f32`, modelId: request.modelId, options: request.options } satisfies TileJobData,
      opts: { jobId: `${base}-${i}`, failParentOnFailure: true, removeOnComplete: true, removeOnFail: { age: 24 * 3600 } },
    }));
    const sizes = new Map(children.map((child, i) => [child.opts.jobId, batches[i].length]));
    const parentId = `${base}-fanin`;
    try {
      await new Promise<void>((resolve, reject) => {
        const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
          const size = sizes.get(jobId);
          if (size !== undefined) {
            const worker = (returnvalue as { worker?: string } | null)?.worker;
            if (worker) onBatch(request.nodeId, worker);
            sizes.delete(jobId);
            done += size;
            progress(done, total);
          }
          if (jobId === parentId) finish();
        };
        const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
          if (jobId === parentId || sizes.has(jobId)) finish(new Error(`a tile batch of ${request.nodeId} failed: ${failedReason}`));
        };
        const onAbort = () => finish(new CanceledError());
        const finish = (error?: Error) => {
          events.off("completed", onCompleted);
          events.off("failed", onFailed);
          signal.removeEventListener("abort", onAbort);
          if (error) reject(error);
          else resolve();
        };
        events.on("completed", onCompleted);
        events.on("failed", onFailed);
        signal.addEventListener("abort", onAbort);
        flows
          .add({ name: "fan-in", queueName: TILE_QUEUE, data: { runId, prefix }, opts: { jobId: parentId, removeOnComplete: true, removeOnFail: { age: 24 * 3600 } }, children })
          .catch((error: Error) => finish(error));
      });
      const results: RgbImage[] = [];
      for (let i = 0; i < batches.length; i++) {
        const upscaled = decodeTiles(await store.get(`${prefix}/out-${i}.f32`));
        if (upscaled.length !== batches[i].length) throw new Error(`tile batch ${i} of ${request.nodeId} came back with ${upscaled.length} tiles`);
        results.push(...upscaled);
      }
      return results;
    } finally {
      if (signal.aborted) await flows.getFlow({ id: parentId, queueName: TILE_QUEUE }).then((tree) => tree?.job?.remove()).catch(() => undefined);
      await store.deletePrefix(`${prefix}/`).catch(() => undefined);
    }
  };
}
