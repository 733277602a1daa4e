import { InputError } from "../util/errors.js";
import { calibrationInterceptSlope, uniformBin } from "./calibration.js";
import { brierScore } from "./metrics.js";
import { twoSidedCriticalValue } from "./normal.js";
import { checkBinaryLabels, checkProbabilities, checkSameLength, requireBothClasses } from "./validate.js";

/**
 * Calibration as the field reports it (Van Calster et al. 2016; Austin & Steyerberg 2019, "The
 * Integrated Calibration Index (ICI) and related metrics"; what OHDSI PatientLevelPrediction and
 * TRIPOD+AI ask for): calibration-in-the-large and slope (calibration.ts), the smoothed
 * calibration curve by loess and the absolute differences between it and the predictions
 * (Eavg = ICI, E50, E90, Emax), the Brier score, and binned observed rates with Wilson intervals.
 */

export interface LoessOptions {
  /** Fraction of the points in each local fit (R loess default 0.75). */
  span?: number;
  /** Local polynomial degree, 1 or 2 (R loess default 2). */
  degree?: 1 | 2;
}

/**
 * loess(y ~ x) without robustness iterations (R's `loess(family = "gaussian")`, computed directly
 * at each requested point, R's `surface = "direct"`): at x0 the q = floor(n span) nearest points are
 * weighted by the tricube of their distance over the q-th distance, and a weighted least-squares
 * polynomial of `degree` is evaluated at x0. O(q) per point over x sorted once.
 */
export function loessAt(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  at: ArrayLike<number>,
  opts: LoessOptions = {},
): Float64Array {
  const n = x.length;
  if (y.length !== n) throw new InputError(`loess: ${n} x values but ${y.length} y values`);
  const span = opts.span ?? 0.75;
  const degree = opts.degree ?? 2;
  if (!(span > 0 && span <= 1)) throw new InputError(`loess span must lie in (0, 1], got ${span}`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const xs = Float64Array.from(order, (i) => x[i]);
  const ys = Float64Array.from(order, (i) => y[i]);
  const q = Math.max(degree + 1, Math.min(n, Math.floor(n * span)));
  const out = new Float64Array(at.length);
  let lo = 0;
  const atOrder = Array.from({ length: at.length }, (_, i) => i).sort((a, b) => at[a] - at[b]);
  for (const k of atOrder) {
    const x0 = at[k];
    // Slide the window of q nearest points (x sorted, so it is contiguous) to x0.
    while (lo + q < n && x0 - xs[lo] > xs[lo + q] - x0) lo++;
    while (lo > 0 && xs[lo + q - 1] - x0 > x0 - xs[lo - 1]) lo--;
    const hi = lo + q;
    let dmax = Math.max(x0 - xs[lo], xs[hi - 1] - x0);
    if (dmax <= 0) dmax = 1;
    // Weighted moments about x0 (centering keeps the 3x3 system well conditioned).
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let t0 = 0;
    let t1 = 0;
    let t2 = 0;
    for (let i = lo; i < hi; i++) {
      const d = xs[i] - x0;
      const u = Math.abs(d) / dmax;
      const w = u >= 1 ? 0 : (1 - u * u * u) ** 3;
      if (w === 0) continue;
      const wd = w * d;
      const wd2 = wd * d;
      s0 += w;
      s1 += wd;
      s2 += wd2;
      s3 += wd2 * d;
      s4 += wd2 * d * d;
      t0 += w * ys[i];
      t1 += wd * ys[i];
      t2 += wd2 * ys[i];
    }
    out[k] = localFit(degree, s0, s1, s2, s3, s4, t0, t1, t2);
  }
  return out;
}

/** Intercept of the local weighted fit (the value at x0); falls back to lower degrees when singular. */
function localFit(
  degree: 1 | 2,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
  s4: number,
  t0: number,
  t1: number,
  t2: number,
): number {
  if (s0 <= 0) return Number.NaN;
  const eps = 1e-12;
  if (degree === 2) {
    // Cramer's rule on [[s0 s1 s2][s1 s2 s3][s2 s3 s4]] b = [t0 t1 t2], b0 only.
    const det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2);
    const scale = Math.abs(s0 * s2 * s4) + Math.abs(s1 * s1 * s4) + Math.abs(s2 * s2 * s2) + eps;
    if (Math.abs(det) > eps * scale) {
      const num = t0 * (s2 * s4 - s3 * s3) - s1 * (t1 * s4 - s3 * t2) + s2 * (t1 * s3 - s2 * t2);
      return num / det;
    }
  }
  const det1 = s0 * s2 - s1 * s1;
  if (Math.abs(det1) > eps * (Math.abs(s0 * s2) + eps)) return (t0 * s2 - s1 * t1) / det1;
  return t0 / s0;
}

export interface CalibrationErrors {
  /** Mean |smoothed observed - predicted| over the predictions (the ICI). */
  eavg: number;
  e50: number;
  e90: number;
  emax: number;
}

/**
 * Eavg (ICI), E50, E90 and Emax of Austin & Steyerberg (2019): the distribution over encounters of
 * |loess(y ~ p)(p_i) - p_i|. The loess curve is computed directly at up to `gridPoints` predicted
 * values spread evenly over the sorted predictions (every prediction when there are fewer) and
 * linearly interpolated between them, which keeps 10,000 predictions at a few milliseconds.
 */
