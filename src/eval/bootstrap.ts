import { z } from "zod";
import { parseInput } from "../util/parse-input.js";
import { Rng } from "../util/rng.js";
import { auroc, macroAurocOvr } from "./metrics.js";
import {
  checkBinaryLabels,
  checkClassLabels,
  checkFinite,
  checkSameLength,
  requireBothClasses,
} from "./validate.js";

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
  resamples: z
    .number()
    .int()
    .min(
      1000,
      "at least 1000 resamples: the 2.5% and 97.5% percentiles of a 95% interval must each rest on 25 or more resampled values",
    )
    .max(1_000_000, "more than 1,000,000 resamples add time, not precision")
    .default(2000),
  seed: z.number().int().default(0),
  /** Two-sided confidence level of the percentile interval. */
  level: z.number().gt(0).lt(1).default(0.95),
});
export type BootstrapSettings = z.infer<typeof BootstrapSettings>;
export type BootstrapOptions = z.input<typeof BootstrapSettings>;

export function parseBootstrapSettings(opts: BootstrapOptions = {}): BootstrapSettings {
  return parseInput(BootstrapSettings, opts, { field: "bootstrap", what: "bootstrap settings" });
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

/**
 * Uniform 32-bit words for resampling. This is xoshiro128** exactly as src/util/rng.ts, seeded from
 * four words of that generator, but run over local variables in one tight loop: drawing 20 million
 * indices through Rng's method calls costs 2-3x more, which alone would break the 2 s budget for
 * 10,000 x 2,000. Reproducibility is unchanged (same seed, same stream).
 */
class WordStream {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(rng: Rng) {
    this.a = rng.nextU32();
    this.b = rng.nextU32();
    this.c = rng.nextU32();
    this.d = rng.nextU32();
  }

  fill(out: Uint32Array): void {
    let { a, b, c, d } = this;
    for (let i = 0; i < out.length; i++) {
      const b5 = Math.imul(b, 5);
      out[i] = Math.imul((b5 << 7) | (b5 >>> 25), 9);
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = (d << 11) | (d >>> 21);
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }
}

/**
 * Fills counts[slot] = times that slot is drawn in one stratified resample: each stratum draws as
 * many slots as it holds, uniformly with replacement. A word w maps to floor(w * size / 2^32), whose
 * deviation from uniform is below size / 2^32 (2e-6 for 10,000), far under bootstrap noise.
 */
function drawCounts(
  strata: Uint32Array[],
  counts: Uint32Array,
  words: Uint32Array,
  stream: WordStream,
): void {
  counts.fill(0);
  stream.fill(words);
  let w = 0;
  for (const stratum of strata) {
    const size = stratum.length;
    const scale = size / 4294967296;
    for (let k = 0; k < size; k++) counts[stratum[(words[w++] * scale) | 0]]++;
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

/**
 * Runs the resampling loop: statistic(counts) per resample, then the percentile interval. `strata`
 * hold slots (encounter indices, or positions in some fixed order the statistic prefers), so
 * counts[slot] is how often that encounter was drawn.
 */
function runBootstrap(
  strata: Uint32Array[],
  estimate: number,
  settings: BootstrapSettings,
  statistic: (counts: Uint32Array) => number,
): BootstrapResult {
  let slots = 0;
  for (const stratum of strata) slots += stratum.length;
  const counts = new Uint32Array(slots);
  const words = new Uint32Array(slots);
  const stream = new WordStream(new Rng(settings.seed));
  const values: number[] = [];
  let failed = 0;
  for (let r = 0; r < settings.resamples; r++) {
    drawCounts(strata, counts, words, stream);
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
 * label and score arrays (row order grouped by encounter, which no metric depends on); the two
 * arrays are reused from one resample to the next, so `metric` must not keep them. AUROCs should
 * use the fast functions below.
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
  return runBootstrap(strataByLabel(labels), estimate, settings, (counts) => {
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
 * the negatives in the group), every encounter weighted by how often it was drawn.
 */
class WeightedAuroc {
  /** order[k] = encounter at sorted position k. */
  readonly order: Uint32Array;
  /** position[i] = sorted position of encounter i. */
  readonly position: Uint32Array;
  /** 1 for a positive at sorted position k, else 0 (a float, so the walks multiply instead of branch). */
  private readonly positive: Float64Array;
  /** First and one-past-last sorted position of the tie group of position k; null without ties. */
  private readonly groupStart: Uint32Array | null;
  private readonly groupEnd: Uint32Array | null;
  /** Scratch: negatives drawn below each sorted position (prefix sums), for tied scores. */
  private readonly below: Float64Array;

  constructor(isPositive: (i: number) => boolean, score: (i: number) => number, n: number) {
    const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => score(a) - score(b));
    this.order = order;
    this.position = new Uint32Array(n);
    for (let k = 0; k < n; k++) this.position[order[k]] = k;
    this.positive = Float64Array.from(order, (i) => (isPositive(i) ? 1 : 0));
    let ties = false;
    for (let k = 1; k < n && !ties; k++) ties = score(order[k]) === score(order[k - 1]);
    this.groupStart = ties ? new Uint32Array(n) : null;
    this.groupEnd = ties ? new Uint32Array(n) : null;
    if (ties) {
      let start = 0;
      for (let k = 1; k <= n; k++) {
        if (k < n && score(order[k]) === score(order[k - 1])) continue;
        for (let j = start; j < k; j++) {
          this.groupStart![j] = start;
          this.groupEnd![j] = k;
        }
        start = k;
      }
    }
    this.below = new Float64Array(ties ? n + 1 : 0);
  }

  /** AUROC when the encounter at sorted position k was drawn counts[k] times; pairs = positives x negatives. */
  computeBySortedPosition(counts: Uint32Array, pairs: number): number {
    return this.walk(counts, null, pairs);
  }

  /** The same with counts indexed by encounter (when several rankings share one resample). */
  computeByEncounter(counts: Uint32Array, pairs: number): number {
    return this.walk(counts, this.order, pairs);
  }

  /**
   * Each positive adds its count x (negatives drawn below it + half those tied with it). Without
   * ties one branch-free pass (the label decides by multiplication: a data-dependent branch
   * mispredicts on every other encounter); with ties a first pass of prefix sums of negatives,
   * then each positive reads its tie group's bounds.
   */
  private walk(counts: Uint32Array, order: Uint32Array | null, pairs: number): number {
    const { positive, groupStart, groupEnd, below } = this;
    const n = positive.length;
    let numerator = 0;
    if (groupStart === null || groupEnd === null) {
      let negatives = 0;
      for (let k = 0; k < n; k++) {
        const c = counts[order ? order[k] : k];
        const p = positive[k];
        numerator += p * c * negatives;
        negatives += c - p * c;
      }
      return numerator / pairs;
    }
    below[0] = 0;
    for (let k = 0; k < n; k++) {
      const c = counts[order ? order[k] : k];
      below[k + 1] = below[k] + c - positive[k] * c;
    }
    for (let k = 0; k < n; k++) {
      const c = counts[order ? order[k] : k];
      numerator += positive[k] * c * 0.5 * (below[groupStart[k]] + below[groupEnd[k]]);
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
  const ranker = binaryRanker(labels, scores, "scores");
  // Slots are sorted positions, so each resample's walk reads its counts sequentially; the strata
  // list the same encounters in the same order as strataByLabel, so the resamples are the very
  // ones the generic bootstrapCI draws with the same seed.
  const strata = strataByLabel(labels).map((stratum) => stratum.map((i) => ranker.position[i]));
  return runBootstrap(strata, auroc(labels, scores), settings, (counts) =>
    ranker.computeBySortedPosition(counts, ranker.pairs),
  );
}

function binaryRanker(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  field: string,
): WeightedAuroc & { pairs: number } {
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
  return Object.assign(ranker, { pairs: positives * (labels.length - positives) });
}

function binaryStatistic(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  field: string,
): (c: Uint32Array) => number {
  const ranker = binaryRanker(labels, scores, field);
  return (counts) => ranker.computeByEncounter(counts, ranker.pairs);
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
    for (const r of rankers) sum += r.ranker.computeByEncounter(counts, r.pairs);
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
  return runBootstrap(strataByLabel(labels), macroAurocOvr(labels, probs, classes), settings, statistic);
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
  const a = binary
    ? binaryStatistic(labels, scoresA, "scoresA")
    : macroStatistic(labels, scoresA, classes, "scoresA");
  const b = binary
    ? binaryStatistic(labels, scoresB, "scoresB")
    : macroStatistic(labels, scoresB, classes, "scoresB");
  // Two arms sort differently, so counts are indexed by encounter here.
  const metric = (s: ArrayLike<number>): number =>
    binary ? auroc(labels, s) : macroAurocOvr(labels, s, classes);
  let below = 0;
  let above = 0;
  const result = runBootstrap(
    strataByLabel(labels),
    metric(scoresA) - metric(scoresB),
    settings,
    (counts) => {
      const d = a(counts) - b(counts);
      if (d <= 0) below++;
      if (d >= 0) above++;
      return d;
    },
  );
  const p = Math.min(1, (2 * Math.min(below, above)) / settings.resamples);
  return { ...result, p };
}

export interface PairedComparison {
  /** metric(arm) - metric(reference) on the full test set. */
  diff: number;
  lower: number;
  upper: number;
  /** Two-sided bootstrap p-value, as bootstrapPairedAurocDifference. */
  p: number;
  se: number;
}

/**
 * Paired stratified bootstrap of several arms against one reference on the same encounters: every
 * arm and the reference are scored on the same resamples (so one resample stream serves all the
 * comparisons of a table, and the reference's AUROC is computed once per resample). classes = 2
 * takes P(positive) vectors (binary AUROC); classes > 2 takes N x C rows (macro one-vs-rest AUROC).
 * With one arm it gives exactly bootstrapPairedAurocDifference's interval and p for the same seed.
 */
export function bootstrapPairedVersusReference(
  labels: ArrayLike<number>,
  reference: ArrayLike<number>,
  arms: readonly ArrayLike<number>[],
  classes = 2,
  opts: BootstrapOptions = {},
): PairedComparison[] {
  const settings = parseBootstrapSettings(opts);
  const binary = classes === 2 && reference.length === labels.length;
  const statistic = (s: ArrayLike<number>, field: string) =>
    binary ? binaryStatistic(labels, s, field) : macroStatistic(labels, s, classes, field);
  const metric = (s: ArrayLike<number>): number =>
    binary ? auroc(labels, s) : macroAurocOvr(labels, s, classes);
  const ref = statistic(reference, "reference");
  const stats = arms.map((a, i) => statistic(a, `arms.${i}`));
  const refEstimate = metric(reference);
  const estimates = arms.map((a) => metric(a) - refEstimate);
  const strata = strataByLabel(labels);
  let slots = 0;
  for (const s of strata) slots += s.length;
  const counts = new Uint32Array(slots);
  const words = new Uint32Array(slots);
  const stream = new WordStream(new Rng(settings.seed));
  const values = arms.map(() => new Float64Array(settings.resamples));
  const below = new Float64Array(arms.length);
  const above = new Float64Array(arms.length);
  for (let r = 0; r < settings.resamples; r++) {
    drawCounts(strata, counts, words, stream);
    const base = ref(counts);
    for (let j = 0; j < stats.length; j++) {
      const d = stats[j](counts) - base;
      values[j][r] = d;
      if (d <= 0) below[j]++;
      if (d >= 0) above[j]++;
    }
  }
  const alpha = 1 - settings.level;
  return values.map((v, j) => {
    const sorted = v.sort();
    let mean = 0;
    for (const x of sorted) mean += x;
    mean /= sorted.length;
    let ss = 0;
    for (const x of sorted) ss += (x - mean) ** 2;
    return {
      diff: estimates[j],
      lower: percentileSorted(sorted, alpha / 2),
      upper: percentileSorted(sorted, 1 - alpha / 2),
      p: Math.min(1, (2 * Math.min(below[j], above[j])) / settings.resamples),
      se: sorted.length > 1 ? Math.sqrt(ss / (sorted.length - 1)) : Number.NaN,
    };
  });
}
