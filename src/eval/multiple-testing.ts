import { InputError } from "../util/errors.js";

/**
 * Holm's (1979) step-down adjustment: controls the family-wise error rate of several comparisons
 * (e.g. every arm against the local model) without assuming they are independent, and is never less
 * powerful than Bonferroni. Six lines, so no library. Adjusted p-values come back in input order:
 * p_(k) * (m - k + 1) for the k-th smallest, made non-decreasing and capped at 1 (as R's
 * `p.adjust(method = "holm")`); an arm differs significantly at level alpha when adjusted p < alpha.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  pValues.forEach((p, i) => {
    if (!(p >= 0 && p <= 1))
      throw new InputError(`p-value ${i} is ${p}; must lie in [0, 1]`, { field: "pValues" });
  });
  // Stable order so equal p-values keep their input order (numpy mergesort in the reference script).
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
