// A model's precisions in a user's words, from the models list's `int8` field: whether an int8 variant is
// offered, how close it is to fp32 and how much faster it measured on this machine. The editor's model picker
// and the models page show it.
import type { ModelInfo } from "../../nodes/graph/models";

export type Int8Offer = ModelInfo["int8"];

/** A short tag for an option label: "int8 2.49x", or nothing when only fp32 runs. */
export function int8Tag(int8: Int8Offer): string | undefined {
  return int8.offered ? `int8 ${int8.speedup.toFixed(2)}x` : undefined;
}

/** One sentence: both precisions' measured tile times and the int8 fidelity, or why fp32 is the only one. */
export function precisionSummary(int8: Int8Offer): string {
  if (!int8.offered) return `fp32 only: ${int8.why}`;
  return (
    `int8 (precision auto runs it): ${int8.int8Ms} ms per ${int8.tile} px tile against ${int8.fp32Ms} ms in fp32 ` +
    `(${int8.speedup.toFixed(2)}x), output ${int8.psnrDb} dB from fp32's, ${int8.lossDb.toFixed(3)} dB Y-PSNR lost against ground truth` +
    (int8.chained ? "" : `; auto runs fp32 where its output feeds another model: ${int8.chainedWhy}`)
  );
}
