import type { OutputValues } from "./define-node";
import { type PortValue, valueBytes } from "./values";

/** Node outputs keyed by signature (type + params + input signatures), as ComfyUI's cache does. */
export interface NodeCache {
  get(signature: string): OutputValues | undefined;
  set(signature: string, outputs: OutputValues): void;
}

/** Least-recently-used node outputs, bounded by the bytes they hold. */
export class MemoryNodeCache implements NodeCache {
  private readonly entries = new Map<string, { outputs: OutputValues; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes = 1024 * 1024 * 1024) {}

  get(signature: string): OutputValues | undefined {
    const entry = this.entries.get(signature);
    if (!entry) return undefined;
    this.entries.delete(signature);
    this.entries.set(signature, entry); // most recently used goes last
    return entry.outputs;
  }

  set(signature: string, outputs: OutputValues): void {
    const bytes = Object.values(outputs).reduce((sum: number, value: PortValue) => sum + valueBytes(value), 0);
    if (bytes > this.maxBytes) return;
    const old = this.entries.get(signature);
    if (old) this.bytes -= old.bytes;
    this.entries.delete(signature);
    this.entries.set(signature, { outputs, bytes });
    this.bytes += bytes;
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= entry.bytes;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get heldBytes(): number {
    return this.bytes;
  }
}
