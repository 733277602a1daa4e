import { Matrix, solve } from "ml-matrix";
import { InputError } from "../util/errors.js";
import {
  calibrationInterceptSlope,
  clippedLogit,
  expectedCalibrationError,
  LOGIT_EPS,
  topLabelCalibrationError,
} from "./calibration.js";
import { fitInterceptWithOffset, fitLogistic1D, sigmoid } from "./logistic-fit.js";
import { brierScore, logLoss } from "./metrics.js";
import {
  checkBinaryLabels,
  checkClassLabels,
  checkProbabilities,
  checkSameLength,
  requireBothClasses,
} from "./validate.js";

/**
 * Recalibration at the target site: a model transferred from elsewhere often ranks well but is
 * miscalibrated for the target's case mix. Both methods are fitted on target encounters the model
 * did not train on (its validation split) and applied to the test predictions; ranking (AUROC) is
 * unchanged by either, only calibration moves.
 *
 * Binary (Van Calster et al. 2016, "A calibration hierarchy"):
 * - "intercept": logit p' = logit p + a  (calibration-in-the-large; corrects the event rate);
 * - "logistic":  logit p' = c + b logit p (also corrects over/under-confidence).
 * Multi-class (multinomial; reduces to the binary formulas when C = 2):
 * - "intercept": p'_c ∝ p_c e^{a_c}             (a prior shift; a_0 = 0);
 * - "logistic":  p'_c ∝ p_c^b e^{a_c}           (temperature 1/b plus class shifts).
 * All fitted by maximum likelihood with Newton-Raphson; probabilities clipped to
 * [1e-15, 1 - 1e-15] before logs, as in calibration.ts.
 */

export type RecalibrationMethod = "none" | "intercept" | "logistic";

export interface Recalibration {
  method: RecalibrationMethod;
  classes: number;
  /** Multiplier of logit p (binary) or of log p_c (multi-class); 1 for "intercept" and "none". */
  slope: number;
  /** Binary: [a] added to the logit. Multi-class: shift a_c of log p_c per class, a_0 = 0. */
  intercepts: number[];
  /** False if the likelihood had no finite maximum (e.g. separable data); the last iterate is kept. */
  converged: boolean;
}

const MAX_ITERATIONS = 100;

/** Predictions as P(positive) per encounter for binary tasks, or N x C rows (any C, including 2). */
function isPositiveVector(labels: ArrayLike<number>, probs: ArrayLike<number>, classes: number): boolean {
  return classes === 2 && probs.length === labels.length;
}

export function fitRecalibration(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  method: RecalibrationMethod,
  classes = 2,
): Recalibration {
  if (method === "none")
    return {
      method,
      classes,
      slope: 1,
      intercepts: new Array(classes === 2 ? 1 : classes).fill(0),
      converged: true,
    };
  if (classes === 2) {
    const p = positiveProbabilities(labels, probs, "recalibration probabilities");
    const positives = checkBinaryLabels(labels);
    requireBothClasses(positives, labels.length, "recalibration");
    const lp = Float64Array.from(p, clippedLogit);
    const fit = method === "intercept" ? fitInterceptWithOffset(labels, lp) : fitLogistic1D(labels, lp);
    return { method, classes, slope: fit.slope, intercepts: [fit.intercept], converged: fit.converged };
  }
  checkSameLength(labels, probs, classes, "recalibration probabilities");
  checkProbabilities(probs, "recalibration probabilities");
  const counts = checkClassLabels(labels, classes);
  counts.forEach((count, c) => {
    if (count === 0) {
      throw new InputError(
        `class ${c} has no encounters in the recalibration data, so its shift cannot be estimated`,
        {
          field: "labels",
        },
      );
    }
  });
  return fitMultinomialRecalibration(labels, probs, classes, method);
}

function positiveProbabilities(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  field: string,
): ArrayLike<number> {
  if (probs.length === labels.length) {
    checkProbabilities(probs, field);
    return probs;
  }
  checkSameLength(labels, probs, 2, field);
  checkProbabilities(probs, field);
  const p = new Float64Array(labels.length);
  for (let i = 0; i < p.length; i++) p[i] = probs[2 * i + 1];
  return p;
}

function clippedLog(p: number): number {
  return Math.log(Math.min(Math.max(p, LOGIT_EPS), 1 - LOGIT_EPS));
}

