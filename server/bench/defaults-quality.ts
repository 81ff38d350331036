// What the shipped defaults (precision auto, auto tiles) cost or gain against fp32 on photos no decision saw:
// per built-in pipeline, mean Y-PSNR against ground truth and wall time, shipped vs fp32 (auto tiles) vs fp32 in
// 128 px tiles, side by side in one run. Ground truth: the centre of retina.jpg and a corner of
// hubble_deep_field.jpg, which no calibration, gate or judgement crop reaches; each shrunk bicubic by the scale.
import sharp from "sharp";
import { photoPath } from "../../fixtures/photos";
import { psnrY } from "../../nodes/image/metrics";
import type { ModelChoice } from "../../nodes/generate";
import type { ParamOverride } from "../../nodes/graph/overrides";
import { decisionOf } from "../../nodes/graph/prepared-graph";
import type { Graph } from "../../nodes/graph/schema";
import { findTemplate } from "../../nodes/templates/index";
import { decodeImage } from "../images/codec";
import { InferenceService } from "../inference/inference-service";
import { prepareRun } from "../runs/prepare";
import { runPipeline } from "../runs/run-pipeline";

const TEMPLATES = [
  { id: "x4-chunked", scale: 4 },
  { id: "x8-twice", scale: 8 },
  { id: "x8-twice-real", scale: 8 },
];
const TRUTHS = [
  { photo: "retina.jpg", left: 194, top: 322, width: 1024, height: 768 },
  { photo: "hubble_deep_field.jpg", left: 488, top: 0, width: 512, height: 368 },
];
const VARIANTS = ["shipped", "fp32 auto tiles", "fp32 128px tiles"] as const;
type VariantName = (typeof VARIANTS)[number];

export interface DefaultsQualityRow {
  template: string;
  variant: VariantName;
  meanPsnrY: number;
  ms: number;
  /** The precision each generate node ran at. */
  precisions: string;
}

function overrides(graph: Graph, variant: VariantName): ParamOverride[] {
  if (variant === "shipped") return [];
  return graph.nodes.flatMap((node): ParamOverride[] => {
    if (node.type === "generate") return [{ nodeId: node.id, param: "precision", value: "fp32" }];
    if (node.type === "chunk" && variant === "fp32 128px tiles") {
      return [
        { nodeId: node.id, param: "tileSize", value: 128 },
        { nodeId: node.id, param: "overlap", value: 16 },
      ];
    }
    return [];
  });
}

export async function defaultsQualityBench(say: (line: string) => void): Promise<DefaultsQualityRow[]> {
  const inference = new InferenceService();
  const rows: DefaultsQualityRow[] = [];
  for (const { id, scale } of TEMPLATES) {
    const graph = findTemplate(id)!.graph;
    const truths = await Promise.all(
      TRUTHS.map(async ({ photo, ...region }) => {
        const truth = await sharp(photoPath(photo)).extract(region).removeAlpha().png().toBuffer();
        const low = await sharp(truth).resize(region.width / scale, region.height / scale, { kernel: "cubic" }).png().toBuffer();
        return { truth: (await decodeImage(truth)).image, low };
      }),
    );
    for (const variant of VARIANTS) {
      // Sessions made and costs measured before the clock starts.
      await runPipeline(graph, { inference, inputs: { input: truths[1].low }, overrides: overrides(graph, variant) });
      let ms = 0;
      let sum = 0;
      for (const { truth, low } of truths) {
        const started = performance.now();
        const result = await runPipeline(graph, { inference, inputs: { input: low }, overrides: overrides(graph, variant) });
        ms += performance.now() - started;
        sum += psnrY(truth, (await decodeImage(result.outputs[0].bytes)).image, scale);
      }
      const prepared = await prepareRun(graph, { inference, overrides: overrides(graph, variant) });
      const precisions = prepared.graph.nodes
        .filter((node) => node.type === "generate")
        .map((node) => `${node.id} ${(decisionOf(prepared, node.id) as ModelChoice).precision}`)
        .join(", ");
      const row = { template: id, variant, meanPsnrY: Number((sum / truths.length).toFixed(3)), ms: Math.round(ms), precisions };
      rows.push(row);
      say(`${id.padEnd(14)} ${variant.padEnd(17)} mean Y-PSNR ${row.meanPsnrY.toFixed(3)} dB  ${String(row.ms).padStart(7)} ms  (${precisions})`);
    }
    const of = (variant: VariantName) => rows.find((row) => row.template === id && row.variant === variant)!;
    say(
      `${id.padEnd(14)} shipped vs fp32: ${(of("shipped").meanPsnrY - of("fp32 auto tiles").meanPsnrY).toFixed(3)} dB, ` +
        `${(of("fp32 auto tiles").ms / of("shipped").ms).toFixed(2)}x faster than fp32 auto tiles, ${(of("fp32 128px tiles").ms / of("shipped").ms).toFixed(2)}x than fp32 128 px tiles`,
    );
  }
  return rows;
}
