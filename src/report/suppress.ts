/**
 * Small-cell suppression: counts of people below the threshold (11 by default, the usual
 * disclosure-control rule) are shown as "<11" so a report cannot single out a few patients.
 * Zero is also suppressed: "none had X" is itself a disclosure about everyone in the group.
 */
export function suppressCount(n: number, threshold: number): string {
  return n < threshold ? `<${threshold}` : String(n);
}

/**
 * Suppress a set of category counts that add up to a shown total. When exactly one category is
 * suppressed it could be recovered by subtraction, so the next smallest is suppressed too
 * (secondary suppression). Returns display strings in the input order.
 */
export function suppressCategories(counts: readonly number[], threshold: number): string[] {
  const hidden = counts.map((n) => n < threshold);
  if (hidden.filter(Boolean).length === 1 && counts.length > 1) {
    let next = -1;
    counts.forEach((n, i) => {
      if (!hidden[i] && (next < 0 || n < counts[next])) next = i;
    });
    if (next >= 0) hidden[next] = true;
  }
  return counts.map((n, i) => (hidden[i] ? (n < threshold ? `<${threshold}` : "suppressed") : String(n)));
}

/**
 * suppressCategories with some categories already hidden for another reason (`hidden`): a lone
 * hidden category still takes the next smallest with it. Hidden counts at or above the threshold
 * show as "suppressed".
 */
export function suppressMasked(
  counts: readonly number[],
  hidden: readonly boolean[],
  threshold: number,
): string[] {
  const h = [...hidden];
  if (h.filter(Boolean).length === 1 && counts.length > 1) {
    let next = -1;
    counts.forEach((n, i) => {
      if (!h[i] && (next < 0 || n < counts[next])) next = i;
    });
    if (next >= 0) h[next] = true;
  }
  return counts.map((n, i) => (h[i] ? (n < threshold ? `<${threshold}` : "suppressed") : String(n)));
}

/** Count for machine-readable exports: the number, or the suppression string. */
export function suppressedValue(n: number, threshold: number): number | string {
  return n < threshold ? `<${threshold}` : n;
}

/**
 * Decimals a table's rates and metrics may be published with. A table whose test set has a class
 * below the threshold (its count is shown as "<11") gets coarse numbers: a rate k/n or an AUROC
 * U/(k (n - k)) printed to more decimals than 2/n could be solved back for k. With step
 * 10^-d >= 2/n every published value is consistent with at least two counts. Other tables keep
 * `decimals`.
 */
export function publishedDecimals(
  t: { minClassCount: number | null; testN: [number, number] | null },
  threshold: number,
  decimals: number,
): number {
  if (t.minClassCount === null || t.minClassCount >= threshold) return decimals;
  const n = t.testN?.[0] ?? 0;
  if (n < 4) return 0;
  return Math.max(0, Math.min(decimals, Math.floor(Math.log10(n / 2))));
}

/** x rounded to d decimals (for JSON/CSV of tables published coarsely). */
export function roundTo(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
