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
  /**
   * A table whose test set has fewer events than this (binary: positives or negatives; multi-class:
   * members of any class) gets no significance marks and a warning: too few to rank arms.
   */
  minTestEvents: z.number().int().min(0).default(10),
  /**
   * Resamples of the paired bootstrap that tests multi-class arms (macro AUROC has no DeLong test).
   * 1000 (25 values beyond each 2.5% tail; p-value resolution 0.001, below the smallest Holm
   * threshold of a 40-arm table): each comparison costs about 0.25 s on 10,000 4-class encounters.
   */
  testResamples: z.number().int().min(1000).max(100_000).default(1000),
  /**
   * "reproduction-v1" keeps the tables exactly as the committed reproduction documents
   * (docs/results) were written: no paired tests for multi-class tasks, no small-sample rule, and the
   * old data summary (a site without a test split shows its pool as "suppressed"). Everything else
   * ("current") gets the rules above.
   */
  compatibility: z.enum(["current", "reproduction-v1"]).default("current"),
});
export type ReportSettings = z.infer<typeof ReportSettings>;
export type ReportSettingsInput = z.input<typeof ReportSettings>;

export function reportSettings(input: ReportSettingsInput = {}): ReportSettings {
  return ReportSettings.parse(input);
}
