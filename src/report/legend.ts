import type { Aggregation } from "./aggregate.js";
import type { ReportSettings } from "./settings.js";

/**
 * "How to read this", generated from what the report actually computed: which tasks (binary,
 * multi-class), which intervals (DeLong, bootstrap, stored), which tests (paired DeLong, paired
 * bootstrap, none and why), whether calibration columns and recalibration appear. A 4-class run is
 * not told about DeLong, a run without tests is not told what ▲ means.
 */
export function reportLegend(agg: Aggregation, settings: ReportSettings): string[] {
  const s = settings;
  const tables = agg.tables;
  const binary = tables.some((t) => t.binary);
  const multi = tables.some((t) => !t.binary);
  const ciMethods = new Set(tables.flatMap((t) => t.arms.flatMap((a) => a.seeds.map((x) => x.ciMethod))));
  const tested = tables.filter((t) => t.testMethod !== "none");
  const testMethods = new Set(tested.map((t) => t.testMethod));
  const seeds = Math.max(1, ...tables.map((t) => t.seeds.length));
  const lines: string[] = [];

  const metric =
    binary && multi
      ? "AUROC (binary tasks) or macro one-vs-rest AUROC (multi-class tasks)"
      : multi
        ? "macro one-vs-rest AUROC (the mean over classes of each class against the rest)"
        : "AUROC";
  const intervals: string[] = [];
  if (ciMethods.has("delong")) intervals.push("DeLong (binary)");
  if (ciMethods.has("stored"))
    intervals.push(
      multi
        ? "stratified bootstrap over test encounters, as stored with each cell"
        : "as stored with each cell",
    );
  lines.push(
    `Cell: ${metric} on the target's test set with its 95% CI (${intervals.join("; ") || "no interval"}).${seeds > 1 ? " Several seeds: the mean AUROC, the mean of the per-seed bounds (test-set uncertainty of one run) and the sd across seeds (training variability)." : ""}`,
  );

  if (tested.length > 0) {
    const how: string[] = [];
    if (testMethods.has("delong")) how.push("paired DeLong on the same test encounters");
    if (testMethods.has("bootstrap"))
      how.push(`paired stratified bootstrap of the macro-AUROC difference (${s.testResamples} resamples)`);
    const adj =
      s.adjustment === "holm"
        ? "Holm-adjusted over the table's arms per seed (recalibrated arms are a family of their own)"
        : "unadjusted";
    lines.push(
      `${s.referenceScenario} (ref): trained on the target site alone, the number transfer has to beat. ▲/▼: significantly higher/lower than ${s.referenceScenario} with the same embedding (else ${s.baselineEmbedding}): ${how.join("; ")}, ${adj}, p < ${s.alpha}, in every seed. ◇ k/n: in only k of n seeds. No mark: not distinguishable from ${s.referenceScenario}.`,
    );
  } else {
    lines.push(
      `${s.referenceScenario} (ref): trained on the target site alone. No arm was tested against it${tables.some((t) => t.smallSample) ? " (too few events in the test sets)" : ""}, so no cell carries a ▲/▼ mark.`,
    );
  }
  const untested = tables.filter((t) => t.smallSample);
  if (untested.length > 0 && tested.length > 0) {
    lines.push(
      `Tables marked “too few events” (fewer than ${s.minTestEvents} events in a class of the test set) carry no marks: their arms cannot be ranked.`,
    );
  }
  if (tables.some((t) => !t.binary) && s.compatibility !== "current") {
    lines.push("Multi-class tables: arms are not tested (reproduction-v1 rules).");
  }
  if (tables.some((t) => t.embeddings.includes(s.baselineEmbedding))) {
    lines.push(
      `${s.baselineEmbedding} (baseline column): codes match only when identical, no language model.`,
    );
  }
  if (tables.some((t) => t.rows.some((r) => r.model === "logistic"))) {
    lines.push(
      "(logistic) rows: logistic regression on the encounter's mean token embedding, the simple baseline the concept CNN has to beat.",
    );
  }
  const recal = tables.some((t) => t.arms.some((a) => a.arm.recalibration !== "none"));
  if (binary) {
    lines.push(
      `Calibration (binary tasks): CITL = calibration-in-the-large (0 ideal; > 0: predictions too low), slope (1 ideal; > 1: too timid, < 1: too extreme), Eavg/E90/Emax = mean, 90th percentile and maximum of |loess-smoothed observed − predicted| (0 ideal), Brier score.${recal ? " Recalibration is fitted on the target's validation data; it leaves AUROC unchanged, so recalibrated arms appear as extra lines of the calibration table, not as AUROC rows." : ""}`,
    );
  } else if (recal) {
    lines.push(
      "Recalibrated arms appear in the calibration table (Brier, top-label ECE), not as AUROC rows.",
    );
  }
  lines.push(
    `Counts of people below ${s.smallCellThreshold} show as “<${s.smallCellThreshold}”; a second count is hidden where the first could be recomputed from a total, and tables with such a count publish coarser numbers. The report holds aggregate numbers only.`,
  );
  return lines;
}
