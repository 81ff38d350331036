// The gates an int8 variant passes to be offered, in one place: close to its fp32 parent, faster than it, and
// costing no quality a user can measure against ground truth (int8-quality.ts measures that).

/** Its output at least this close to its parent's (PSNR) on every held-apart crop. */
export const INT8_MIN_PSNR_DB = 40;

/** At least this much faster than its parent per tile. */
export const INT8_MIN_SPEEDUP = 1.15;

/** The most mean Y-PSNR against ground truth it may cost (alone to be offered; feeding another model for auto to run it there). */
export const INT8_MAX_LOSS_DB = 0.05;

/** Mean Y-PSNR against ground truth on held-apart photos, each precision. */
export interface Int8Quality {
  alone: { fp32Db: number; int8Db: number };
  /** Its output fed into another model (run in fp32): the models the built-in templates chain it with, and itself. */
  chained: { into: string; fp32Db: number; int8Db: number }[];
}

/** How much mean Y-PSNR int8 costs alone, and the worst it costs feeding another model (with which). */
export function int8Losses(quality: Int8Quality): { alone: number; chained: number; worstInto?: string } {
  const loss = ({ fp32Db, int8Db }: { fp32Db: number; int8Db: number }) => Math.round((fp32Db - int8Db) * 1000) / 1000;
  let chained = 0;
  let worstInto: string | undefined;
  for (const chain of quality.chained) {
    if (loss(chain) > chained || worstInto === undefined) [chained, worstInto] = [Math.max(chained, loss(chain)), chain.into];
  }
  return { alone: loss(quality.alone), chained, worstInto };
}
