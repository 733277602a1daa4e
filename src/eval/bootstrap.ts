import { z } from "zod";
import { InputError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { auroc, macroAurocOvr } from "./metrics.js";
import { checkBinaryLabels, checkClassLabels, checkFinite, checkSameLength, requireBothClasses } from "./validate.js";

/**
 * Stratified percentile bootstrap. Each resample draws, with replacement, as many encounters of each
 * class as the test set has (so every resample keeps the class mix and every AUROC is defined),
 * from a seeded generator, so the same seed gives the same interval.
 *
 * A resample is represented by how many times each encounter was drawn (`counts`). That lets the
 * AUROC fast path sort the scores once and then compute every resample's AUROC by one O(n) walk over
 * the sorted encounters, weighting each by its count: 10,000 predictions x 2,000 resamples take a
 * fraction of a second instead of 2,000 sorts (bench/cases/eval-bootstrap.ts).
 */

export const BootstrapSettings = z.object({
  /** Resamples; at least 1,000 so the 2.5% and 97.5% percentiles rest on 25+ values each. */
  resamples: z.number().int().min(1000).max(1_000_000).default(2000),
  seed: z.number().int().default(0),
  /** Two-sided confidence level of the percentile interval. */
  level: z.number().gt(0).lt(1).default(0.95),
});
export type BootstrapSettings = z.infer<typeof BootstrapSettings>;
export type BootstrapOptions = z.input<typeof BootstrapSettings>;

export function parseBootstrapSettings(opts: BootstrapOptions = {}): BootstrapSettings {
  const parsed = BootstrapSettings.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`invalid bootstrap settings: ${issue.message}`, { field: `bootstrap.${issue.path.join(".")}` });
  }
  return parsed.data;
}

export interface BootstrapResult {
  /** The metric on the full test set. */
  estimate: number;
  lower: number;
  upper: number;
  level: number;
  /** Resamples requested. */
  resamples: number;
  /** Standard deviation of the resampled values (bootstrap standard error). */
  se: number;
  /** Resamples whose metric was not finite and were left out of the interval (0 for AUROC). */
  failed: number;
}

/** Encounter indices grouped by label value (the bootstrap strata). */
function strataByLabel(labels: ArrayLike<number>): Uint32Array[] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const g = groups.get(labels[i]);
    if (g) g.push(i);
    else groups.set(labels[i], [i]);
  }
  return [...groups.keys()].sort((a, b) => a - b).map((k) => Uint32Array.from(groups.get(k) ?? []));
}

/** Fills counts[i] = times encounter i is drawn in one stratified resample. */
function drawCounts(strata: Uint32Array[], counts: Uint32Array, rng: Rng): void {
  counts.fill(0);
  for (const stratum of strata) {
    const size = stratum.length;
    for (let k = 0; k < size; k++) counts[stratum[rng.int(size)]]++;
  }
}

/** numpy's default ("linear") percentile of sorted values, q in [0, 1]. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Runs the resampling loop: statistic(counts) per resample, then the percentile interval. */
function runBootstrap(
  labels: ArrayLike<number>,
  estimate: number,
  settings: BootstrapSettings,
  statistic: (counts: Uint32Array) => number,
): BootstrapResult {
  const strata = strataByLabel(labels);
  const counts = new Uint32Array(labels.length);
  const rng = new Rng(settings.seed);
  const values: number[] = [];
  let failed = 0;
  for (let r = 0; r < settings.resamples; r++) {
    drawCounts(strata, counts, rng);
    const v = statistic(counts);
    if (Number.isFinite(v)) values.push(v);
    else failed++;
  }
  const sorted = Float64Array.from(values).sort();
  const alpha = 1 - settings.level;
  let mean = 0;
  for (const v of sorted) mean += v;
  mean /= sorted.length;
  let ss = 0;
  for (const v of sorted) ss += (v - mean) ** 2;
  return {
    estimate,
    lower: percentileSorted(sorted, alpha / 2),
    upper: percentileSorted(sorted, 1 - alpha / 2),
    level: settings.level,
    resamples: settings.resamples,
    se: sorted.length > 1 ? Math.sqrt(ss / (sorted.length - 1)) : Number.NaN,
    failed,
  };
}

export interface GenericBootstrapOptions extends BootstrapOptions {
  /** Values per encounter in `scores`: 1 for binary scores, C for N x C probabilities. */
  width?: number;
}

/**
 * Percentile bootstrap CI for any metric(labels, scores). Each resample is materialised as new
 * label and score arrays (row order grouped by encounter, which no metric depends on). Metrics that
 * only need ranks should use the fast AUROC functions below.
 */
export function bootstrapCI(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  metric: (labels: Int32Array, scores: Float64Array) => number,
  opts: GenericBootstrapOptions = {},
): BootstrapResult {
  const { width = 1, ...rest } = opts;
  const settings = parseBootstrapSettings(rest);
  checkSameLength(labels, scores, width);
  const n = labels.length;
  const sampleLabels = new Int32Array(n);
  const sampleScores = new Float64Array(n * width);
  const estimate = metric(Int32Array.from(labels), Float64Array.from(scores));
  return runBootstrap(labels, estimate, settings, (counts) => {
    let k = 0;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < counts[i]; c++, k++) {
        sampleLabels[k] = labels[i];
        for (let j = 0; j < width; j++) sampleScores[k * width + j] = scores[i * width + j];
      }
    }
    return metric(sampleLabels, sampleScores);
  });
}

/**
 * AUROC of a weighted sample in O(n): encounters pre-sorted by score once; for each resample, walk
 * the tie groups from the lowest score up, adding (positives in group) x (negatives below + half
 * the negatives in the group), every encounter weighted by its draw count.
 */
