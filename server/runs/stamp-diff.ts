// What differs between a recorded stamp and the stamp of now, one line per difference, naming the node or model,
// the value now and the value then (e.g. `model esrgan-thick-x4 (node generate): sha256 3f2a… was 9c41…`).
import type { ModelStamp, RunStamp, TilesStamp } from "../db/run-stamp";

const short = (hash: string | null | undefined) => (hash ? `${hash.slice(0, 12)}…` : "none");

/**
 * `phase: "before"` compares what is known before the engine runs (graph, inputs, seeds, model files and
 * precisions, runtime); "after" adds what only the run tells: chunk tiles and the providers really used.
 */
export function stampDifferences(recorded: RunStamp, now: RunStamp, phase: "before" | "after"): string[] {
  const lines: string[] = [];
  if (recorded.graph.sha256 !== now.graph.sha256) lines.push(`graph: sha256 ${short(now.graph.sha256)} was ${short(recorded.graph.sha256)}`);
  for (const name of union(Object.keys(recorded.inputs), Object.keys(now.inputs))) {
    if (recorded.inputs[name] !== now.inputs[name]) lines.push(`input "${name}": sha256 ${short(now.inputs[name])} was ${short(recorded.inputs[name])}`);
  }
  for (const nodeId of union(Object.keys(recorded.seeds), Object.keys(now.seeds))) {
    if (recorded.seeds[nodeId] !== now.seeds[nodeId]) lines.push(`node ${nodeId}: seed ${now.seeds[nodeId] ?? "none"} was ${recorded.seeds[nodeId] ?? "none"}`);
  }
  lines.push(...modelDifferences(recorded.models, now.models, phase));
  lines.push(...runtimeDifferences(recorded.runtime, now.runtime));
  if (phase === "after") lines.push(...tileDifferences(recorded.tiles, now.tiles));
  return lines;
}

function modelDifferences(recorded: ModelStamp[], now: ModelStamp[], phase: "before" | "after"): string[] {
  const lines: string[] = [];
  const then = new Map(recorded.map((entry) => [entry.nodeId, entry]));
  const current = new Map(now.map((entry) => [entry.nodeId, entry]));
  for (const nodeId of union([...then.keys()], [...current.keys()])) {
    const a = then.get(nodeId);
    const b = current.get(nodeId);
    if (!a || !b) {
      lines.push(`node ${nodeId}: ${b ? `runs model ${b.model}` : "runs no model"}, was ${a ? `model ${a.model}` : "no model"}`);
      continue;
    }
    const name = `model ${b.model} (node ${nodeId})`;
    if (a.model !== b.model) lines.push(`node ${nodeId}: model ${b.model} was ${a.model}`);
    if (a.precision !== b.precision) lines.push(`${name}: precision ${b.precision ?? `none (${b.problem})`} was ${a.precision ?? "none"}`);
    else if (a.sha256 !== b.sha256) lines.push(`${name}: sha256 ${short(b.sha256)} was ${short(a.sha256)}${a.file !== b.file ? ` (file ${b.file} was ${a.file})` : ""}`);
    if (a.provider !== b.provider) lines.push(`${name}: provider ${b.provider} was ${a.provider}`);
    else if (phase === "after" && a.providerUsed && b.providerUsed && a.providerUsed !== b.providerUsed) {
      lines.push(`${name}: ran on ${b.providerUsed} was ${a.providerUsed}`);
    }
  }
  return lines;
}

function runtimeDifferences(a: RunStamp["runtime"], b: RunStamp["runtime"]): string[] {
  const lines: string[] = [];
  for (const key of ["onnxruntime", "sharp", "vips", "node", "arch", "threads"] as const) {
    if (a[key] !== b[key]) lines.push(`${key === "threads" ? "intra-op threads" : key} ${b[key]} was ${a[key]}`);
  }
  const gone = a.cpuFeatures.filter((feature) => !b.cpuFeatures.includes(feature));
  const added = b.cpuFeatures.filter((feature) => !a.cpuFeatures.includes(feature));
  if (gone.length || added.length) {
    const parts = [added.length ? `now also ${added.join(", ")}` : "", gone.length ? `no longer ${gone.join(", ")}` : ""].filter(Boolean);
    lines.push(`CPU features: ${parts.join("; ")} (CPU ${b.cpu} was ${a.cpu})`);
  }
  return lines;
}

function tileDifferences(recorded: TilesStamp[], now: TilesStamp[]): string[] {
  const key = (tiles: TilesStamp) => `${tiles.nodeId}\u0000${tiles.iteration ?? ""}`;
  const text = (tiles: TilesStamp | undefined) =>
    tiles ? `${tiles.tileWidth}x${tiles.tileHeight} overlap ${tiles.overlap} (${tiles.cols}x${tiles.rows})` : "none";
  const then = new Map(recorded.map((tiles) => [key(tiles), tiles]));
  const current = new Map(now.map((tiles) => [key(tiles), tiles]));
  const lines: string[] = [];
  for (const id of union([...then.keys()], [...current.keys()])) {
    const a = then.get(id);
    const b = current.get(id);
    if (text(a) === text(b)) continue;
    const tiles = (a ?? b)!;
    lines.push(`node ${tiles.nodeId}${tiles.iteration === undefined ? "" : ` (pass ${tiles.iteration + 1})`}: tiles ${text(b)} was ${text(a)}`);
  }
  return lines;
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}
