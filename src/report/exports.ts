import type { MetricSummary } from "../experiment/results.js";
import type { ArmResult, ReportTable, SeedResult } from "./aggregate.js";
import type { CalibrationTable } from "./calibration-view.js";
import type { ReportContext } from "./context.js";
import { recommendationJson } from "./recommendation.js";
import { publishedDecimals, roundTo, suppressedValue } from "./suppress.js";

/**
 * Machine-readable exports, aggregate numbers only: results.csv (one row per table arm) and
 * summary.json (tables with per-seed metrics and tests, data summary, provenance). Predictions never
 * appear; test-set counts go through small-cell suppression like everywhere else, and every number of
 * a table whose test set has a class below the threshold is rounded to the coarse precision the
 * HTML shows (suppress.ts publishedDecimals), so no rate or AUROC can be solved back for that count.
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
  "citl",
  "calibration_slope",
  "eavg",
  "e90",
  "emax",
  "brier",
] as const;

export function resultsCsv(ctx: ReportContext): string {
  const th = ctx.settings.smallCellThreshold;
  const lines = [CSV_COLUMNS.join(",")];
  const calById = new Map(ctx.calibration.map((c) => [c.tableId, c]));
  for (const t of ctx.agg.tables) {
    const d = publishedDecimals(t, th, ctx.settings.decimals);
    const coarse = d < ctx.settings.decimals;
    const num = (x: number | null) => fmtNum(x, coarse ? d : null);
    const meanMetric = (
      seeds: SeedResult[],
      pick: (m: MetricSummary) => number | undefined,
      before = false,
    ) => num(metricMean(seeds, pick, before));
    const cal = calById.get(t.id);
    for (const a of t.arms) {
      const fig = calibrationFor(cal, a);
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
        citl: num(fig?.citl ?? null),
        calibration_slope: num(fig?.slope ?? null),
        eavg: num(fig?.eavg ?? null),
        e90: num(fig?.e90 ?? null),
        emax: num(fig?.emax ?? null),
        brier: num(fig?.brier ?? null),
      };
      lines.push(CSV_COLUMNS.map((c) => csvField(row[c])).join(","));
    }
  }
  return `${lines.join("\n")}\n`;
}

export function summaryJson(ctx: ReportContext): string {
  const th = ctx.settings.smallCellThreshold;
  const calById = new Map(ctx.calibration.map((c) => [c.tableId, c]));
  const summary = {
    format: "conceptbridge-report-summary",
    version: 2,
    title: ctx.settings.title,
    settings: ctx.settings,
    headline: ctx.headline,
    recommendation: recommendationJson(ctx.recommendation),
    warnings: ctx.warnings,
    legend: ctx.legend,
    provenance: ctx.provenance,
    tables: ctx.agg.tables.map((t) => {
      const d = publishedDecimals(t, th, ctx.settings.decimals);
      const json = { ...tableJson(t, th), calibration: calibrationJson(calById.get(t.id)) };
      return d < ctx.settings.decimals ? roundDeep(json, d) : json;
    }),
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
      nTrain: s.nTrain === null ? null : suppressedValue(s.nTrain, th),
      metrics: s.metrics,
      metricsBeforeRecalibration: s.before,
      comparison: s.comparison,
      comparisonNote: s.comparisonNote,
    })),
  };
}

function calibrationFor(cal: CalibrationTable | undefined, a: ArmResult) {
  const row = cal?.rows.find(
    (r) => r.scenario === a.arm.scenario && r.model === a.arm.model && r.embedding === a.arm.embedding,
  );
  return row?.variants.find((v) => v.recalibration === a.arm.recalibration)?.figures ?? null;
}

function calibrationJson(cal: CalibrationTable | undefined) {
  if (!cal) return [];
  return cal.rows.flatMap((r) =>
    r.variants.map((v) => ({
      scenario: r.scenario,
      model: r.model,
      embedding: r.embedding,
      recalibration: v.recalibration,
      seeds: v.seeds,
      ...v.figures,
    })),
  );
}

/**
 * Every non-integer number rounded to d decimals (null when d is 0: too small a test set to publish
 * any rate); integers (seeds, counts of seeds) stay.
 */
export function roundDeep<T>(v: T, d: number): T {
  if (typeof v === "number") {
    if (Number.isInteger(v) || !Number.isFinite(v)) return v;
    return (d <= 0 ? null : roundTo(v, d)) as T;
  }
  if (Array.isArray(v)) return v.map((x) => roundDeep(x, d)) as T;
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundDeep(x, d)])) as T;
  }
  return v;
}

function ciMethod(seeds: SeedResult[]): string {
  return [...new Set(seeds.map((s) => s.ciMethod).filter((m) => m !== null))].join("+");
}

function metricMean(
  seeds: SeedResult[],
  pick: (m: MetricSummary) => number | undefined,
  before = false,
): number | null {
  const v = seeds
    .map((s) => (before ? s.before : s.metrics))
    .map((m) => (m ? pick(m) : undefined))
    .filter((x): x is number => x !== undefined);
  return v.length > 0 ? v.reduce((x, y) => x + y, 0) / v.length : null;
}

function countText(ns: (number | null)[], th: number): string | null {
  const v = ns.filter((n): n is number => n !== null);
  if (v.length === 0) return null;
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const f = (n: number) => String(suppressedValue(n, th));
  return lo === hi ? f(lo) : `${f(lo)}-${f(hi)}`;
}

/** 6 decimals, or `coarse` decimals for a table published coarsely (null when that is 0). */
function fmtNum(x: number | null, coarse: number | null): string | null {
  if (x === null || !Number.isFinite(x)) return null;
  if (coarse !== null) return coarse <= 0 ? null : String(roundTo(x, coarse));
  return String(Math.round(x * 1e6) / 1e6);
}

export function csvField(v: string | number | null): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
