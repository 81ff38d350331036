// Node previews without a database: thumbnails sampled from real photos, tile mosaics at their grid
// positions, one preview per node per run (a loop body's last iteration), and the executor's node cache setting.
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import sharp from "sharp";
import { FakeHost, nearestUpscale } from "../../fixtures/fake-host";
import { loadPhoto, photoPath } from "../../fixtures/photos";
import { runGraph } from "../../fixtures/run-graph";
import type { OutputValues } from "../../nodes/graph/define-node";
import type { Graph } from "../../nodes/graph/schema";
import { isStreamed } from "../../nodes/graph/stream";
import { cutTiles } from "../../nodes/image/tiling";
import { nodeRegistry } from "../../nodes/index";
import { findTemplate } from "../../nodes/templates/index";
import { modelsDir } from "../models/manifest";
import { ExecutorNodeCache, executorNodeCache, nodeCacheBytes } from "./node-cache";
import { encodePreview, type NodePreview, type PreviewPixels, RunPreviews, samplePreview } from "./previews";

async function decode(dataUrl: string) {
  const match = /^data:image\/webp;base64,([A-Za-z0-9+/=]+)$/.exec(dataUrl);
  assert.ok(match, `a WebP data URL: ${dataUrl.slice(0, 40)}...`);
  const { data, info } = await sharp(Buffer.from(match[1], "base64")).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, format: (await sharp(Buffer.from(match[1], "base64")).metadata()).format };
}

test("an image's thumbnail: longest side 160, the real size reported, close to sharp's own downscale", async () => {
  const photo = await loadPhoto("coffee.png", { left: 0, top: 0, width: 400, height: 250 });
  const pixels = samplePreview({ image: photo })!;
  assert.deepEqual([pixels.port, pixels.width, pixels.height, pixels.previewWidth, pixels.previewHeight], ["image", 400, 250, 160, 100]);
  const preview = await encodePreview(pixels);
  const decoded = await decode(preview.dataUrl);
  assert.deepEqual([decoded.format, decoded.width, decoded.height], ["webp", 160, 100]);
  assert.ok(preview.dataUrl.length < 20_000, `${preview.dataUrl.length} characters`);
  // The samples against sharp's Lanczos downscale of the same crop (a real photo, not a flat field), and the
  // WebP against the samples: the same picture, within a few levels.
  const reference = await sharp(photoPath("coffee.png")).extract({ left: 0, top: 0, width: 400, height: 250 }).resize(160, 100).raw().toBuffer();
  const meanDifference = (a: Buffer, b: Buffer) => a.reduce((sum, value, i) => sum + Math.abs(value - b[i]), 0) / a.length;
  const mean = reference.reduce((sum, value) => sum + value, 0) / reference.length;
  const spread = reference.reduce((sum, value) => sum + Math.abs(value - mean), 0) / reference.length;
  assert.ok(spread > 20, `the photo is not flat (mean deviation ${spread.toFixed(1)})`);
  const sampling = meanDifference(pixels.rgb, reference);
  const encoding = meanDifference(decoded.data, pixels.rgb);
  assert.ok(sampling < 4, `samples vs Lanczos: mean difference ${sampling.toFixed(2)} of 255`);
  assert.ok(encoding < 6, `WebP vs samples: mean difference ${encoding.toFixed(2)} of 255`);
  // A small output is not blown up; numbers have no preview.
  const small = samplePreview({ image: await loadPhoto("rocket.jpg", { left: 0, top: 0, width: 40, height: 24 }) })!;
  assert.deepEqual([small.previewWidth, small.previewHeight], [40, 24]);
  assert.equal(samplePreview({ psnr: 31.5, ssim: 0.9 }), undefined);
});

