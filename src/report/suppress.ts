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

/** Count for machine-readable exports: the number, or the suppression string. */
export function suppressedValue(n: number, threshold: number): number | string {
  return n < threshold ? `<${threshold}` : n;
}