/** Softmax of slope * log p_c + a_c for row i into out. */
function recalibratedRow(
  logp: Float64Array,
  i: number,
  classes: number,
  slope: number,
  a: number[],
  out: Float64Array,
): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < classes; c++) {
    out[c] = slope * logp[i * classes + c] + a[c];
    if (out[c] > max) max = out[c];
  }
  let sum = 0;
  for (let c = 0; c < classes; c++) {
    out[c] = Math.exp(out[c] - max);
    sum += out[c];
  }
  for (let c = 0; c < classes; c++) out[c] /= sum;
}

/**
 * Multinomial maximum likelihood over theta = [slope?, a_1..a_{C-1}] by Newton-Raphson with step
 * halving; C is small (< 10), so ml-matrix's dense solve of the K x K system is all we need.
 * Exported for tests (with C = 2 it must reproduce the binary fit); callers use fitRecalibration.
 */
export function fitMultinomialRecalibration(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  classes: number,
  method: "intercept" | "logistic",
): Recalibration {
  const n = labels.length;
  const logp = Float64Array.from(probs, clippedLog);
  const withSlope = method === "logistic";
  const K = classes - 1 + (withSlope ? 1 : 0);
  let theta = new Array<number>(K).fill(0);
  if (withSlope) theta[0] = 1;
  const unpack = (t: number[]): { slope: number; a: number[] } => {
    const off = withSlope ? 1 : 0;
    return { slope: withSlope ? t[0] : 1, a: [0, ...t.slice(off)] };
  };
  const q = new Float64Array(classes);
  const logLikelihood = (t: number[]): number => {
    const { slope, a } = unpack(t);
    let ll = 0;
    for (let i = 0; i < n; i++) {
      recalibratedRow(logp, i, classes, slope, a, q);
      ll += Math.log(Math.max(q[labels[i]], Number.MIN_VALUE));
    }
    return ll;
  };
  // Feature of class c for encounter i: [log p_ic (if slope), e_c (classes 1..C-1)].
  const phi = new Float64Array(K);
  const feature = (i: number, c: number): Float64Array => {
    phi.fill(0);
    if (withSlope) phi[0] = logp[i * classes + c];
    if (c > 0) phi[(withSlope ? 1 : 0) + c - 1] = 1;
    return phi;
  };
  let ll = logLikelihood(theta);
  for (let iter = 1; iter <= MAX_ITERATIONS; iter++) {
    const { slope, a } = unpack(theta);
    const g = new Float64Array(K);
    const H = new Matrix(K, K);
    const mu = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      recalibratedRow(logp, i, classes, slope, a, q);
      mu.fill(0);
      for (let c = 0; c < classes; c++) {
        const f = feature(i, c);
        const y = labels[i] === c ? 1 : 0;
        for (let j = 0; j < K; j++) {
          mu[j] += q[c] * f[j];
          g[j] += (y - q[c]) * f[j];
          for (let k = 0; k <= j; k++) H.set(j, k, H.get(j, k) + q[c] * f[j] * f[k]);
        }
      }
      for (let j = 0; j < K; j++) for (let k = 0; k <= j; k++) H.set(j, k, H.get(j, k) - mu[j] * mu[k]);
    }
    for (let j = 0; j < K; j++) for (let k = 0; k < j; k++) H.set(k, j, H.get(j, k));
    const step = solve(H, Matrix.columnVector(Array.from(g))).to1DArray();
    let scale = 1;
    let next = theta.map((t, j) => t + step[j]);
    let nextLl = logLikelihood(next);
    for (let h = 0; h < 60 && !(nextLl >= ll); h++) {
      scale /= 2;
      next = theta.map((t, j) => t + scale * step[j]);
      nextLl = logLikelihood(next);
    }
    const moved = Math.max(...step.map((s, j) => Math.abs(scale * s) / (1 + Math.abs(next[j]))));
    theta = next;
    ll = Math.max(ll, nextLl);
    if (!theta.every((t) => Number.isFinite(t) && Math.abs(t) < 1e6)) break;
    if (moved <= 1e-13) {
      const { slope: s, a: shifts } = unpack(theta);
      return { method, classes, slope: s, intercepts: shifts, converged: true };
    }
  }
  const { slope: s, a: shifts } = unpack(theta);
  return { method, classes, slope: s, intercepts: shifts, converged: false };
}

/**
 * Applies a fitted recalibration. Binary: `probs` is P(positive) per encounter (use recalibrateRows
 * for N x 2 rows); multi-class: N x C rows. Returns the same layout.
 */
