/**
 * Holm's step-down adjustment of p-values (controls the family-wise error rate without assuming
 * independence). Written here because no installed library offers it and it is six lines; the
 * tests themselves (paired DeLong) come from src/eval.
 * Returns adjusted p-values in the input order: p_(i) * (m - i + 1), made monotone, capped at 1.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, p * (m - rank)));
    adjusted[i] = running;
  });
  return adjusted;
}

/** Adjust per the report setting: "none" returns the p-values unchanged. */
export function adjustPValues(pValues: readonly number[], method: "holm" | "none"): number[] {
  return method === "holm" ? holmAdjust(pValues) : [...pValues];
}
