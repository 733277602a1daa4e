import { binaryAuroc } from "../model/auroc.js";
import { InputError } from "../util/errors.js";
import { binaryClassifierCurve, precisionRecallCurve, rocCurve } from "./curves.js";
import {
  checkBinaryLabels,
  checkClassLabels,
  checkFinite,
  checkProbabilities,
  checkSameLength,
  requireBothClasses,
} from "./validate.js";

/**
 * Discrimination and accuracy metrics, each matching scikit-learn 1.2.1 to 1e-9 on inputs with ties
 * (test/eval/metrics.test.ts, reference values from scripts/sklearn-reference.py).
 *
 * Conventions used throughout src/eval:
 * - binary: labels are 0/1 and scores are P(positive) (or any score for the rank metrics);
 * - multi-class: labels are class indices 0..C-1 and probs are N x C row-major.
 * Hand-written rather than taken from an npm package because none reproduces sklearn's tie
 * handling, clipping and threshold conventions exactly.
 */

export type { PrecisionRecallCurve, RocCurve, RocCurveOptions } from "./curves.js";
export { precisionRecallCurve, rocCurve };

/** Float64 machine epsilon: sklearn 1.2.1 `log_loss(eps="auto")` clips probabilities to [eps, 1 - eps]. */
export const LOG_LOSS_EPS = 2.220446049250313e-16;

/**
 * Area under the ROC curve (= sklearn `roc_auc_score`): the Mann-Whitney probability that a random
 * positive outscores a random negative, ties counting one half (identical to the trapezoid area).
 * The arithmetic is model/auroc.ts's (one implementation; model selection uses it unchecked), with
 * the input checks of this module.
 */
export function auroc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkSameLength(labels, scores);
  checkFinite(scores);
  const positives = checkBinaryLabels(labels);
  requireBothClasses(positives, labels.length, "AUROC");
  return binaryAuroc(labels, scores);
}

/**
 * One-vs-rest AUROC of every class (class c against all others, scored by column c). A class with
 * no encounters (or only that class) has no AUROC: its entry is NaN.
 */
export function perClassAurocOvr(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  classes: number,
): number[] {
  checkSameLength(labels, probs, classes, "probabilities");
  checkFinite(probs, "probabilities");
  const counts = checkClassLabels(labels, classes);
  const n = labels.length;
  const binary = new Int32Array(n);
  const column = new Float64Array(n);
  return counts.map((count, c) => {
    if (count === 0 || count === n) return Number.NaN;
    for (let i = 0; i < n; i++) {
      binary[i] = labels[i] === c ? 1 : 0;
      column[i] = probs[i * classes + c];
    }
    return binaryAuroc(binary, column);
  });
}

/**
 * Macro-averaged one-vs-rest AUROC (= sklearn `roc_auc_score(y, P, multi_class="ovr",
 * average="macro")` when every class occurs). Unlike sklearn, which raises, classes absent from
 * the labels are left out of the average (a small target test set may miss a rare class); it
 * throws only when no class has an AUROC.
 */
export function macroAurocOvr(labels: ArrayLike<number>, probs: ArrayLike<number>, classes: number): number {
  const perClass = perClassAurocOvr(labels, probs, classes).filter((v) => !Number.isNaN(v));
  if (perClass.length === 0) requireBothClasses(0, labels.length, "macro AUROC");
  return perClass.reduce((a, b) => a + b, 0) / perClass.length;
}

/** Average precision (= sklearn `average_precision_score`): sum over thresholds of (R_n - R_n-1) P_n, no interpolation. */
export function auprc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { precision, recall } = precisionRecallCurve(labels, scores);
  // Same summation order as sklearn: -sum(diff(recall) * precision[:-1]) over the increasing-threshold arrays.
  let ap = 0;
  for (let i = 0; i < precision.length - 1; i++) ap -= (recall[i + 1] - recall[i]) * precision[i];
  return ap;
}

/**
 * Probabilities as N x C rows. Binary tasks may pass P(positive) per encounter (length N) or N x 2
 * rows; both give the same answers.
 */
function probabilityRows(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  classes: number,
): ArrayLike<number> {
  if (classes === 2 && probs.length === labels.length && labels.length > 0) {
    checkProbabilities(probs);
    const rows = new Float64Array(2 * probs.length);
    for (let i = 0; i < probs.length; i++) {
      rows[2 * i] = 1 - probs[i];
      rows[2 * i + 1] = probs[i];
    }
    return rows;
  }
  checkSameLength(labels, probs, classes, "probabilities");
  checkProbabilities(probs);
  return probs;
}

