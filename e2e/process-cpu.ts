// CPU seconds this machine's processes spent, by role (Chromium, the studio's web server, its run executor, the
// rest), read from /proc: to find where the CPU goes while a run is watched. Linux only.
import { readdir, readFile } from "node:fs/promises";

export const ROLES = ["chromium gpu", "chromium renderer", "chromium other", "web server", "executor", "other"] as const;
export type Role = (typeof ROLES)[number];

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const TICKS = 100;

type Sample = Map<number, { role: Role; seconds: number }>;

function roleOf(commandLine: string): Role {
  if (/chrom/i.test(commandLine)) {
    // Chromium's processes name their kind: the GPU process composites and rasterizes (in software here).
    if (commandLine.includes("--type=gpu-process")) return "chromium gpu";
    if (commandLine.includes("--type=renderer")) return "chromium renderer";
    return "chromium other";
  }
  if (commandLine.includes("worker-main.ts")) return "executor";
  if (/next-server|next[/\\]dist[/\\]bin[/\\]next/.test(commandLine)) return "web server";
  return "other";
}

export async function sampleCpu(): Promise<Sample> {
  const sample: Sample = new Map();
  for (const name of await readdir("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const [stat, commandLine] = await Promise.all([readFile(`/proc/${pid}/stat`, "utf8"), readFile(`/proc/${pid}/cmdline`, "utf8")]);
      // Fields after the command name in parentheses (which may hold spaces): utime and stime are 14th and 15th.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      sample.set(pid, { role: roleOf(commandLine.replaceAll("\0", " ")), seconds: (Number(fields[11]) + Number(fields[12])) / TICKS });
    } catch {
      // The process ended while it was read.
    }
  }
  return sample;
}

/** CPU seconds per role between two samples (a process started meanwhile counts whole). */
export function cpuBetween(before: Sample, after: Sample): Record<Role, number> {
  const totals = Object.fromEntries(ROLES.map((role) => [role, 0])) as Record<Role, number>;
  for (const [pid, { role, seconds }] of after) totals[role] += seconds - (before.get(pid)?.seconds ?? 0);
  return totals;
}
