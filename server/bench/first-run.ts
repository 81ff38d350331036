// `npm run bench -- --first-run`: the first `tudsr run` of a model after set-up against a later one (a fresh
// models folder: the model files and set-up's threading, no measurements.json nor timings.json), and the tile
// sizes auto picks by predicted time against fixed 128 px tiles (x8-twice in fp32 on a 256x192 photo, after the
// first run recorded its timings). Each run is its own `tudsr run` process, timed whole as a user sees it.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { photoPath } from "../../fixtures/photos";
import { modelsDir } from "../models/manifest";
import { REPO_ROOT } from "../platform/paths";

export interface FirstRunResult {
  x4Chunked: { firstS: number; secondS: number; ratio: number };
  x8Twice: { autoS: number; autoTiles: string[]; tiles128S: number };
}

/** One `tudsr run`: its wall seconds and the auto tiles it logged. */
function tudsrRun(env: NodeJS.ProcessEnv, args: string[]): { seconds: number; tiles: string[] } {
  const started = performance.now();
  const child = spawnSync(process.execPath, [path.join(REPO_ROOT, "bin", "tudsr.mjs"), "run", ...args], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
  if (child.status !== 0) throw new Error(`tudsr run ${args.join(" ")} failed: ${child.stderr}`);
  return { seconds, tiles: `${child.stdout}\n${child.stderr}`.split("\n").filter((line) => line.includes("auto tiles:")).map((line) => line.trim()) };
}

export async function firstRunBench(say: (line: string) => void): Promise<FirstRunResult> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "tudsr-first-run-"));
  try {
    // A models folder as set-up leaves it: the files (linked) and their manifest, threading measured, nothing else.
    const models = path.join(scratch, "models");
    mkdirSync(models);
    for (const name of readdirSync(modelsDir())) {
      if (name.endsWith(".onnx") || name === ".packages") symlinkSync(path.join(modelsDir(), name), path.join(models, name));
    }
    for (const name of ["manifest.json", "session-settings.json"]) if (existsSync(path.join(modelsDir(), name))) copyFileSync(path.join(modelsDir(), name), path.join(models, name));
    const env = { ...process.env, TUDSR_MODELS_DIR: models, TUDSR_DATA_DIR: path.join(scratch, "data") };
    const square = path.join(scratch, "photo-256.png");
    await sharp(photoPath("astronaut.png")).resize(256, 256).png().toFile(square);
    const output = path.join(scratch, "out.png");
    const first = tudsrRun(env, ["x4-chunked", "--input", square, "--output", output]);
    const second = tudsrRun(env, ["x4-chunked", "--input", square, "--output", output]);
    const x4Chunked = { firstS: first.seconds, secondS: second.seconds, ratio: Number((first.seconds / second.seconds).toFixed(2)) };
    say(`first run x4-chunked 256 px after set-up: ${x4Chunked.firstS} s, then ${x4Chunked.secondS} s (${x4Chunked.ratio}x)`);

    const wide = path.join(scratch, "photo-256x192.png");
    await sharp(photoPath("coffee.png")).resize(256, 192).png().toFile(wide);
    const fp32 = ["--set", "generate1.precision=fp32", "--set", "generate2.precision=fp32"];
    const x8 = ["x8-twice", "--input", wide, "--output", output, ...fp32];
    tudsrRun(env, x8); // records this machine's timings of the tiles auto picks
    const auto = tudsrRun(env, x8);
    const fixed = tudsrRun(env, [...x8, "--set", "chunk1.tileSize=128", "--set", "chunk2.tileSize=128"]);
    const x8Twice = { autoS: auto.seconds, autoTiles: auto.tiles, tiles128S: fixed.seconds };
    say(`x8-twice 256x192 fp32: auto tiles ${x8Twice.autoS} s (${auto.tiles.join("; ")}), 128 px tiles ${x8Twice.tiles128S} s`);
    return { x4Chunked, x8Twice };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
