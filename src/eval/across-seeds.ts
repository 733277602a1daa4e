/**
 * Spread of a metric across repeated runs (seeds). The sample standard deviation (denominator
 * n - 1, numpy `std(ddof=1)`) describes run-to-run variation of the training procedure; it is not a
 * confidence interval of the test-set metric (that is what DeLong and the bootstrap give).
 */
export interface MeanSd {
  mean: number;
  /** Sample standard deviation (n - 1); NaN for a single value. */
  sd: number;
  n: number;
}

export function meanSd(values: readonly number[]): MeanSd {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, sd: Number.NaN, n: 0 };
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return { mean, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : Number.NaN, n };
}

/** "0.812 ± 0.014 (n = 5)" for tables; digits after the decimal point. */
export function formatMeanSd(s: MeanSd, digits = 3): string {
  if (s.n === 0) return "–";
  if (s.n === 1) return `${s.mean.toFixed(digits)} (n = 1)`;
  return `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)} (n = ${s.n})`;
}
