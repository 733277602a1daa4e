import { checkBinaryLabels, checkFinite, checkSameLength, requireBothClasses } from "./validate.js";

/**
 * ROC and precision-recall curves, reproducing scikit-learn 1.2.1 (`roc_curve`,
 * `precision_recall_curve`) point for point, ties included. Written here because no npm library
 * matches sklearn's tie and threshold conventions, which the tests hold us to.
 */

/** Cumulative counts at each distinct score, highest score first (sklearn's `_binary_clf_curve`). */
export interface ClassifierCurveCounts {
  /** Distinct scores, decreasing. */
  thresholds: number[];
  /** Positives with score >= thresholds[i]. */
  tps: number[];
  /** Negatives with score >= thresholds[i]. */
  fps: number[];
}

export function binaryClassifierCurve(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
): ClassifierCurveCounts {
  checkSameLength(labels, scores);
  checkFinite(scores);
  checkBinaryLabels(labels);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const thresholds: number[] = [];
  const tps: number[] = [];
  const fps: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (labels[i] === 1) tp++;
    else fp++;
    // A threshold closes where the next (lower) score differs, or at the end.
    if (k === order.length - 1 || scores[order[k + 1]] !== scores[i]) {
      thresholds.push(scores[i]);
      tps.push(tp);
      fps.push(fp);
    }
  }
  return { thresholds, tps, fps };
}

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /**
   * Decreasing; a point is "predicted positive when score >= threshold". thresholds[0] is
   * max(score) + 1 (sklearn 1.2.1; later versions use +Infinity, which JSON cannot hold).
   */
  thresholds: number[];
}

export interface RocCurveOptions {
  /**
   * Drop points collinear with their neighbours (sklearn's default, `drop_intermediate=True`):
   * same plot and same area with fewer points. Set false to keep one point per distinct score
   * (needed to search thresholds, e.g. Youden's J).
   */
  dropIntermediate?: boolean;
}

/** ROC curve as sklearn 1.2.1 `roc_curve(y, s, drop_intermediate=...)`; default drops intermediates. */
export function rocCurve(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  opts: RocCurveOptions = {},
): RocCurve {
  const counts = binaryClassifierCurve(labels, scores);
  const n = counts.tps.length;
  requireBothClasses(counts.tps[n - 1], counts.tps[n - 1] + counts.fps[n - 1], "the ROC curve");
  let { tps, fps, thresholds } = counts;
  if ((opts.dropIntermediate ?? true) && n > 2) {
    const keep: number[] = [0];
    for (let i = 1; i < n - 1; i++) {
      const corner = fps[i + 1] - 2 * fps[i] + fps[i - 1] !== 0 || tps[i + 1] - 2 * tps[i] + tps[i - 1] !== 0;
      if (corner) keep.push(i);
    }
    keep.push(n - 1);
    tps = keep.map((i) => counts.tps[i]);
    fps = keep.map((i) => counts.fps[i]);
    thresholds = keep.map((i) => counts.thresholds[i]);
  }
  const totalPos = tps[tps.length - 1];
  const totalNeg = fps[fps.length - 1];
  return {
    fpr: [0, ...fps.map((f) => f / totalNeg)],
    tpr: [0, ...tps.map((t) => t / totalPos)],
    thresholds: [thresholds[0] + 1, ...thresholds],
  };
}

export interface PrecisionRecallCurve {
  /** Increasing-threshold order, ending with precision 1 at recall 0 (as sklearn). */
  precision: number[];
  recall: number[];
  /** Increasing; one fewer than precision/recall. */
  thresholds: number[];
}

/** Precision-recall curve as sklearn 1.2.1 `precision_recall_curve(y, s)`. */
export function precisionRecallCurve(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
): PrecisionRecallCurve {
  const { tps, fps, thresholds } = binaryClassifierCurve(labels, scores);
  const n = tps.length;
  const totalPos = tps[n - 1];
  requireBothClasses(totalPos, totalPos + fps[n - 1], "the precision-recall curve");
  const precision: number[] = [];
  const recall: number[] = [];
  const thr: number[] = [];
  for (let i = n - 1; i >= 0; i--) {
    precision.push(tps[i] / (tps[i] + fps[i]));
    recall.push(tps[i] / totalPos);
    thr.push(thresholds[i]);
  }
  precision.push(1);
  recall.push(0);
  return { precision, recall, thresholds: thr };
}