class WeightedAuroc {
  private readonly order: Uint32Array;
  private readonly positive: Uint8Array;
  /** groupEnd[g] = one past the last sorted position of tie group g. */
  private readonly groupEnd: Uint32Array;

  constructor(isPositive: (i: number) => boolean, score: (i: number) => number, n: number) {
    const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => score(a) - score(b));
    this.order = order;
    this.positive = Uint8Array.from(order, (i) => (isPositive(i) ? 1 : 0));
    const ends: number[] = [];
    for (let k = 1; k <= n; k++) if (k === n || score(order[k]) !== score(order[k - 1])) ends.push(k);
    this.groupEnd = Uint32Array.from(ends);
  }

  /** AUROC when encounter i counts counts[i] times; positives x negatives = pairs. */
  compute(counts: Uint32Array, pairs: number): number {
    const { order, positive, groupEnd } = this;
    let numerator = 0;
    let negativesBelow = 0;
    let k = 0;
    for (let g = 0; g < groupEnd.length; g++) {
      const end = groupEnd[g];
      let pos = 0;
      let neg = 0;
      for (; k < end; k++) {
        const w = counts[order[k]];
        if (positive[k] === 1) pos += w;
        else neg += w;
      }
      numerator += pos * (negativesBelow + 0.5 * neg);
      negativesBelow += neg;
    }
    return numerator / pairs;
  }
}

/** Fast stratified bootstrap CI of a binary AUROC (labels 0/1, any real scores). */
export function bootstrapAurocCI(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  opts: BootstrapOptions = {},
): BootstrapResult {
  const settings = parseBootstrapSettings(opts);
  const statistic = binaryStatistic(labels, scores, "scores");
  return runBootstrap(labels, auroc(labels, scores), settings, statistic);
}

function binaryStatistic(labels: ArrayLike<number>, scores: ArrayLike<number>, field: string): (c: Uint32Array) => number {
  checkSameLength(labels, scores, 1, field);
  checkFinite(scores, field);
  const positives = checkBinaryLabels(labels);
  requireBothClasses(positives, labels.length, "AUROC");
  const ranker = new WeightedAuroc(
    (i) => labels[i] === 1,
    (i) => scores[i],
    labels.length,
  );
  // Stratification keeps the class totals of every resample equal to the test set's.
  const pairs = positives * (labels.length - positives);
  return (counts) => ranker.compute(counts, pairs);
}

function macroStatistic(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  classes: number,
  field: string,
): (c: Uint32Array) => number {
  checkSameLength(labels, probs, classes, field);
  checkFinite(probs, field);
  const perClass = checkClassLabels(labels, classes);
  const n = labels.length;
  // Classes absent from the test set (or making up all of it) are left out, as in macroAurocOvr.
  const rankers = perClass.flatMap((count, c) =>
    count === 0 || count === n
      ? []
      : [
          {
            pairs: count * (n - count),
            ranker: new WeightedAuroc(
              (i) => labels[i] === c,
              (i) => probs[i * classes + c],
              n,
            ),
          },
        ],
  );
  if (rankers.length === 0) requireBothClasses(0, n, "macro AUROC");
  return (counts) => {
    let sum = 0;
    for (const r of rankers) sum += r.ranker.compute(counts, r.pairs);
    return sum / rankers.length;
  };
}

/** Fast stratified bootstrap CI of the macro one-vs-rest AUROC (probs N x C row-major). */
export function bootstrapMacroAurocCI(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  classes: number,
  opts: BootstrapOptions = {},
): BootstrapResult {
  const settings = parseBootstrapSettings(opts);
  const statistic = macroStatistic(labels, probs, classes, "probabilities");
  return runBootstrap(labels, macroAurocOvr(labels, probs, classes), settings, statistic);
}

export interface PairedBootstrapResult extends BootstrapResult {
  /**
   * Two-sided bootstrap p-value for "no difference": twice the smaller fraction of resampled
   * differences on either side of 0, capped at 1 (resolution 1 / resamples).
   */
  p: number;
}

/**
 * Paired stratified bootstrap of AUROC(A) - AUROC(B) on the same encounters: both arms are scored
 * on the same resamples. classes = 2 takes P(positive) vectors and compares binary AUROCs; classes
 * > 2 takes N x C probabilities and compares macro one-vs-rest AUROCs (where DeLong does not apply).
 */
export function bootstrapPairedAurocDifference(
  labels: ArrayLike<number>,
  scoresA: ArrayLike<number>,
  scoresB: ArrayLike<number>,
  classes = 2,
  opts: BootstrapOptions = {},
): PairedBootstrapResult {
  const settings = parseBootstrapSettings(opts);
  const binary = classes === 2 && scoresA.length === labels.length;
  const a = binary ? binaryStatistic(labels, scoresA, "scoresA") : macroStatistic(labels, scoresA, classes, "scoresA");
  const b = binary ? binaryStatistic(labels, scoresB, "scoresB") : macroStatistic(labels, scoresB, classes, "scoresB");
  const metric = (s: ArrayLike<number>): number => (binary ? auroc(labels, s) : macroAurocOvr(labels, s, classes));
  let below = 0;
  let above = 0;
  const result = runBootstrap(labels, metric(scoresA) - metric(scoresB), settings, (counts) => {
    const d = a(counts) - b(counts);
    if (d <= 0) below++;
    if (d >= 0) above++;
    return d;
  });
  const p = Math.min(1, (2 * Math.min(below, above)) / settings.resamples);
  return { ...result, p };
}
