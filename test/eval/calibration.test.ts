import assert from "node:assert/strict";
import { test } from "node:test";
import {
  calibrationInterceptSlope,
  expectedCalibrationError,
  LOGIT_EPS,
  reliabilityCurve,
  topLabelCalibrationError,
  uniformBin,
} from "../../src/eval/calibration.js";
import { InputError } from "../../src/util/errors.js";
import { assertAllClose, assertClose, reference } from "./reference.js";

// Expected values from `/usr/bin/python3 scripts/sklearn-reference.py` (see reference.ts): reliability
// curves from sklearn 1.2.1 calibration_curve(strategy="uniform"); ECE from those bins with numpy;
// calibration-in-the-large by scipy brentq on its score equation; calibration slope by sklearn
// LogisticRegression(penalty=None, solver="newton-cg") polished with scipy.optimize.root.

test("the script and the code clip logits at the same epsilon", () => {
  assert.equal(LOGIT_EPS, reference.logitEps);
});

for (const [name, c] of Object.entries(reference.binary)) {
  const { labels, scores } = c.input;
  const e = c.expected;

  test(`reliability curve and ECE match sklearn's binning (${name}, 10 and 5 bins)`, () => {
    for (const [bins, ref] of [
      [10, e.ece10],
      [5, e.ece5],
    ] as const) {
      const curve = reliabilityCurve(labels, scores, bins);
      assertAllClose(curve.observed, ref.observed, `prob_true (${bins} bins)`);
      assertAllClose(curve.meanPredicted, ref.meanPredicted, `prob_pred (${bins} bins)`);
      assert.deepEqual(curve.count, ref.count, `counts (${bins} bins)`);
      assertClose(expectedCalibrationError(labels, scores, bins), ref.ece, `ECE (${bins} bins)`);
    }
  });

  test(`calibration intercept and slope match the maximum-likelihood fits (${name})`, () => {
    const cal = calibrationInterceptSlope(labels, scores);
    assertClose(cal.intercept, e.calibrationIntercept, "calibration-in-the-large");
    assertClose(cal.slope, e.calibrationSlope, "calibration slope");
    assertClose(cal.slopeIntercept, e.calibrationSlopeIntercept, "intercept of the slope model");
  });
}

test("top-label ECE matches the numpy reference on the 4-class case", () => {
  const { labels, probs, classes } = reference.multiclass.input;
  assertClose(
    topLabelCalibrationError(labels, probs, classes),
    reference.multiclass.expected.topLabelEce10.ece,
    "top-label ECE",
  );
});

test("bin edges: a probability on an edge goes to the lower bin, 0 and 1 to the end bins", () => {
  assert.equal(uniformBin(0, 10), 0);
  assert.equal(uniformBin(0.1, 10), 0);
  assert.equal(uniformBin(0.10000000000000002, 10), 1);
  // linspace(0, 1, 11)[3] is 0.30000000000000004, so 0.3 sits below that edge.
  assert.equal(uniformBin(0.3, 10), 2);
  assert.equal(uniformBin(0.7, 10), 6);
  assert.equal(uniformBin(1, 10), 9);
  assert.equal(uniformBin(0.5, 1), 0);
});

test("perfectly calibrated probabilities: intercept 0, slope 1, ECE 0 when each bin's rate equals its probability", () => {
  // 10 encounters at p = 0.2 with 2 events and 10 at p = 0.7 with 7 events.
  const scores = [...new Array(10).fill(0.2), ...new Array(10).fill(0.7)];
  const labels = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0];
  const cal = calibrationInterceptSlope(labels, scores);
  assertClose(cal.intercept, 0, "intercept", 1e-10);
  assertClose(cal.slope, 1, "slope", 1e-10);
  assertClose(expectedCalibrationError(labels, scores), 0, "ECE", 1e-15);
});

test("overconfident predictions have slope < 1, underestimated risk a positive intercept", () => {
  const labels = [0, 0, 0, 1, 0, 1, 1, 1, 0, 1];
  const calibrated = [0.2, 0.3, 0.3, 0.4, 0.5, 0.5, 0.6, 0.7, 0.6, 0.8];
  const logit = (p: number) => Math.log(p / (1 - p));
  const expit = (t: number) => 1 / (1 + Math.exp(-t));
  const base = calibrationInterceptSlope(labels, calibrated);
  const extreme = calibrationInterceptSlope(
    labels,
    calibrated.map((p) => expit(3 * logit(p))),
  );
  assertClose(extreme.slope, base.slope / 3, "tripling logits divides the slope by 3", 1e-9);
  const low = calibrationInterceptSlope(
    labels,
    calibrated.map((p) => expit(logit(p) - 1)),
  );
  assert.ok(low.intercept > base.intercept + 0.5);
});

test("perfectly separated predictions have no finite slope: NaN, not a huge number", () => {
  const cal = calibrationInterceptSlope([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]);
  assert.ok(Number.isNaN(cal.slope));
  assert.ok(Number.isFinite(cal.intercept));
});

test("invalid calibration inputs raise InputError", () => {
  assert.throws(() => reliabilityCurve([0, 1], [0.2, 1.5]), InputError);
  assert.throws(() => reliabilityCurve([0, 1], [0.2, 0.5], 0), InputError);
  assert.throws(() => calibrationInterceptSlope([1, 1], [0.2, 0.5]), InputError);
});
