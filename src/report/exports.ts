import type { MetricSummary } from "../experiment/results.js";
import type { ArmResult, ReportTable, SeedResult } from "./aggregate.js";
import type { ReportContext } from "./context.js";
import { suppressedValue } from "./suppress.js";

/**
 * Machine-readable exports, aggregate numbers only: results.csv (one row per table arm) and
 * summary.json (tables with per-seed metrics and tests, data summary, provenance). Predictions never
 * appear; test-set counts go through small-cell suppression like everywhere else.
 */

const CSV_COLUMNS = [
  "task",
  "source",
  "target",
  "target_size",
  "scenario",
  "model",
  "recalibration",
  "embedding",
  "is_reference",
  "seeds",
  "auroc_mean",
  "auroc_sd",
  "ci_low",
  "ci_high",
  "ci_method",
  "mark",
  "delta_vs_reference",
  "significant_seeds",
  "tested_seeds",
  "max_p_adjusted",
  "test_n",
  "test_positives",
  "auprc_mean",
  "brier_mean",
  "ece_mean",
  "calibration_intercept_mean",
  "calibration_slope_mean",
  "ece_before_recalibration_mean",
  "calibration_slope_before_recalibration_mean",
] as const;

export function resultsCsv(ctx: ReportContext): string {
  const th = ctx.settings.smallCellThreshold;
  const lines = [CSV_COLUMNS.join(",")];
  for (const t of ctx.agg.tables) {
    for (const a of t.arms) {
      const ps = a.seeds.filter((s) => s.comparison).map((s) => s.comparison!.pAdjusted);
      const row: Record<(typeof CSV_COLUMNS)[number], string | number | null> = {
        task: t.key.task,
        source: t.key.source,
        target: t.key.target,
        target_size: t.key.targetSize,
        scenario: a.arm.scenario,
        model: a.arm.model,
        recalibration: a.arm.recalibration,
        embedding: a.arm.embedding,
        is_reference: a.isReference ? "true" : "false",
        seeds: a.seeds.length,
        auroc_mean: num(a.mean),
        auroc_sd: num(a.sd),
        ci_low: num(a.ci?.[0] ?? null),
        ci_high: num(a.ci?.[1] ?? null),
        ci_method: ciMethod(a.seeds),
        mark: a.mark,
        delta_vs_reference: num(a.meanDiff),
        significant_seeds: a.isReference ? null : a.significantSeeds,
        tested_seeds: a.isReference ? null : a.testedSeeds,
        max_p_adjusted: ps.length > 0 ? num(Math.max(...ps)) : null,
        test_n: countText(
          a.seeds.map((s) => s.nTest),
          th,
        ),
        test_positives: countText(
          a.seeds.map((s) => s.nPositive),
          th,
        ),
        auprc_mean: meanMetric(a.seeds, (m) => m.auprc),
        brier_mean: meanMetric(a.seeds, (m) => m.brier),
        ece_mean: meanMetric(a.seeds, (m) => m.ece),
        calibration_intercept_mean: meanMetric(a.seeds, (m) => m.calibrationIntercept),
        calibration_slope_mean: meanMetric(a.seeds, (m) => m.calibrationSlope),
        ece_before_recalibration_mean: meanMetric(a.seeds, (m) => m.ece, true),
        calibration_slope_before_recalibration_mean: meanMetric(a.seeds, (m) => m.calibrationSlope, true),
      };
      lines.push(CSV_COLUMNS.map((c) => csvField(row[c])).join(","));
    }
  }
  return `${lines.join("\n")}\n`;
}

export function summaryJson(ctx: ReportContext): string {
  const th = ctx.settings.smallCellThreshold;
  const summary = {
    format: "conceptbridge-report-summary",
    version: 1,
    title: ctx.settings.title,
    settings: ctx.settings,
    provenance: ctx.provenance,
    tables: ctx.agg.tables.map((t) => tableJson(t, th)),
    failures: ctx.agg.failures,
    sites: ctx.sites,
    figures: ctx.charts.map((c) => ({
      id: c.id,
      kind: c.kind,
      group: c.group,
      title: c.title,
      caption: c.caption,
    })),
  };
  return `${JSON.stringify(summary, null, 2)}\n`;
}

function tableJson(t: ReportTable, th: number) {
  return {
    id: t.id,
    ...t.key,
    direction: t.direction,
    binary: t.binary,
    positiveClass: t.positiveClass,
    testN: t.testN?.map((n) => suppressedValue(n, th)) ?? null,
    testPositives: t.testPositives?.map((n) => suppressedValue(n, th)) ?? null,
    seeds: t.seeds,
    arms: t.arms.map((a) => armJson(a, th)),
  };
}

function armJson(a: ArmResult, th: number) {
  return {
    ...a.arm,
    isReference: a.isReference,
    aurocMean: a.mean,
    aurocSd: a.sd,
    aurocCI: a.ci,
    mark: a.mark,
    meanDiffVsReference: a.meanDiff,
    significantSeeds: a.significantSeeds,
    testedSeeds: a.testedSeeds,
    perSeed: a.seeds.map((s) => ({
      seed: s.seed,
      auroc: s.auroc,
      aurocCI: s.ci,
      ciMethod: s.ciMethod,
      nTest: s.nTest === null ? null : suppressedValue(s.nTest, th),
      nPositive: s.nPositive === null ? null : suppressedValue(s.nPositive, th),
      nTrain: s.nTrain,
      metrics: s.metrics,
      metricsBeforeRecalibration: s.before,
      comparison: s.comparison,
      comparisonNote: s.comparisonNote,
    })),
  };
}

function ciMethod(seeds: SeedResult[]): string {
  return [...new Set(seeds.map((s) => s.ciMethod).filter((m) => m !== null))].join("+");
}

function meanMetric(
  seeds: SeedResult[],
  pick: (m: MetricSummary) => number | undefined,
  before = false,
): string | null {
  const v = seeds
    .map((s) => (before ? s.before : s.metrics))
    .map((m) => (m ? pick(m) : undefined))
    .filter((x): x is number => x !== undefined);
  return v.length > 0 ? num(v.reduce((x, y) => x + y, 0) / v.length) : null;
}

function countText(ns: (number | null)[], th: number): string | null {
  const v = ns.filter((n): n is number => n !== null);
  if (v.length === 0) return null;
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const f = (n: number) => String(suppressedValue(n, th));
  return lo === hi ? f(lo) : `${f(lo)}-${f(hi)}`;
}

function num(x: number | null): string | null {
  return x === null || !Number.isFinite(x) ? null : String(Math.round(x * 1e6) / 1e6);
}

export function csvField(v: string | number | null): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