export function applyRecalibration(rec: Recalibration, probs: ArrayLike<number>): Float64Array {
  checkProbabilities(probs, "probabilities");
  if (rec.method === "none") return Float64Array.from(probs);
  const C = rec.classes;
  if (C === 2) {
    const transform = (p: number): number => sigmoid(rec.intercepts[0] + rec.slope * clippedLogit(p));
    return Float64Array.from(probs, transform);
  }
  if (probs.length % C !== 0) {
    throw new InputError(`has ${probs.length} values, not a multiple of ${C} classes`, {
      field: "probabilities",
    });
  }
  const n = probs.length / C;
  const logp = Float64Array.from(probs, clippedLog);
  const out = new Float64Array(probs.length);
  const row = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    recalibratedRow(logp, i, C, rec.slope, rec.intercepts, row);
    out.set(row, i * C);
  }
  return out;
}

/**
 * Convenience for the experiment runner: fit on (fitLabels, fitProbs), apply to testProbs. All
 * probabilities are N x C rows (C = 2 included); returns N x C rows.
 */
export function recalibrateRows(
  method: RecalibrationMethod,
  fitLabels: ArrayLike<number>,
  fitProbs: ArrayLike<number>,
  testProbs: ArrayLike<number>,
  classes: number,
): Float64Array {
  if (method === "none") return Float64Array.from(testProbs);
  checkSameLength(fitLabels, fitProbs, classes, "recalibration probabilities");
  if (testProbs.length % classes !== 0) {
    throw new InputError(`has ${testProbs.length} values, not a multiple of ${classes} classes`, {
      field: "testProbs",
    });
  }
  if (classes === 2) {
    const rec = fitRecalibration(fitLabels, column(fitProbs, 2, 1), method, 2);
    const p = applyRecalibration(rec, column(testProbs, 2, 1));
    const out = new Float64Array(testProbs.length);
    for (let i = 0; i < p.length; i++) {
      out[2 * i] = 1 - p[i];
      out[2 * i + 1] = p[i];
    }
    return out;
  }
  return applyRecalibration(fitRecalibration(fitLabels, fitProbs, method, classes), testProbs);
}

function column(rows: ArrayLike<number>, width: number, c: number): Float64Array {
  const out = new Float64Array(rows.length / width);
  for (let i = 0; i < out.length; i++) out[i] = rows[i * width + c];
  return out;
}

export interface CalibrationSnapshot {
  /** Binary ECE, or top-label ECE for multi-class (10 equal-width bins). */
  ece: number;
  brier: number;
  logLoss: number;
  /** Binary only; NaN when undefined. */
  calibrationIntercept?: number;
  calibrationSlope?: number;
}

export function calibrationSnapshot(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  classes = 2,
): CalibrationSnapshot {
  if (classes === 2) {
    const p = positiveProbabilities(labels, probs, "probabilities");
    const cal = calibrationInterceptSlope(labels, p);
    return {
      ece: expectedCalibrationError(labels, p),
      brier: brierScore(labels, p),
      logLoss: logLoss(labels, p),
      calibrationIntercept: cal.intercept,
      calibrationSlope: cal.slope,
    };
  }
  return {
    ece: topLabelCalibrationError(labels, probs, classes),
    brier: brierScore(labels, probs, classes),
    logLoss: logLoss(labels, probs, classes),
  };
}

export interface RecalibrationOutcome {
  recalibration: Recalibration;
  /** Recalibrated test probabilities, in the test input's layout. */
  probs: Float64Array;
  before: CalibrationSnapshot;
  after: CalibrationSnapshot;
}

/** Fits on target fit data, applies to the target test set, and reports calibration before and after. */
export function recalibrateAtTarget(input: {
  method: RecalibrationMethod;
  classes?: number;
  fit: { labels: ArrayLike<number>; probs: ArrayLike<number> };
  test: { labels: ArrayLike<number>; probs: ArrayLike<number> };
}): RecalibrationOutcome {
  const classes = input.classes ?? 2;
  const binaryVector = isPositiveVector(input.fit.labels, input.fit.probs, classes);
  const fitProbs = classes === 2 && !binaryVector ? column(input.fit.probs, 2, 1) : input.fit.probs;
  const testProbs =
    classes === 2 && !isPositiveVector(input.test.labels, input.test.probs, classes)
      ? column(input.test.probs, 2, 1)
      : input.test.probs;
  const recalibration = fitRecalibration(input.fit.labels, fitProbs, input.method, classes);
  const probs = applyRecalibration(recalibration, testProbs);
  return {
    recalibration,
    probs,
    before: calibrationSnapshot(input.test.labels, testProbs, classes),
    after: calibrationSnapshot(input.test.labels, probs, classes),
  };
}