test("a tiles thumbnail places every tile at its grid position, at the tiles' scale", async () => {
  const photo = await loadPhoto("chelsea.png", { left: 30, top: 20, width: 300, height: 200 });
  const tiles = cutTiles(photo, 64, 48, 12);
  assert.ok(tiles.tiles.length > 12, `${tiles.tiles.length} tiles`);
  // Tiles cut from an image are copies of it: their mosaic is exactly the image's thumbnail.
  const whole = samplePreview({ image: photo })!;
  const mosaic = samplePreview({ tiles })!;
  assert.deepEqual([mosaic.port, mosaic.width, mosaic.height], ["tiles", 300, 200]);
  assert.ok(mosaic.rgb.equals(whole.rgb), "tile mosaic = image thumbnail");
  // Upscaled x2 tile by tile (nearest): the mosaic is the x2 image's thumbnail, and reports the x2 size.
  const scaled = {
    grid: { ...tiles.grid, scale: 2 },
    tiles: tiles.tiles.map((tile) => ({ ...tile, image: nearestUpscale(tile.image, 2) })),
  };
  const scaledMosaic = samplePreview({ tiles: scaled })!;
  assert.deepEqual([scaledMosaic.width, scaledMosaic.height, scaledMosaic.previewWidth, scaledMosaic.previewHeight], [600, 400, 160, 107]);
  assert.ok(scaledMosaic.rgb.equals(samplePreview({ image: nearestUpscale(photo, 2) })!.rgb), "x2 tile mosaic = x2 image thumbnail");
  // A missing tile leaves its place black rather than failing.
  const holed = samplePreview({ tiles: { ...tiles, tiles: tiles.tiles.filter((tile) => !(tile.col === 0 && tile.row === 0)) } })!;
  assert.deepEqual([...holed.rgb.subarray(0, 3)], [0, 0, 0]);
});

test("one preview per node per run: top-level nodes as they finish, a loop body's nodes with its last iteration", async () => {
  const photo = await loadPhoto("astronaut.png", { left: 100, top: 100, width: 40, height: 30 });
  const graph: Graph = structuredClone(findTemplate("x16-loop")!.graph);
  for (const node of graph.nodes) if (node.type === "generate") node.params.model = "nearest-x2";
  const published: (NodePreview & { nodeId: string })[] = [];
  const previews = new RunPreviews(graph, (nodeId, preview) => published.push({ nodeId, ...preview }));
  await runGraph(graph, { registry: nodeRegistry, host: new FakeHost({ inputs: { input: photo } }), onOutputs: previews.onOutputs });
  await previews.flush();
  const sizes = Object.fromEntries(published.map((preview) => [preview.nodeId, [preview.port, preview.width, preview.height]]));
  assert.equal(published.length, 5, published.map((preview) => preview.nodeId).join(", "));
  assert.deepEqual(sizes, {
    load: ["image", 40, 30],
    loop: ["image", 160, 120],
    // The body ran twice (x2 each time): its nodes show the second pass.
    chunk: ["tiles", 80, 60],
    generate: ["tiles", 160, 120],
    stitch: ["image", 160, 120],
  });
  for (const preview of published) {
    const decoded = await decode(preview.dataUrl);
    assert.deepEqual([decoded.width, decoded.height], [Math.min(160, preview.width), Math.round((Math.min(160, preview.width) * preview.height) / preview.width)]);
  }
});

const scratch = await mkdtemp(path.join(tmpdir(), "tudsr-node-cache-"));
after(() => rm(scratch, { recursive: true, force: true }));

