import assert from "node:assert/strict";
import { test } from "node:test";
import {
  accuracy,
  auprc,
  auroc,
  brierScore,
  LOG_LOSS_EPS,
  logLoss,
  macroAurocOvr,
  perClassAurocOvr,
  precisionRecallCurve,
  rocCurve,
  thresholdMetrics,
} from "../../src/eval/metrics.js";
import { InputError } from "../../src/util/errors.js";
import { assertAllClose, assertClose, reference } from "./reference.js";

// Expected values: scikit-learn 1.2.1 via `/usr/bin/python3 scripts/sklearn-reference.py` (see reference.ts).

for (const [name, c] of Object.entries(reference.binary)) {
  const { labels, scores, scores2 } = c.input;
  const e = c.expected;

  test(`binary metrics match sklearn (${name}: ${labels.length} predictions with ties)`, () => {
    assertClose(auroc(labels, scores), e.auroc, "roc_auc_score");
    assertClose(auroc(labels, scores2), e.auroc2, "roc_auc_score (second arm)");
    assertClose(auprc(labels, scores), e.auprc, "average_precision_score");
    assertClose(brierScore(labels, scores), e.brier, "brier_score_loss");
    assertClose(logLoss(labels, scores), e.logLoss, "log_loss");
    assertClose(accuracy(labels, scores), e.accuracy, "accuracy_score(y, p > 0.5)");
  });

  test(`N x 2 probability rows give the same binary metrics (${name})`, () => {
    const rows = scores.flatMap((p) => [1 - p, p]);
    assertClose(brierScore(labels, rows), e.brier, "brier from rows");
    assertClose(logLoss(labels, rows), e.logLoss, "log loss from rows");
    assertClose(accuracy(labels, rows), e.accuracy, "accuracy from rows");
    assertClose(macroAurocOvr(labels, rows, 2), e.auroc, "macro AUROC of 2 classes = AUROC");
  });

  test(`ROC and PR curves match sklearn point for point (${name})`, () => {
    const roc = rocCurve(labels, scores);
    assertAllClose(roc.fpr, e.roc.fpr, "roc_curve fpr");
    assertAllClose(roc.tpr, e.roc.tpr, "roc_curve tpr");
    assertAllClose(roc.thresholds, e.roc.thresholds, "roc_curve thresholds");
    const full = rocCurve(labels, scores, { dropIntermediate: false });
    assertAllClose(full.fpr, e.rocFull.fpr, "roc_curve(drop_intermediate=False) fpr");
    assertAllClose(full.tpr, e.rocFull.tpr, "roc_curve(drop_intermediate=False) tpr");
    assertAllClose(full.thresholds, e.rocFull.thresholds, "roc_curve(drop_intermediate=False) thresholds");
    const pr = precisionRecallCurve(labels, scores);
    assertAllClose(pr.precision, e.pr.precision, "precision_recall_curve precision");
    assertAllClose(pr.recall, e.pr.recall, "precision_recall_curve recall");
    assertAllClose(pr.thresholds, e.pr.thresholds, "precision_recall_curve thresholds");
  });

  test(`sensitivity, specificity, PPV, NPV at 0.5 and at Youden's threshold (${name})`, () => {
    for (const [t, ref] of [
      [0.5, e.threshold05],
      ["youden", e.youden],
    ] as const) {
      const m = thresholdMetrics(labels, scores, t);
      assertClose(m.threshold, ref.threshold, `${t} threshold`);
      assert.deepEqual([m.tp, m.fp, m.tn, m.fn], [ref.tp, ref.fp, ref.tn, ref.fn], `${t} confusion counts`);
      assertClose(m.sensitivity, ref.sensitivity, `${t} sensitivity`);
      assertClose(m.specificity, ref.specificity, `${t} specificity`);
      if (ref.ppv === null) assert.ok(Number.isNaN(m.ppv));
      else assertClose(m.ppv, ref.ppv, `${t} ppv`);
      if (ref.npv === null) assert.ok(Number.isNaN(m.npv));
      else assertClose(m.npv, ref.npv, `${t} npv`);
    }
  });
}

test("multi-class metrics match sklearn (4 classes, prototype rows with ties)", () => {
  const { labels, probs, classes } = reference.multiclass.input;
  const e = reference.multiclass.expected;
  assertClose(
    macroAurocOvr(labels, probs, classes),
    e.macroAuroc,
    'roc_auc_score(multi_class="ovr", average="macro")',
  );
  assertAllClose(perClassAurocOvr(labels, probs, classes), e.perClassAuroc, "per-class one-vs-rest AUROC");
  assertClose(logLoss(labels, probs, classes), e.logLoss, "log_loss(labels=range(4))");
  assertClose(accuracy(labels, probs, classes), e.accuracy, "accuracy_score(y, argmax)");
  assertClose(brierScore(labels, probs, classes), e.brier, "multi-class Brier (numpy)");
});

test("AUROC by hand: ties count one half, the score scale does not matter", () => {
  // Pairs (pos, neg): (0.8 vs 0.3) win, (0.8 vs 0.5) win, (0.5 vs 0.3) win, (0.5 vs 0.5) tie -> 3.5 / 4.
  assert.equal(auroc([1, 1, 0, 0], [0.8, 0.5, 0.3, 0.5]), 0.875);
  assert.equal(auroc([1, 1, 0, 0], [80, 50, 30, 50]), 0.875);
  assert.equal(auroc([0, 1], [0.2, 0.2]), 0.5);
});

test("log loss clips certain wrong predictions at -log(eps) as sklearn does", () => {
  assertClose(logLoss([1, 0], [0, 1]), -Math.log(LOG_LOSS_EPS), "clipped log loss");
  assert.ok(logLoss([1, 0], [1, 0]) < 1e-15);
});

test("invalid inputs raise InputError naming the field", () => {
  assert.throws(
    () => auroc([1, 1, 1], [0.1, 0.2, 0.3]),
    (e: unknown) => e instanceof InputError && /only positives/.test(e.message),
  );
  assert.throws(
    () => auroc([0, 2], [0.1, 0.2]),
    (e: unknown) => e instanceof InputError && /labels/.test(e.message),
  );
  assert.throws(
    () => auroc([0, 1], [0.1]),
    (e: unknown) => e instanceof InputError && /scores/.test(e.message),
  );
  assert.throws(() => auroc([0, 1], [0.1, Number.NaN]), InputError);
  assert.throws(() => brierScore([0, 1], [0.1, 1.2]), InputError);
  assert.throws(() => macroAurocOvr([0, 1, 3], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 2), InputError);
  assert.throws(() => thresholdMetrics([0, 1], [0.1, 0.9], Number.NaN), InputError);
});

test("macro AUROC leaves out a class absent from the labels (sklearn would raise)", () => {
  // Class 2 never occurs: its column is ignored and the macro is the mean of classes 0 and 1.
  const labels = [0, 0, 1, 1];
  const probs = [0.7, 0.2, 0.1, 0.4, 0.5, 0.1, 0.3, 0.6, 0.1, 0.5, 0.4, 0.1];
  const per = perClassAurocOvr(labels, probs, 3);
  assert.ok(Number.isNaN(per[2]));
  assert.equal(macroAurocOvr(labels, probs, 3), (per[0] + per[1]) / 2);
});