/**
 * Brier score. Binary: mean (y - p)^2 (= sklearn `brier_score_loss`). Multi-class (sklearn 1.2 has
 * none): Brier's original definition, mean over encounters of sum over classes (p_c - [y = c])^2,
 * which is twice the binary value when C = 2; range [0, 2].
 */
export function brierScore(labels: ArrayLike<number>, probs: ArrayLike<number>, classes = 2): number {
  const rows = probabilityRows(labels, probs, classes);
  checkClassLabels(labels, classes);
  const n = labels.length;
  let total = 0;
  if (classes === 2) {
    for (let i = 0; i < n; i++) total += (labels[i] - rows[2 * i + 1]) ** 2;
    return total / n;
  }
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < classes; c++) total += (rows[i * classes + c] - (labels[i] === c ? 1 : 0)) ** 2;
  }
  return total / n;
}

/**
 * Mean negative log-likelihood (= sklearn 1.2.1 `log_loss(y, p, labels=range(C))`): probabilities
 * are clipped to [eps, 1 - eps] with eps = float64 machine epsilon, each row renormalised to sum 1,
 * then -mean(log p[y]). A confident wrong prediction therefore costs at most -log(eps) ~ 36.04.
 */
export function logLoss(labels: ArrayLike<number>, probs: ArrayLike<number>, classes = 2): number {
  const rows = probabilityRows(labels, probs, classes);
  checkClassLabels(labels, classes);
  const clip = (p: number): number => Math.min(Math.max(p, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += clip(rows[i * classes + c]);
    total -= Math.log(clip(rows[i * classes + labels[i]]) / sum);
  }
  return total / labels.length;
}

/**
 * Fraction correct. Binary P(positive) input predicts positive when p > 0.5 (the argmax of
 * [1 - p, p], ties going to the negative class as numpy's argmax does); multi-class predicts the
 * argmax of each row (first maximum wins).
 */
export function accuracy(labels: ArrayLike<number>, probs: ArrayLike<number>, classes = 2): number {
  if (classes === 2 && probs.length === labels.length && labels.length > 0) {
    checkFinite(probs);
    checkBinaryLabels(labels);
    let correct = 0;
    for (let i = 0; i < labels.length; i++) if ((probs[i] > 0.5 ? 1 : 0) === labels[i]) correct++;
    return correct / labels.length;
  }
  checkSameLength(labels, probs, classes, "probabilities");
  checkFinite(probs, "probabilities");
  checkClassLabels(labels, classes);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (argmaxRow(probs, i, classes) === labels[i]) correct++;
  return correct / labels.length;
}

/** Index of the first maximum of row i. */
export function argmaxRow(probs: ArrayLike<number>, i: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
  return best;
}

export interface ThresholdMetrics {
  /** Predicted positive when score >= threshold. */
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** TP / (TP + FN), a.k.a. recall / true-positive rate. */
  sensitivity: number;
  /** TN / (TN + FP). */
  specificity: number;
  /** TP / (TP + FP); NaN when nothing is predicted positive. */
  ppv: number;
  /** TN / (TN + FN); NaN when nothing is predicted negative. */
  npv: number;
}

/**
 * Sensitivity, specificity, PPV and NPV at a threshold: a fixed number, or "youden" for the score
 * threshold maximising Youden's J = sensitivity + specificity - 1 over the full ROC curve (the
 * highest such threshold when several tie, as numpy's argmax over sklearn's `roc_curve` picks).
 */
export function thresholdMetrics(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number | "youden",
): ThresholdMetrics {
  let t: number;
  if (threshold === "youden") {
    const roc = rocCurve(labels, scores, { dropIntermediate: false });
    let best = 0;
    for (let k = 1; k < roc.fpr.length; k++)
      if (roc.tpr[k] - roc.fpr[k] > roc.tpr[best] - roc.fpr[best]) best = k;
    t = roc.thresholds[best];
  } else {
    if (!Number.isFinite(threshold))
      throw new InputError(`threshold ${threshold} is not a number`, { field: "threshold" });
    t = threshold;
    checkSameLength(labels, scores);
    checkFinite(scores);
    checkBinaryLabels(labels);
  }
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const predicted = scores[i] >= t;
    if (labels[i] === 1) {
      if (predicted) tp++;
      else fn++;
    } else if (predicted) fp++;
    else tn++;
  }
  return {
    threshold: t,
    tp,
    fp,
    tn,
    fn,
    sensitivity: tp / (tp + fn),
    specificity: tn / (tn + fp),
    ppv: tp + fp > 0 ? tp / (tp + fp) : Number.NaN,
    npv: tn + fn > 0 ? tn / (tn + fn) : Number.NaN,
  };
}

/** Re-exported for callers that only need the per-threshold counts. */
export { binaryClassifierCurve };
