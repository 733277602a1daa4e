import assert from "node:assert/strict";
import { test } from "node:test";
import { calibrationInterceptSlope } from "../../src/eval/calibration.js";
import { auroc } from "../../src/eval/metrics.js";
import {
  applyRecalibration,
  fitMultinomialRecalibration,
  fitRecalibration,
  recalibrateAtTarget,
  recalibrateRows,
} from "../../src/eval/recalibrate.js";
import { InputError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { assertClose, reference } from "./reference.js";

const expit = (t: number): number => 1 / (1 + Math.exp(-t));

/** True risk expit(z); the "transferred model" reports expit(2z + 1): too extreme and too high. */
function miscalibrated(n: number, seed: number): { labels: number[]; probs: number[] } {
  const rng = new Rng(seed);
  const labels: number[] = [];
  const probs: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = -0.7 + rng.normal();
    labels.push(rng.next() < expit(z) ? 1 : 0);
    probs.push(expit(2 * z + 1));
  }
  return { labels, probs };
}

test("binary recalibration fits are the calibration intercept and slope (sklearn/scipy reference)", () => {
  for (const [name, c] of Object.entries(reference.binary)) {
    const { labels, scores } = c.input;
    const logistic = fitRecalibration(labels, scores, "logistic");
    assertClose(logistic.slope, c.expected.calibrationSlope, `${name} slope`);
    assertClose(logistic.intercepts[0], c.expected.calibrationSlopeIntercept, `${name} intercept`);
    const shift = fitRecalibration(labels, scores, "intercept");
    assertClose(shift.intercepts[0], c.expected.calibrationIntercept, `${name} shift`);
    assert.equal(shift.slope, 1);
  }
});

test("refitting on the recalibrated data finds nothing left to correct; ranking is unchanged", () => {
  const { labels, scores } = reference.binary.medium.input;
  const logistic = applyRecalibration(fitRecalibration(labels, scores, "logistic"), scores);
  const after = calibrationInterceptSlope(labels, logistic);
  assertClose(after.slope, 1, "slope after logistic recalibration", 1e-8);
  assertClose(after.slopeIntercept, 0, "intercept after logistic recalibration", 1e-8);
  assertClose(auroc(labels, logistic), auroc(labels, scores), "AUROC unchanged", 1e-15);
  const shifted = applyRecalibration(fitRecalibration(labels, scores, "intercept"), scores);
  // The offset model's score equation: mean recalibrated risk = observed event rate.
  const mean = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0) / v.length;
  assertClose(mean(shifted), mean(labels), "mean risk = event rate", 1e-12);
  assertClose(
    calibrationInterceptSlope(labels, shifted).intercept,
    0,
    "calibration-in-the-large after",
    1e-8,
  );
});

test("fitted at the target on validation data, recalibration improves calibration on the test set", () => {
  const fit = miscalibrated(2000, 1);
  const testSet = miscalibrated(2000, 2);
  for (const method of ["intercept", "logistic"] as const) {
    const out = recalibrateAtTarget({ method, fit, test: testSet });
    // An intercept shift fixes the event rate but not the overconfidence, so it helps less.
    const factor = method === "logistic" ? 0.4 : 0.8;
    assert.ok(
      out.after.ece < out.before.ece * factor,
      `${method}: ECE ${out.before.ece} -> ${out.after.ece}`,
    );
    assert.ok(out.after.logLoss < out.before.logLoss, `${method}: log loss`);
    assert.ok(Math.abs(out.after.calibrationIntercept ?? 9) < Math.abs(out.before.calibrationIntercept ?? 0));
    assertClose(
      auroc(testSet.labels, out.probs),
      auroc(testSet.labels, testSet.probs),
      "AUROC unchanged",
      1e-12,
    );
  }
  const logistic = recalibrateAtTarget({ method: "logistic", fit, test: testSet });
  // The model's logits are 2z + 1, so the ideal slope is 1/2 and intercept -1/2, up to sampling noise.
  assert.ok(Math.abs(logistic.recalibration.slope - 0.5) < 0.06, `slope ${logistic.recalibration.slope}`);
  // On the independent test set the slope moves most of the way to 1 (0.56 -> 1.18 with these seeds).
  const slopeError = (v: number | undefined) => Math.abs((v ?? 0) - 1);
  assert.ok(slopeError(logistic.after.calibrationSlope) < slopeError(logistic.before.calibrationSlope) / 2);
});

test("multinomial recalibration with 2 classes reproduces the binary fits", () => {
  const { labels, scores } = reference.binary.medium.input;
  const rows = scores.flatMap((p) => [1 - p, p]);
  for (const method of ["intercept", "logistic"] as const) {
    const binary = fitRecalibration(labels, scores, method);
    const multi = fitMultinomialRecalibration(labels, rows, 2, method);
    assert.ok(multi.converged);
    assertClose(multi.slope, binary.slope, `${method} slope`, 1e-8);
    assertClose(multi.intercepts[1] - multi.intercepts[0], binary.intercepts[0], `${method} intercept`, 1e-8);
    const viaRows = recalibrateRows(method, labels, rows, rows, 2);
    const viaVector = applyRecalibration(binary, scores);
    for (let i = 0; i < scores.length; i++) assertClose(viaRows[2 * i + 1], viaVector[i], `row ${i}`, 1e-12);
  }
});

test("multi-class recalibration satisfies its score equations: mean risk per class = class frequency", () => {
  const { labels, probs, classes } = reference.multiclass.input;
  for (const method of ["intercept", "logistic"] as const) {
    const rec = fitRecalibration(labels, probs, method, classes);
    assert.ok(rec.converged);
    assert.equal(rec.intercepts[0], 0);
    const out = applyRecalibration(rec, probs);
    for (let c = 0; c < classes; c++) {
      let risk = 0;
      let freq = 0;
      for (let i = 0; i < labels.length; i++) {
        risk += out[i * classes + c];
        freq += labels[i] === c ? 1 : 0;
      }
      assertClose(risk / labels.length, freq / labels.length, `${method} class ${c}`, 1e-10);
    }
    for (let i = 0; i < labels.length; i++) {
      let rowSum = 0;
      for (let c = 0; c < classes; c++) rowSum += out[i * classes + c];
      assertClose(rowSum, 1, `row ${i} sums to 1`, 1e-12);
    }
  }
});

test('"none" leaves probabilities untouched; missing classes and single-class data are input errors', () => {
  const { labels, scores } = reference.binary.small.input;
  assert.deepEqual(Array.from(applyRecalibration(fitRecalibration(labels, scores, "none"), scores)), scores);
  assert.throws(() => fitRecalibration([1, 1], [0.2, 0.4], "logistic"), InputError);
  assert.throws(
    () => fitRecalibration([0, 1, 0], [0.5, 0.3, 0.2, 0.2, 0.5, 0.3, 0.6, 0.2, 0.2], "intercept", 3),
    (e: unknown) => e instanceof InputError && /class 2/.test(e.message),
  );
});