test("a streamed run's previews are sampled from the parts as they pass, the same pictures as whole values give", async () => {
  const photo = await loadPhoto("coffee.png", { left: 0, top: 0, width: 300, height: 200 });
  const graph: Graph = structuredClone(findTemplate("x4-chunked")!.graph);
  for (const node of graph.nodes) if (node.type === "generate") node.params.model = "nearest-x2";
  for (const node of graph.nodes) if (node.type === "chunk") Object.assign(node.params, { tileSize: 64, overlap: 8 });
  const previewsOf = async (wholeValues: boolean) => {
    const published = new Map<string, PreviewPixels>();
    const previews = new RunPreviews(graph, () => {});
    // The pixels before their WebP encode: compared exactly, not through a lossy codec.
    const sampled = (nodeId: string, pixels: PreviewPixels) => published.set(nodeId, pixels);
    const listener = (nodeId: string, outputs: OutputValues, iteration?: number) => {
      previews.onOutputs(nodeId, outputs, iteration);
      if (!isStreamed(Object.values(outputs)[0])) {
        const pixels = samplePreview(outputs);
        if (pixels) sampled(nodeId, pixels);
      }
    };
    const spy = previews as unknown as { settle: (nodeId: string, pixels: PreviewPixels | undefined, iteration?: number) => void };
    const settle = spy.settle.bind(previews);
    spy.settle = (nodeId, pixels, iteration) => {
      if (pixels) sampled(nodeId, pixels);
      settle(nodeId, pixels, iteration);
    };
    await runGraph(graph, { registry: nodeRegistry, host: new FakeHost({ inputs: { input: photo } }), onOutputs: listener, wholeValues });
    await previews.flush();
    return published;
  };
  const streamed = await previewsOf(false);
  const whole = await previewsOf(true);
  assert.deepEqual([...streamed.keys()].sort(), ["chunk", "generate", "load", "stitch"]);
  for (const [nodeId, pixels] of whole) {
    const other = streamed.get(nodeId)!;
    assert.deepEqual([other.port, other.width, other.height, other.previewWidth, other.previewHeight], [pixels.port, pixels.width, pixels.height, pixels.previewWidth, pixels.previewHeight], nodeId);
    // The same samples, summed in another order: at most one level apart.
    const worst = other.rgb.reduce((most, value, i) => Math.max(most, Math.abs(value - pixels.rgb[i])), 0);
    assert.ok(worst <= 1, `${nodeId}: ${worst}`);
  }
});

test("the executor's node cache: sized by TUDSR_NODE_CACHE_MB, emptied when the models change", async () => {
  const saved = process.env.TUDSR_NODE_CACHE_MB;
  try {
    delete process.env.TUDSR_NODE_CACHE_MB;
    assert.equal(nodeCacheBytes(), 1024 * 2 ** 20);
    process.env.TUDSR_NODE_CACHE_MB = "64";
    assert.equal(executorNodeCache()!.maxBytes, 64 * 2 ** 20);
    process.env.TUDSR_NODE_CACHE_MB = "0";
    assert.equal(executorNodeCache(), undefined);
    process.env.TUDSR_NODE_CACHE_MB = "lots";
    assert.throws(() => nodeCacheBytes(), /TUDSR_NODE_CACHE_MB must be a number of megabytes >= 0 \(0 turns the cache off\), got "lots"/);
  } finally {
    if (saved === undefined) delete process.env.TUDSR_NODE_CACHE_MB;
    else process.env.TUDSR_NODE_CACHE_MB = saved;
  }

  await cp(path.join(modelsDir(), "manifest.json"), path.join(scratch, "manifest.json"));
  const cache = new ExecutorNodeCache(2 ** 20, scratch);
  const first = await cache.forRun();
  first.set("a signature", { value: 1 });
  assert.equal(await cache.forRun(), first, "the same cache while the models stay as they are");
  assert.deepEqual((await cache.forRun()).get("a signature"), { value: 1 });
  // A model replaced under the same id (deleted and uploaded again): its old tiles must not be served.
  const manifest = JSON.parse(await readFile(path.join(scratch, "manifest.json"), "utf8")) as { models: { sha256: string }[] };
  manifest.models[0].sha256 = "0".repeat(64);
  await writeFile(path.join(scratch, "manifest.json"), JSON.stringify(manifest));
  const second = await cache.forRun();
  assert.notEqual(second, first);
  assert.equal(second.get("a signature"), undefined);
  assert.equal(await cache.forRun(), second);
});
