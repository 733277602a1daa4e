import { MIN_REPORTED_COUNT, type ReportedCount } from "./schema.js";

/**
 * Small-cell rule for every count a bundle states: 1-10 (and 0, which says as much about a rare
 * group) become "<11"; larger counts are rounded UP to a multiple of 10 so that differences between
 * two published bundles cannot single out a handful of encounters. Rounding up keeps every stated
 * count at or above the threshold.
 */
export function reportedCount(n: number): ReportedCount {
  if (!Number.isFinite(n) || n < 0) throw new Error(`reportedCount: not a count: ${n}`);
  if (n < MIN_REPORTED_COUNT) return "<11";
  return Math.ceil(n / 10) * 10;
}
