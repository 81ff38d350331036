// int8 variants made after the studio is up, one model at a time, in a child process of low priority (a run in
// the studio takes the CPU first; the speed gate times both precisions in turns, so the load slows both alike).
// The child only computes; this process records each result in the manifest (the model library's lock) and
// keeps int8-work.json in the models folder: what is queued and what is being made, for the Models page.
import { type ChildProcess, spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../platform/paths";
import { int8Backlog } from "./int8-work";
import { recordInt8Status } from "./library";
import { type Int8Status, modelsDir, readModelManifest } from "./manifest";
import { type Int8WorkState, readInt8WorkState, writeInt8WorkState } from "./int8-work-state";

/** What the child reports. */
export type Int8WorkMessage = { type: "started"; id: string } | { type: "finished"; id: string; status: Int8Status };

const CHILD = path.join(REPO_ROOT, "server", "models", "int8-background-child.ts");
/** Below normal priority (0), above idle (19). */
const BACKGROUND_PRIORITY = 10;

const running = globalThis as { tudsrInt8Work?: ChildProcess };


/**
 * Starts making the int8 variants the built-in models still want ($TUDSR_INT8), unless none is wanted or another
 * live process already does it for this models folder. Returns the models queued (none: nothing to do).
 */
export async function startInt8Background(options: { dir?: string; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): Promise<string[]> {
  const dir = options.dir ?? modelsDir();
  const log = options.log ?? ((line: string) => console.log(line));
  if (running.tudsrInt8Work || (await readInt8WorkState(dir))) return [];
  const manifest = await readModelManifest(dir);
  const backlog = await int8Backlog(manifest, dir, options.env);
  if (!backlog.length) return [];
  const state: Int8WorkState = { pid: process.pid, queued: backlog.map((entry) => entry.id) };
  const save = () => writeInt8WorkState(state, dir);
  await save();
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, ...state.queued], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  running.tudsrInt8Work = child;
  try {
    if (child.pid) os.setPriority(child.pid, BACKGROUND_PRIORITY);
  } catch {
    // Not allowed here (a container without the capability): it runs at normal priority.
  }
  // One message at a time, in order: a result is recorded before the next state is written.
  let chain = Promise.resolve();
  child.on("message", (message: Int8WorkMessage) => {
    chain = chain.then(async () => {
      if (message.type === "started") {
        state.queued = state.queued.filter((id) => id !== message.id);
        state.current = { id: message.id, since: new Date().toISOString() };
      } else {
        state.current = undefined;
        const entry = (await readModelManifest(dir)).models.find((model) => model.id === message.id);
        if (entry) await recordInt8Status(entry, message.status, dir).catch((error: Error) => log(`int8 ${message.id}: ${error.message}`));
      }
      await save();
    });
  });
  child.once("exit", (code) => {
    running.tudsrInt8Work = undefined;
    chain = chain.then(async () => {
      if (code !== 0) log(`int8 background work stopped (exit ${code}); the studio tries again when it next starts`);
      state.queued = [];
      state.current = undefined;
      await save();
    });
  });
  log(`TUDSR Studio: making int8 variants in the background (${state.queued.join(", ")}); the Models page shows how far`);
  return state.queued;
}
