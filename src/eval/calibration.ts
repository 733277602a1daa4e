import { InputError } from "../util/errors.js";
import { fitInterceptWithOffset, fitLogistic1D } from "./logistic-fit.js";
import { argmaxRow } from "./metrics.js";
import {
  checkBinaryLabels,
  checkClassLabels,
  checkProbabilities,
  checkSameLength,
  requireBothClasses,
} from "./validate.js";

/**
 * Calibration of binary probabilities: reliability curve, expected calibration error (ECE) and
 * the logistic calibration intercept and slope (Van Calster et al. 2016, "A calibration
 * hierarchy"). Binning matches sklearn 1.2.1 `calibration_curve(strategy="uniform")` exactly.
 */

/** Probabilities are clipped to [LOGIT_EPS, 1 - LOGIT_EPS] before taking logits, so 0 and 1 stay finite (|logit| <= 34.5). */
export const LOGIT_EPS = 1e-15;

export function clippedLogit(p: number): number {
  const q = Math.min(Math.max(p, LOGIT_EPS), 1 - LOGIT_EPS);
  return Math.log(q / (1 - q));
}

/**
 * Bin of p among `bins` equal-width bins on [0, 1], exactly as sklearn 1.2.1 assigns it
 * (`np.searchsorted(np.linspace(0, 1, bins + 1)[1:-1], p)`): bin 0 is [0, e1], bin k is
 * (e_k, e_k+1], where e_k = k * (1 / bins) in floating point (so 0.3 falls in the bin ending at
 * 0.30000000000000004, i.e. bin 2 of 10). A probability on an edge belongs to the bin below.
 */
export function uniformBin(p: number, bins: number): number {
  const step = 1 / bins;
  // Count interior edges strictly below p; start from the arithmetic guess and correct for rounding.
  let k = Math.min(Math.max(Math.ceil(p * bins) - 1, 0), bins - 1);
  while (k > 0 && k * step >= p) k--;
  while (k < bins - 1 && (k + 1) * step < p) k++;
  return k;
}

export interface ReliabilityCurve {
  /** Mean predicted probability in each non-empty bin (sklearn's `prob_pred`). */
  meanPredicted: number[];
  /** Observed event rate in each non-empty bin (sklearn's `prob_true`). */
  observed: number[];
  /** Encounters in each non-empty bin. */
  count: number[];
  /** Each bin's edges, for plotting. */
  binLower: number[];
  binUpper: number[];
}

function checkBins(bins: number): void {
  if (!Number.isInteger(bins) || bins < 1)
    throw new InputError(`bins must be a positive integer, got ${bins}`, { field: "bins" });
}

/**
 * Reliability curve over equal-width bins (empty bins omitted), = sklearn 1.2.1
 * `calibration_curve(y, p, n_bins=bins, strategy="uniform")` plus the bin counts.
 */
export function reliabilityCurve(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  bins = 10,
): ReliabilityCurve {
  checkSameLength(labels, probs, 1, "probabilities");
  checkProbabilities(probs);
  checkBinaryLabels(labels);
  checkBins(bins);
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  const count = new Float64Array(bins);
  for (let i = 0; i < labels.length; i++) {
    const k = uniformBin(probs[i], bins);
    sumP[k] += probs[i];
    sumY[k] += labels[i];
    count[k]++;
  }
  const curve: ReliabilityCurve = { meanPredicted: [], observed: [], count: [], binLower: [], binUpper: [] };
  for (let k = 0; k < bins; k++) {
    if (count[k] === 0) continue;
    curve.meanPredicted.push(sumP[k] / count[k]);
    curve.observed.push(sumY[k] / count[k]);
    curve.count.push(count[k]);
    curve.binLower.push(k / bins);
    curve.binUpper.push((k + 1) / bins);
  }
  return curve;
}

/**
 * Expected calibration error over `bins` equal-width bins (binned as `reliabilityCurve`):
 * ECE = sum over non-empty bins of (n_bin / N) * |observed rate - mean predicted probability|.
 */
export function expectedCalibrationError(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  bins = 10,
): number {
  const curve = reliabilityCurve(labels, probs, bins);
  let ece = 0;
  for (let k = 0; k < curve.count.length; k++) {
    ece += (curve.count[k] / labels.length) * Math.abs(curve.observed[k] - curve.meanPredicted[k]);
  }
  return ece;
}

/**
 * Top-label ECE for multi-class probabilities (Guo et al. 2017): the ECE of confidence = max_c p_c
 * against correctness = [argmax = label], with the same binning.
 */
export function topLabelCalibrationError(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  classes: number,
  bins = 10,
): number {
  checkSameLength(labels, probs, classes, "probabilities");
  checkProbabilities(probs);
  checkClassLabels(labels, classes);
  const confidence = new Float64Array(labels.length);
  const correct = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const top = argmaxRow(probs, i, classes);
    confidence[i] = probs[i * classes + top];
    correct[i] = top === labels[i] ? 1 : 0;
  }
  return expectedCalibrationError(correct, confidence, bins);
}

export interface CalibrationInterceptSlope {
  /**
   * Calibration-in-the-large: a in logit P(y = 1) = a + logit(p) (offset, intercept only). 0 when
   * the average prediction matches the event rate; > 0 means predictions are too low.
   */
  intercept: number;
  /** b in logit P(y = 1) = c + b logit(p). 1 is ideal; < 1 means predictions are too extreme. NaN if the fit diverged (separable data). */
  slope: number;
  /** c of that same slope model (what logistic recalibration applies). NaN if the fit diverged. */
  slopeIntercept: number;
}

/**
 * Calibration intercept and slope by maximum likelihood (Newton-Raphson, src/eval/logistic-fit.ts);
 * probabilities are clipped to [1e-15, 1 - 1e-15] before the logit.
 */
export function calibrationInterceptSlope(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
): CalibrationInterceptSlope {
  checkSameLength(labels, probs, 1, "probabilities");
  checkProbabilities(probs);
  const positives = checkBinaryLabels(labels);
  requireBothClasses(positives, labels.length, "the calibration intercept and slope");
  const lp = Float64Array.from(probs, clippedLogit);
  const inTheLarge = fitInterceptWithOffset(labels, lp);
  const slopeFit = fitLogistic1D(labels, lp);
  return {
    intercept: inTheLarge.converged ? inTheLarge.intercept : Number.NaN,
    slope: slopeFit.converged ? slopeFit.slope : Number.NaN,
    slopeIntercept: slopeFit.converged ? slopeFit.intercept : Number.NaN,
  };
}
