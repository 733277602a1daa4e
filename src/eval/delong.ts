import { InputError } from "../util/errors.js";
import { twoSidedCriticalValue, twoSidedP } from "./normal.js";
import { checkBinaryLabels, checkFinite, checkSameLength, requireBothClasses } from "./validate.js";

/**
 * DeLong, DeLong & Clarke-Pearson (1988) variance of the AUROC and the paired test of two AUROCs on
 * the same encounters, computed with the O(n log n) midrank algorithm of Sun & Xu (2014, IEEE SPL
 * 21:1389). Tested against a numpy O(m*n) implementation of the original definition
 * (scripts/sklearn-reference.py).
 */

/** Average 1-based ranks, ties sharing the mean of their positions. */
function midranks(values: Float64Array): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j < n && values[order[j]] === values[order[i]]) j++;
    const mid = 0.5 * (i + j - 1) + 1;
    for (let k = i; k < j; k++) ranks[order[k]] = mid;
    i = j;
  }
  return ranks;
}

interface StructuralComponents {
  auroc: number;
  /** V10: per positive, the fraction of negatives it outranks (ties half). */
  v10: Float64Array;
  /** V01: per negative, the fraction of positives outranking it (ties half). */
  v01: Float64Array;
}

function structuralComponents(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  positives: number,
): StructuralComponents {
  const m = positives;
  const n = labels.length - m;
  const x = new Float64Array(m);
  const y = new Float64Array(n);
  const z = new Float64Array(m + n);
  let ip = 0;
  let ineg = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) x[ip++] = scores[i];
    else y[ineg++] = scores[i];
  }
  z.set(x, 0);
  z.set(y, m);
  const tx = midranks(x);
  const ty = midranks(y);
  const tz = midranks(z);
  const v10 = new Float64Array(m);
  const v01 = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    v10[i] = (tz[i] - tx[i]) / n;
    sum += v10[i];
  }
  for (let j = 0; j < n; j++) v01[j] = 1 - (tz[m + j] - ty[j]) / m;
  return { auroc: sum / m, v10, v01 };
}

/** Sample covariance (denominator k - 1) of two equally long vectors. */
function covariance(a: Float64Array, b: Float64Array): number {
  const k = a.length;
  if (k < 2) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < k; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= k;
  mb /= k;
  let s = 0;
  for (let i = 0; i < k; i++) s += (a[i] - ma) * (b[i] - mb);
  return s / (k - 1);
}

function validated(labels: ArrayLike<number>, scores: ArrayLike<number>, field: string): number {
  checkSameLength(labels, scores, 1, field);
  checkFinite(scores, field);
  const positives = checkBinaryLabels(labels);
  requireBothClasses(positives, labels.length, "DeLong's AUROC variance");
  return positives;
}

function checkLevel(level: number): void {
  if (!(level > 0 && level < 1))
    throw new InputError(`confidence level must lie in (0, 1), got ${level}`, { field: "level" });
}

export interface DelongOptions {
  /**
   * "logit" (default): the interval is computed for logit(AUROC) with the delta-method standard
   * error se / (A (1 - A)) and transformed back, so it stays inside (0, 1) and is asymmetric near
   * 1, where AUROCs of good clinical models live and the plain interval would be cut off at 1.
   * "plain": A +/- z se clipped to [0, 1], as pROC's `ci.auc` reports.
   */
  transform?: "logit" | "plain";
}

export interface DelongInterval {
  auroc: number;
  variance: number;
  se: number;
  ci: [number, number];
  level: number;
  transform: "logit" | "plain";
}

/** AUROC with DeLong's variance and a confidence interval (default 95%, logit-transformed). */
export function delongCI(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  level = 0.95,
  opts: DelongOptions = {},
): DelongInterval {
  checkLevel(level);
  const positives = validated(labels, scores, "scores");
  const s = structuralComponents(labels, scores, positives);
  const variance = covariance(s.v10, s.v10) / s.v10.length + covariance(s.v01, s.v01) / s.v01.length;
  const se = Math.sqrt(variance);
  const z = twoSidedCriticalValue(level);
  const transform = opts.transform ?? "logit";
  const a = s.auroc;
  let ci: [number, number];
  if (transform === "plain") {
    ci = [Math.max(0, a - z * se), Math.min(1, a + z * se)];
  } else if (a <= 0 || a >= 1 || se === 0) {
    // A perfect (or perfectly wrong) ranking has zero DeLong variance: the interval is the point.
    ci = [a, a];
  } else {
    const centre = Math.log(a / (1 - a));
    const halfWidth = (z * se) / (a * (1 - a));
    const expit = (t: number): number => 1 / (1 + Math.exp(-t));
    ci = [expit(centre - halfWidth), expit(centre + halfWidth)];
  }
  return { auroc: a, variance, se, ci, level, transform };
}

export interface DelongPairedTest {
  aurocA: number;
  aurocB: number;
  /** aurocA - aurocB. */
  diff: number;
  /** Standard error of the difference (accounts for the correlation of the two arms). */
  se: number;
  z: number;
  /** Two-sided p-value for H0: equal AUROCs. */
  p: number;
  /** Plain (untransformed) confidence interval of the difference. */
  ci: [number, number];
  level: number;
}

/**
 * Paired DeLong test of two score vectors for the same encounters (same labels, same order).
 * Identical rankings give se = 0: then z = 0 and p = 1 when the AUROCs are equal.
 */
export function delongPairedTest(
  labels: ArrayLike<number>,
  scoresA: ArrayLike<number>,
  scoresB: ArrayLike<number>,
  level = 0.95,
): DelongPairedTest {
  checkLevel(level);
  const positives = validated(labels, scoresA, "scoresA");
  validated(labels, scoresB, "scoresB");
  const a = structuralComponents(labels, scoresA, positives);
  const b = structuralComponents(labels, scoresB, positives);
  const m = a.v10.length;
  const n = a.v01.length;
  const varA = covariance(a.v10, a.v10) / m + covariance(a.v01, a.v01) / n;
  const varB = covariance(b.v10, b.v10) / m + covariance(b.v01, b.v01) / n;
  const cov = covariance(a.v10, b.v10) / m + covariance(a.v01, b.v01) / n;
  const diff = a.auroc - b.auroc;
  const se = Math.sqrt(Math.max(0, varA + varB - 2 * cov));
  let z: number;
  if (se > 0) z = diff / se;
  else z = diff === 0 ? 0 : Math.sign(diff) * Number.POSITIVE_INFINITY;
  const crit = twoSidedCriticalValue(level);
  return {
    aurocA: a.auroc,
    aurocB: b.auroc,
    diff,
    se,
    z,
    p: twoSidedP(z),
    ci: [diff - crit * se, diff + crit * se],
    level,
  };
}
