import { z } from "zod";

/**
 * Report settings: the one place that defines every default the report uses. The statistical
 * choices (reference arm, test, adjustment, suppression threshold) are recorded in the report
 * itself so a reader can see how a mark was decided.
 */
export const ReportSettings = z.object({
  /** Report title (HTML <h1>, Markdown heading). */
  title: z.string().min(1).default("ConceptBridge transfer report"),
  /** Scenario every other arm is compared with (paired DeLong on the same test set). */
  referenceScenario: z.string().min(1).default("local"),
  /** Embedding shown as the baseline column (exact-code matching, no language model). */
  baselineEmbedding: z.string().min(1).default("onehot"),
  /** Two-sided significance level of the paired tests. */
  alpha: z.number().gt(0).lt(1).default(0.05),
  /** Multiple-testing adjustment within one table and seed ("holm" controls the family-wise error). */
  adjustment: z.enum(["holm", "none"]).default("holm"),
  /** Counts below this are shown as "<N" (small-cell suppression), and calibration bins with fewer items are dropped. */
  smallCellThreshold: z.number().int().positive().default(11),
  /** Points of the fixed false-positive-rate grid ROC curves are averaged on (privacy: no per-patient steps). */
  rocGridPoints: z.number().int().min(3).max(1001).default(101),
  /** Equal-width probability bins of the reliability curves. */
  calibrationBins: z.number().int().min(2).max(50).default(10),
  /** Decimal places of AUROC values in tables. */
  decimals: z.number().int().min(2).max(6).default(3),
});
export type ReportSettings = z.infer<typeof ReportSettings>;
export type ReportSettingsInput = z.input<typeof ReportSettings>;

export function reportSettings(input: ReportSettingsInput = {}): ReportSettings {
  return ReportSettings.parse(input);
}
