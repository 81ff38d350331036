// What the background int8 work is doing, kept in int8-work.json in the models folder by the process that runs it
// (int8-background.ts) and read by the model library for the Models page.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../platform/files";
import { modelsDir } from "./manifest";

export interface Int8WorkState {
  /** The process that does it: a state whose process is gone is stale. */
  pid: number;
  queued: string[];
  current?: { id: string; since: string };
}

const STATE_FILE = "int8-work.json";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The background work on the models in `dir`, while a live process does some. */
export async function readInt8WorkState(dir = modelsDir()): Promise<Int8WorkState | undefined> {
  try {
    const state = JSON.parse(await readFile(path.join(dir, STATE_FILE), "utf8")) as Int8WorkState;
    return alive(state.pid) && (state.queued.length || state.current) ? state : undefined;
  } catch {
    return undefined;
  }
}

export function writeInt8WorkState(state: Int8WorkState, dir: string): Promise<void> {
  return writeFileAtomic(path.join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}
