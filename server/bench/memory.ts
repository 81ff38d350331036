// Memory case (`npm run bench -- --memory`): peak RSS of
// whole CLI runs whose output is large, x4-chunked 2048 -> 8192 and x8-twice 512 -> 4096, each in a fresh
// process under /usr/bin/time -v, with the output PNG's sha256 (the streamed stitch and encode keep it
// byte-identical to a whole-image stitch), at two settings: auto tiles under TUDSR_MEMORY_BUDGET_MB=1024, and
// fixed 256 px tiles (what the tiles' inference takes apart, the rest is the streamed values, the 8-bit
// output and its encode). Target: under 1.5 GB each.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { REPO_ROOT } from "../platform/paths";

export interface MemoryCase {
  template: string;
  setting: string;
  input: string;
  output: string;
  peakRssMb: number;
  wallMs: number;
  sha256: string;
}

const CASES = [
  { template: "x4-chunked", side: 2048, chunks: ["chunk"] },
  { template: "x8-twice", side: 512, chunks: ["chunk1", "chunk2"] },
];

const SETTINGS = [
  { setting: "budget 1024 MB", env: { TUDSR_MEMORY_BUDGET_MB: "1024" }, sets: () => [] },
  { setting: "256 px tiles", env: {}, sets: (chunks: string[]) => chunks.flatMap((chunk) => ["--set", `${chunk}.tileSize=256`]) },
];

export async function memoryBench(say: (line: string) => void): Promise<MemoryCase[]> {
  const root = REPO_ROOT;
  const scratch = mkdtempSync(path.join(os.tmpdir(), "tudsr-memory-"));
  try {
    const results: MemoryCase[] = [];
    for (const [{ template, side, chunks }, { setting, env, sets }] of CASES.flatMap((c) => SETTINGS.map((s) => [c, s] as const))) {
      const input = path.join(scratch, `in${side}.png`);
      await sharp(path.join(root, "fixtures/photos/astronaut.png")).resize(side, side).png().toFile(input);
      const output = path.join(scratch, `${template}.png`);
      const t0 = performance.now();
      const args = ["-v", process.execPath, path.join(root, "bin/tudsr.mjs"), "run", template, "--input", input, "--output", output, ...sets(chunks)];
      const report = execFileSync("/usr/bin/time", args, {
        cwd: root,
        env: { ...process.env, ...env },
        encoding: "utf8",
        stdio: ["ignore", "ignore", "pipe"],
        maxBuffer: 64 * 2 ** 20,
      });
      const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(report)?.[1] ?? NaN);
      const bytes = readFileSync(output);
      const { width, height } = await sharp(bytes).metadata();
      const result = {
        template,
        setting,
        input: `${side}x${side}`,
        output: `${width}x${height}`,
        peakRssMb: Math.round(kb / 1024),
        wallMs: Math.round(performance.now() - t0),
        sha256: createHash("sha256").update(bytes).digest("hex"),
      };
      say(`${template.padEnd(12)} ${setting.padEnd(15)} ${result.input} -> ${result.output}  peak RSS ${String(result.peakRssMb).padStart(5)} MB  ${(result.wallMs / 1000).toFixed(1)} s  sha256 ${result.sha256.slice(0, 16)}`);
      results.push(result);
    }
    return results;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
