// Real runs refine a model's speed curve: the sizes they ran as they measured them, the rest of the curve scaled
// to how they compared with it, so its shape (which tile size is faster) survives while its level is this machine's.
import assert from "node:assert/strict";
import { test } from "node:test";
import { msPerMegapixelAt } from "../../nodes/image/tile-plan";
import { refinedSpeed } from "./run-timings";

const curve = [
  { pixels: 64 * 64, msPerMegapixel: 100 },
  { pixels: 128 * 128, msPerMegapixel: 100 },
  { pixels: 256 * 256, msPerMegapixel: 150 },
];

test("without runs the curve stands; a run's size is what the run measured, the other sizes scaled alike", () => {
  assert.deepEqual(refinedSpeed(curve, []), curve);
  const refined = refinedSpeed(curve, [{ pixels: 130 * 130, msPerMegapixel: 200 }]);
  assert.equal(msPerMegapixelAt(refined, 130 * 130), 200);
  assert.ok(!refined.some((point) => point.pixels === 128 * 128), "the curve's point beside the run's size gives way to it");
  const at = (pixels: number) => refined.find((point) => point.pixels === pixels)!.msPerMegapixel;
  assert.ok(Math.abs(at(256 * 256) / at(64 * 64) - 1.5) < 0.01, "the shape is kept");
  assert.ok(at(64 * 64) > 190 && at(64 * 64) < 200, `the level is the run's (${at(64 * 64)})`);
});
