import assert from "node:assert/strict";
import { test } from "node:test";
import { bootstrapMacroAurocCI } from "../../src/eval/bootstrap.js";
import { summarizePredictions } from "../../src/eval/summarize.js";
import { MetricSummary } from "../../src/experiment/results.js";
import { InputError } from "../../src/util/errors.js";
import { assertAllClose, assertClose, reference } from "./reference.js";

// Expected values from `/usr/bin/python3 scripts/sklearn-reference.py` (sklearn 1.2.1; see reference.ts).

test("binary summary holds the sklearn-verified metrics and a DeLong interval", () => {
  const { labels, scores } = reference.binary.medium.input;
  const e = reference.binary.medium.expected;
  const s = summarizePredictions(labels, scores, ["rest", "influenza"]);
  assert.deepEqual(MetricSummary.parse(s), s);
  assertClose(s.auroc, e.auroc, "auroc");
  assertAllClose(s.aurocCI ?? [], e.delong.ciLogit, "DeLong logit CI");
  assertClose(s.auprc ?? 0, e.auprc, "auprc");
  assertClose(s.brier ?? 0, e.brier, "brier");
  assertClose(s.logLoss ?? 0, e.logLoss, "logLoss");
  assertClose(s.accuracy ?? 0, e.accuracy, "accuracy");
  assertClose(s.ece ?? 0, e.ece10.ece, "ece");
  assertClose(s.calibrationIntercept ?? 0, e.calibrationIntercept, "calibration intercept");
  assertClose(s.calibrationSlope ?? 0, e.calibrationSlope, "calibration slope");
  assert.equal(s.perClassAuroc, undefined);
  // N x 2 rows give the same summary; level changes the interval only.
  assert.deepEqual(
    summarizePredictions(
      labels,
      scores.flatMap((p) => [1 - p, p]),
      ["rest", "influenza"],
    ),
    s,
  );
  const s90 = summarizePredictions(labels, scores, ["rest", "influenza"], { level: 0.9 });
  assertAllClose(s90.aurocCI ?? [], reference.binary.medium.expected.delong90.ciLogit, "90% CI");
});

test("multi-class summary: macro AUROC with a bootstrap interval, per-class AUROC by name", () => {
  const { labels, probs, classes } = reference.multiclass.input;
  const e = reference.multiclass.expected;
  const names = ["I", "M", "P", "R"];
  assert.equal(classes, names.length);
  const s = summarizePredictions(labels, probs, names, { bootstrap: 1000, seed: 4 });
  assert.deepEqual(MetricSummary.parse(s), s);
  assertClose(s.auroc, e.macroAuroc, "macro AUROC");
  assert.deepEqual(Object.keys(s.perClassAuroc ?? {}), names);
  assertAllClose(Object.values(s.perClassAuroc ?? {}), e.perClassAuroc, "per-class AUROC");
  assertClose(s.auprc ?? 0, e.macroAuprc, "macro average precision");
  assertClose(s.brier ?? 0, e.brier, "brier");
  assertClose(s.logLoss ?? 0, e.logLoss, "logLoss");
  assertClose(s.accuracy ?? 0, e.accuracy, "accuracy");
  assertClose(s.ece ?? 0, e.topLabelEce10.ece, "top-label ECE");
  const ci = bootstrapMacroAurocCI(labels, probs, classes, { resamples: 1000, seed: 4 });
  assert.deepEqual(s.aurocCI, [ci.lower, ci.upper]);
  assert.ok(ci.lower < s.auroc && s.auroc < ci.upper);
  assert.equal(s.calibrationSlope, undefined);
});

test("an undefined calibration slope (separable predictions) is omitted, not stored as NaN", () => {
  const s = summarizePredictions([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], ["no", "yes"]);
  assert.equal(s.auroc, 1);
  assert.equal("calibrationSlope" in s, false);
  assert.deepEqual(MetricSummary.parse(s), s);
});

test("summaries reject bad inputs", () => {
  assert.throws(() => summarizePredictions([0, 1], [0.2, 0.7], ["only"]), InputError);
  assert.throws(() => summarizePredictions([0, 1], [0.2], ["a", "b"]), InputError);
  assert.throws(
    () => summarizePredictions([0, 1, 0], [0.2, 0.7, 0.1], ["a", "b"], { bootstrap: 10 }),
    InputError,
  );
});