export function calibrationErrors(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  opts: LoessOptions & { gridPoints?: number } = {},
): CalibrationErrors {
  checkSameLength(labels, probs, 1, "probabilities");
  checkProbabilities(probs);
  checkBinaryLabels(labels);
  const n = labels.length;
  if (n < 3)
    throw new InputError("calibration errors need at least 3 predictions", { field: "probabilities" });
  const sorted = Float64Array.from(probs).sort();
  const g = Math.min(n, opts.gridPoints ?? 200);
  const grid: number[] = [];
  for (let k = 0; k < g; k++) {
    const v = sorted[Math.round((k * (n - 1)) / Math.max(1, g - 1))];
    if (grid.length === 0 || v > grid[grid.length - 1]) grid.push(v);
  }
  const fitted = loessAt(probs, labels, grid, opts);
  const smooth = (p: number): number => {
    if (grid.length === 1) return fitted[0];
    let lo = 0;
    let hi = grid.length - 1;
    if (p <= grid[0]) return fitted[0];
    if (p >= grid[hi]) return fitted[hi];
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (grid[mid] <= p) lo = mid;
      else hi = mid;
    }
    const t = (p - grid[lo]) / (grid[hi] - grid[lo]);
    return fitted[lo] + t * (fitted[hi] - fitted[lo]);
  };
  const diff = new Float64Array(n);
  for (let i = 0; i < n; i++) diff[i] = Math.abs(smooth(probs[i]) - probs[i]);
  const d = diff.sort();
  let sum = 0;
  for (const v of d) sum += v;
  return { eavg: sum / n, e50: quantile(d, 0.5), e90: quantile(d, 0.9), emax: d[n - 1] };
}

/** R's default (type 7) quantile of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export interface CalibrationReport extends CalibrationErrors {
  /** Calibration-in-the-large: intercept a of logit P(y) = a + logit(p) (0 ideal). NaN if it diverged. */
  citl: number;
  /** Calibration slope b of logit P(y) = c + b logit(p) (1 ideal). NaN if it diverged. */
  slope: number;
  brier: number;
  /** Mean predicted probability and observed event rate. */
  meanPredicted: number;
  observedRate: number;
}

/** Every calibration figure of one set of binary predictions (both classes must occur). */
export function calibrationReport(labels: ArrayLike<number>, probs: ArrayLike<number>): CalibrationReport {
  const positives = checkBinaryLabels(labels);
  requireBothClasses(positives, labels.length, "calibration");
  const cal = calibrationInterceptSlope(labels, probs);
  let mp = 0;
  for (let i = 0; i < probs.length; i++) mp += probs[i];
  return {
    citl: cal.intercept,
    slope: cal.slope,
    ...calibrationErrors(labels, probs),
    brier: brierScore(labels, probs),
    meanPredicted: mp / probs.length,
    observedRate: positives / labels.length,
  };
}

/** Wilson score interval of a binomial proportion k / n. */
export function wilsonInterval(k: number, n: number, level = 0.95): [number, number] {
  if (!(n > 0) || k < 0 || k > n) throw new InputError(`wilson: need 0 <= k <= n and n > 0, got ${k}/${n}`);
  const z = twoSidedCriticalValue(level);
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface BinCounts {
  /** Bin edges [lower, upper] on the probability scale. */
  lower: number;
  upper: number;
  n: number;
  events: number;
  sumPredicted: number;
}

/**
 * Equal-width bins (binned as reliabilityCurve) whose adjacent bins are merged until each holds at
 * least `minEvents` events and `minNonEvents` non-events (privacy: a published rate of a small bin
 * gives its count back; statistics: a rate of 2 events has no useful interval). A last bin that
 * stays short is merged into its neighbour; when the whole set is short the result is empty.
 */
export function mergedBins(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  bins: number,
  minEvents: number,
  minNonEvents: number,
): BinCounts[] {
  checkSameLength(labels, probs, 1, "probabilities");
  checkProbabilities(probs);
  checkBinaryLabels(labels);
  const raw: BinCounts[] = Array.from({ length: bins }, (_, k) => ({
    lower: k / bins,
    upper: (k + 1) / bins,
    n: 0,
    events: 0,
    sumPredicted: 0,
  }));
  for (let i = 0; i < labels.length; i++) {
    const b = raw[uniformBin(probs[i], bins)];
    b.n++;
    b.events += labels[i];
    b.sumPredicted += probs[i];
  }
  const ok = (b: BinCounts) => b.events >= minEvents && b.n - b.events >= minNonEvents;
  const out: BinCounts[] = [];
  let cur: BinCounts | null = null;
  for (const b of raw) {
    if (b.n === 0) continue;
    cur = cur ? merge(cur, b) : { ...b };
    if (ok(cur)) {
      out.push(cur);
      cur = null;
    }
  }
  if (cur) {
    if (out.length > 0) out[out.length - 1] = merge(out[out.length - 1], cur);
    else return ok(cur) ? [cur] : [];
  }
  return out.filter(ok);
}

function merge(a: BinCounts, b: BinCounts): BinCounts {
  return {
    lower: Math.min(a.lower, b.lower),
    upper: Math.max(a.upper, b.upper),
    n: a.n + b.n,
    events: a.events + b.events,
    sumPredicted: a.sumPredicted + b.sumPredicted,
  };
}
