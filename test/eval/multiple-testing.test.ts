import assert from "node:assert/strict";
import { test } from "node:test";
import { formatMeanSd, meanSd } from "../../src/eval/across-seeds.js";
import { holmAdjust } from "../../src/eval/multiple-testing.js";
import { InputError } from "../../src/util/errors.js";
import { assertAllClose, assertClose, reference } from "./reference.js";

test("Holm adjustment matches the step-down definition (reference script) and a hand computation", () => {
  assertAllClose(holmAdjust(reference.holm.input), reference.holm.expected, "holm");
  // Hand: sorted 0.01, 0.02, 0.5 -> 3 * 0.01 = 0.03, 2 * 0.02 = 0.04, max(0.04, 0.5) = 0.5.
  assert.deepEqual(holmAdjust([0.5, 0.01, 0.02]), [0.5, 0.03, 0.04]);
  // Capped at 1 and monotone: 2 * 0.6 -> 1, then max(1, 0.7) = 1.
  assert.deepEqual(holmAdjust([0.6, 0.7]), [1, 1]);
  assert.deepEqual(holmAdjust([]), []);
  assert.throws(() => holmAdjust([0.2, Number.NaN]), InputError);
});

test("mean and sample sd across seeds", () => {
  // numpy: np.mean([0.8, 0.82, 0.78, 0.81]) = 0.8025, np.std(ddof=1) = 0.01707825127659931
  const s = meanSd([0.8, 0.82, 0.78, 0.81]);
  assertClose(s.mean, 0.8025, "mean", 1e-15);
  assertClose(s.sd, 0.01707825127659931, "sd", 1e-15);
  assert.equal(s.n, 4);
  assert.ok(Number.isNaN(meanSd([0.7]).sd));
  assert.equal(formatMeanSd(meanSd([0.81, 0.83])), "0.820 ± 0.014 (n = 2)");
  assert.equal(formatMeanSd(meanSd([0.7])), "0.700 (n = 1)");
});
