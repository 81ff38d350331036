// The CPU features that choose ONNX Runtime's kernels (MLAS dispatches on them at start-up): the same model on
// a CPU with other features may give other floats (AVX-512 VNNI or AMX int8 kernels against AVX2 ones, FMA or
// not), so a run's stamp records them where the run executed.
import { readFileSync } from "node:fs";
import os from "node:os";

/** The flags of /proc/cpuinfo that select kernels (x86, then Arm); the others do not change a result. */
const KERNEL_FEATURES = [
  "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni",
  "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16",
  "amx_tile", "amx_int8", "amx_bf16",
  "asimd", "asimddp", "asimdhp", "sve", "sve2", "i8mm", "bf16",
];

export interface CpuInfo {
  arch: string;
  /** The CPU's name, for people (two models with the same features run the same kernels). */
  model: string;
  /** The kernel-selecting features this CPU has, sorted; empty where /proc/cpuinfo cannot be read. */
  features: string[];
}

/** Reads /proc/cpuinfo (x86 `flags`, Arm `Features`); without it (macOS, Windows) the features stay unknown. */
export function cpuInfo(cpuinfo = readCpuinfo()): CpuInfo {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, "mi").exec(cpuinfo)?.[1]?.trim();
  const flags = new Set((field("flags") ?? field("Features") ?? "").split(/\s+/));
  return {
    arch: os.arch(),
    model: field("model name") ?? os.cpus()[0]?.model ?? "unknown",
    features: KERNEL_FEATURES.filter((feature) => flags.has(feature)).sort(),
  };
}

function readCpuinfo(): string {
  try {
    return readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return "";
  }
}

/**
 * The kind of CPU a measured int8 speed holds for: the architecture and the int8 kernels MLAS picks on it (AMX,
 * VNNI dot products, AVX-512 or AVX2 without them, Arm dot products). Two CPUs of one kind gain alike from int8.
 */
export function cpuKind(info: CpuInfo = cpuInfo()): string {
  const has = (feature: string) => info.features.includes(feature);
  const kernels = has("amx_int8")
    ? "amx"
    : has("avx512_vnni") || has("avx_vnni")
      ? "vnni"
      : has("avx512bw")
        ? "avx512"
        : has("avx2")
          ? "avx2"
          : has("asimddp")
            ? "dotprod"
            : "base";
  return `${info.arch}-${kernels}`;
}
