// The executor's node cache: node outputs kept across runs (nodes/graph/cache.ts, by signature), so running
// the same graph on the same input again only executes the nodes whose params or upstream changed. A
// load-image node's signature includes the sha256 of its input file (PipelineHost.inputKey); a generate node's
// only names its model, so the whole cache is dropped when the models change (a model deleted and uploaded
// again under the same id must not serve the old model's tiles).
import { MemoryNodeCache, type NodeCache } from "../../nodes/graph/cache";
import { modelsDir, readModelManifest } from "../models/manifest";

const DEFAULT_CACHE_MB = 1024;

/** Bytes of node outputs the executor keeps: $TUDSR_NODE_CACHE_MB (default 1024; 0 turns the cache off). */
export function nodeCacheBytes(): number {
  const text = process.env.TUDSR_NODE_CACHE_MB?.trim();
  if (!text) return DEFAULT_CACHE_MB * 2 ** 20;
  const mb = Number(text);
  if (!Number.isFinite(mb) || mb < 0) throw new Error(`TUDSR_NODE_CACHE_MB must be a number of megabytes >= 0 (0 turns the cache off), got "${text}"`);
  return Math.floor(mb * 2 ** 20);
}

/** One cache for every run of an executor, emptied when the model list or any model file changes. */
export class ExecutorNodeCache {
  private cache: MemoryNodeCache;
  private models?: string;

  constructor(
    readonly maxBytes: number,
    private readonly dir = modelsDir(),
  ) {
    this.cache = new MemoryNodeCache(maxBytes);
  }

  /** The cache a run starting now uses (runs already going keep theirs). */
  async forRun(): Promise<NodeCache> {
    const models = await this.modelsFingerprint();
    if (models !== this.models) {
      if (this.models !== undefined) this.cache = new MemoryNodeCache(this.maxBytes);
      this.models = models;
    }
    return this.cache;
  }

  get heldBytes(): number {
    return this.cache.heldBytes;
  }

  private async modelsFingerprint(): Promise<string> {
    try {
      const manifest = await readModelManifest(this.dir);
      return manifest.models.map((model) => `${model.id}\u0000${model.sha256}`).sort().join("\n");
    } catch (error) {
      // Missing or broken: generate nodes fail on their own meanwhile (nothing of theirs is cached), and a
      // change of state still empties the cache. Runs without a generate node are not failed for it.
      return `unreadable: ${(error as Error).message}`;
    }
  }
}

/** The executor's cache from the environment; undefined when turned off (TUDSR_NODE_CACHE_MB=0). */
export function executorNodeCache(): ExecutorNodeCache | undefined {
  const bytes = nodeCacheBytes();
  return bytes > 0 ? new ExecutorNodeCache(bytes) : undefined;
}
