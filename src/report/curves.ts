import { mergedBins, wilsonInterval } from "../eval/calibration-curve.js";
import { netBenefitCurve } from "../eval/net-benefit.js";
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
import { simplifiedIndices } from "./simplify.js";
import { roc, seedSpread } from "./stats.js";

/**
 * Chart data derived from predictions. Everything returned here is an aggregate: ROC curves are
 * averaged over seeds on a fixed false-positive-rate grid (no per-patient steps, no thresholds,
 * which are patients' scores); calibration bins are merged until each holds at least the
 * small-cell threshold of events and of non-events per seed, and carry no counts (a rate beside its
 * count gives the count back); net benefit is drawn only at thresholds where every cell of the
 * 2 x 2 table has at least the threshold of people in every seed. Tables whose test set has a class
 * below the threshold get neither.
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
  /** Wilson 95% interval of the observed rate (effective n = pooled n / seeds). */
  lo: number;
  hi: number;
}

export interface NetBenefitPoint {
  /** Curve name: an arm ("finetune-all · hashing"), "treat all" or "treat none". */
  curve: string;
  threshold: number;
  netBenefit: number;
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
    const fpr = grid.map(round);
    const tpr = grid.map((f, i) =>
      round(i === 0 ? 0 : mean(curves.map((c) => interpolateTpr(c.fpr, c.tpr, f)))),
    );
    const fields = { ...armFields(a.arm), size: sizeLabel(table.key.targetSize) };
    for (const i of simplifiedIndices(fpr, tpr, ROC_TOLERANCE))
      out.push({ ...fields, fpr: fpr[i], tpr: tpr[i] });
  }
  return out;
}

/**
 * How far (in TPR) a grid point may lie from the drawn ROC line and be left out of the figure's data:
 * a fifth of a pixel on the report's 220-pixel panels (simplify.ts).
 */
export const ROC_TOLERANCE = 0.001;

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

/** A table whose test set has a class below the small-cell threshold gets no calibration or net-benefit data. */
function publishable(table: ReportTable, settings: ReportSettings): boolean {
  return (
    table.binary &&
    !table.smallSample &&
    table.minClassCount !== null &&
    table.minClassCount >= settings.smallCellThreshold
  );
}

/**
 * Binned calibration curves per arm (all recalibration settings), predictions pooled over seeds:
 * equal-width bins merged until each has at least threshold x seeds events and non-events, the
 * observed rate with a Wilson 95% interval. `arms` limits the panels (default: every arm).
 */
export function calibrationCurves(
  table: ReportTable,
  agg: Aggregation,
  settings: ReportSettings,
  arms?: readonly ArmKey[],
): CalibrationPoint[] {
  if (!publishable(table, settings)) return [];
  const out: CalibrationPoint[] = [];
  for (const a of table.arms) {
    if (
      arms &&
      !arms.some(
        (k) => k.scenario === a.arm.scenario && k.model === a.arm.model && k.embedding === a.arm.embedding,
      )
    )
      continue;
    const preds = a.seeds
      .map((s) => agg.predictions.get(predictionKey(table.id, a.arm, s.seed)))
      .filter((p) => p !== undefined);
    if (preds.length === 0) continue;
    const S = preds.length;
    const labels = preds.flatMap((p) => p.labels);
    const scores = preds.flatMap((p) => p.scores);
    const min = settings.smallCellThreshold * S;
    for (const b of mergedBins(labels, scores, settings.calibrationBins, min, min)) {
      const [lo, hi] = wilsonInterval(b.events / S, b.n / S);
      out.push({
        ...armFields(a.arm),
        recalibration: a.arm.recalibration,
        size: sizeLabel(table.key.targetSize),
        meanPredicted: round(b.sumPredicted / b.n),
        observed: round(b.events / b.n),
        lo: round(lo),
        hi: round(hi),
      });
    }
  }
  return out;
}

/** Decision thresholds of the net-benefit curves: 1% to 99% in steps of 1%. */
export const NET_BENEFIT_THRESHOLDS = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);

/**
 * Net-benefit (decision) curves of the given arms, mean over seeds, with "treat all" and "treat
 * none"; a threshold is kept only where every seed's 2 x 2 table has every cell at or above the
 * small-cell threshold (for "treat all" the test set's classes already are).
 */
export function netBenefitCurves(
  table: ReportTable,
  agg: Aggregation,
  settings: ReportSettings,
  arms: readonly ArmKey[],
): NetBenefitPoint[] {
  if (!publishable(table, settings)) return [];
  const th = settings.smallCellThreshold;
  const out: NetBenefitPoint[] = [];
  const thresholds = new Set<number>();
  let treatAll: number[][] = [];
  for (const arm of arms) {
    const a = table.arms.find(
      (x) =>
        x.arm.scenario === arm.scenario &&
        x.arm.model === arm.model &&
        x.arm.embedding === arm.embedding &&
        x.arm.recalibration === arm.recalibration,
    );
    if (!a) continue;
    const curves = a.seeds
      .map((s) => agg.predictions.get(predictionKey(table.id, a.arm, s.seed)))
      .filter((p) => p !== undefined)
      .map((p) => netBenefitCurve(p.labels, p.scores, NET_BENEFIT_THRESHOLDS));
    if (curves.length === 0) continue;
    if (treatAll.length === 0) treatAll = curves.map((c) => c.map((p) => p.treatAll));
    NET_BENEFIT_THRESHOLDS.forEach((t, i) => {
      const ok = curves.every((c) => Math.min(c[i].tp, c[i].fp, c[i].fn, c[i].tn) >= th);
      if (!ok) return;
      thresholds.add(i);
      out.push({
        curve: `${rowLabel(a.arm)} · ${a.arm.embedding}`,
        threshold: t,
        netBenefit: round(mean(curves.map((c) => c[i].netBenefit))),
      });
    });
  }
  if (out.length === 0) return [];
  const used = [...thresholds].sort((x, y) => x - y);
  for (const i of used) {
    out.push({
      curve: "treat all",
      threshold: NET_BENEFIT_THRESHOLDS[i],
      netBenefit: round(mean(treatAll.map((c) => c[i]))),
    });
    out.push({ curve: "treat none", threshold: NET_BENEFIT_THRESHOLDS[i], netBenefit: 0 });
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
