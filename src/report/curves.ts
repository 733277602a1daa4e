import {
  type Aggregation,
  type ArmKey,
  armLabel,
  compareSizes,
  mean,
  predictionKey,
  type ReportTable,
  rowLabel,
  sizeLabel,
  type TargetSize,
} from "./aggregate.js";
import type { ReportSettings } from "./settings.js";
import { reliability, roc, seedSpread } from "./stats.js";

/**
 * Chart data derived from predictions. Everything returned here is an aggregate: ROC curves are
 * averaged over seeds on a fixed false-positive-rate grid (no per-patient steps, no thresholds,
 * which are patients' scores), and reliability bins with fewer than the small-cell threshold of
 * items per seed are dropped (a bin of one item would reveal that patient's score).
 */

export interface RocPoint {
  arm: string;
  scenario: string;
  /** Table row: scenario plus recalibration. */
  row: string;
  embedding: string;
  size: string;
  fpr: number;
  tpr: number;
}

export interface CalibrationPoint {
  arm: string;
  scenario: string;
  /** Table row: scenario plus recalibration. */
  row: string;
  embedding: string;
  recalibration: string;
  size: string;
  meanPredicted: number;
  observed: number;
  count: number;
}

export interface LearningPoint {
  scenario: string;
  row: string;
  embedding: string;
  arm: string;
  /** Target training encounters (x axis). */
  size: number;
  sizeLabel: string;
  mean: number;
  lo: number;
  hi: number;
  sd: number | null;
  seeds: number;
}

/**
 * Vertically averaged ROC curves, one per arm of the table (binary tables only). Recalibrated arms
 * are left out: recalibration is monotone, so their curve is the arm's own.
 */
export function rocCurves(table: ReportTable, agg: Aggregation, settings: ReportSettings): RocPoint[] {
  if (!table.binary) return [];
  const grid = Array.from({ length: settings.rocGridPoints }, (_, i) => i / (settings.rocGridPoints - 1));
  const out: RocPoint[] = [];
  for (const a of table.arms) {
    if (a.arm.recalibration !== "none") continue; // same ranking, same curve as the arm it recalibrates
    const curves = a.seeds
      .map((s) => agg.predictions.get(predictionKey(table.id, a.arm, s.seed)))
      .filter((p) => p !== undefined)
      .map((p) => roc(p));
    if (curves.length === 0) continue;
    grid.forEach((f, i) => {
      const tpr = i === 0 ? 0 : mean(curves.map((c) => interpolateTpr(c.fpr, c.tpr, f)));
      out.push({
        ...armFields(a.arm),
        size: sizeLabel(table.key.targetSize),
        fpr: round(f),
        tpr: round(tpr),
      });
    });
  }
  return out;
}

/**
 * TPR at false-positive rate f on a ROC curve given as points sorted by fpr (ties: several tpr at one
 * fpr). Linear between the last point at or below f and the first above it, which is the ROC of
 * randomly breaking ties; at f = 0 the curve starts at 0 by the grid's definition.
 */
export function interpolateTpr(fpr: readonly number[], tpr: readonly number[], f: number): number {
  let lo = -1;
  for (let i = 0; i < fpr.length; i++) if (fpr[i] <= f) lo = i;
  if (lo < 0) return 0;
  if (fpr[lo] === f || lo === fpr.length - 1) return tpr[lo];
  const hi = lo + 1;
  return tpr[lo] + ((tpr[hi] - tpr[lo]) * (f - fpr[lo])) / (fpr[hi] - fpr[lo]);
}

/** Reliability curves per arm, predictions pooled over seeds; small bins dropped. */
export function calibrationCurves(
  table: ReportTable,
  agg: Aggregation,
  settings: ReportSettings,
): CalibrationPoint[] {
  if (!table.binary) return [];
  const out: CalibrationPoint[] = [];
  for (const a of table.arms) {
    const preds = a.seeds
      .map((s) => agg.predictions.get(predictionKey(table.id, a.arm, s.seed)))
      .filter((p) => p !== undefined);
    if (preds.length === 0) continue;
    const pooled = { labels: preds.flatMap((p) => p.labels), scores: preds.flatMap((p) => p.scores) };
    const curve = reliability(pooled, settings.calibrationBins);
    const minCount = settings.smallCellThreshold * preds.length;
    curve.count.forEach((n, i) => {
      if (n < minCount) return;
      out.push({
        ...armFields(a.arm),
        recalibration: a.arm.recalibration,
        size: sizeLabel(table.key.targetSize),
        meanPredicted: round(curve.meanPredicted[i]),
        observed: round(curve.observed[i]),
        count: Math.round(n / preds.length),
      });
    });
  }
  return out;
}

/**
 * Learning curves: for tables of one task and direction, each arm's AUROC against target training
 * size (mean and mean ± sd over seeds). "all" is placed at the mean recorded training count; without
 * counts it cannot be placed and is left out.
 */
export function learningCurve(tables: readonly ReportTable[]): LearningPoint[] {
  const out: LearningPoint[] = [];
  for (const t of [...tables].sort((a, b) => compareSizes(a.key.targetSize, b.key.targetSize))) {
    // One x per table, so every arm of a size sits on the same vertical (arms that train on no
    // target data, e.g. source-only, must not drag "all" to 0).
    const x = sizeX(
      t.key.targetSize,
      t.arms.flatMap((a) => a.seeds.map((s) => s.nTrain)),
    );
    if (x === null) continue;
    for (const a of t.arms) {
      if (a.arm.recalibration !== "none") continue; // recalibration does not change AUROC
      const values = a.seeds.map((s) => s.auroc);
      const { mean: m, sd } = seedSpread(values);
      out.push({
        ...armFields(a.arm),
        size: x,
        sizeLabel: sizeLabel(t.key.targetSize),
        mean: round(m),
        lo: round(m - (sd ?? 0)),
        hi: round(m + (sd ?? 0)),
        sd: sd === null ? null : round(sd),
        seeds: values.length,
      });
    }
  }
  return out;
}

function sizeX(size: TargetSize, nTrain: (number | null)[]): number | null {
  if (size !== "all") return size;
  const known = nTrain.filter((n): n is number => n !== null && n > 0);
  return known.length > 0 ? Math.round(mean(known)) : null;
}

function armFields(arm: ArmKey): { arm: string; scenario: string; row: string; embedding: string } {
  return {
    arm: armLabel(arm),
    // Scenario with the model kind (calibration panels), without recalibration (the colour there).
    scenario: rowLabel({ ...arm, recalibration: "none" }),
    row: rowLabel(arm),
    embedding: arm.embedding,
  };
}

/** Chart numbers carry 4 decimals: plenty for a plot, and no raw score survives verbatim. */
export function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
