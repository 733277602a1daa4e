import { calibrationReport } from "../eval/calibration-curve.js";
import {
  type Aggregation,
  type ArmResult,
  type ModelKind,
  mean,
  predictionKey,
  type Recalibration,
  type ReportTable,
  rowLabel,
} from "./aggregate.js";
import type { ReportSettings } from "./settings.js";
import { publishedDecimals } from "./suppress.js";

/**
 * Calibration per arm, with and without recalibration: where recalibration matters (it cannot
 * change a binary ranking, so the AUROC tables show each arm once). Binary tasks: calibration-in-
 * the-large and slope, Eavg/E90/Emax of the loess calibration curve (Austin & Steyerberg 2019) and
 * the Brier score, computed from the stored test predictions per seed and averaged over seeds.
 * Multi-class tasks: the stored Brier score (summed over classes) and top-label ECE.
 */

export interface CalibrationFigures {
  citl: number | null;
  slope: number | null;
  eavg: number | null;
  e90: number | null;
  emax: number | null;
  brier: number | null;
  /** Multi-class: top-label ECE (binary tables leave it null; Eavg is the binned ECE's smooth sibling). */
  ece: number | null;
}

export interface CalibrationVariant {
  recalibration: Recalibration;
  figures: CalibrationFigures;
  seeds: number;
}

export interface CalibrationRow {
  /** "finetune-all · hashing". */
  label: string;
  scenario: string;
  model: ModelKind;
  embedding: string;
  isReference: boolean;
  /** "none" first (as trained or transferred), then each recalibration that ran. */
  variants: CalibrationVariant[];
}

export interface CalibrationTable {
  tableId: string;
  binary: boolean;
  rows: CalibrationRow[];
  /** Decimals the figures may be published with (coarser for tables with a small class). */
  decimals: number;
  hasRecalibration: boolean;
}

export const CALIBRATION_COLUMNS: {
  key: keyof CalibrationFigures;
  name: string;
  ideal: string;
  binary: boolean;
}[] = [
  { key: "citl", name: "CITL", ideal: "0", binary: true },
  { key: "slope", name: "Slope", ideal: "1", binary: true },
  { key: "eavg", name: "Eavg", ideal: "0", binary: true },
  { key: "e90", name: "E90", ideal: "0", binary: true },
  { key: "emax", name: "Emax", ideal: "0", binary: true },
  { key: "brier", name: "Brier", ideal: "low", binary: true },
  { key: "ece", name: "ECE (top label)", ideal: "0", binary: false },
];

export function calibrationTables(agg: Aggregation, settings: ReportSettings): CalibrationTable[] {
  return agg.tables.map((t) => calibrationTable(t, agg, settings));
}

const RECAL_ORDER: Recalibration[] = ["none", "intercept", "logistic"];

function calibrationTable(t: ReportTable, agg: Aggregation, settings: ReportSettings): CalibrationTable {
  const groups = new Map<string, ArmResult[]>();
  for (const a of t.arms) {
    const k = JSON.stringify([a.arm.scenario, a.arm.model, a.arm.embedding]);
    groups.set(k, [...(groups.get(k) ?? []), a]);
  }
  const rows: CalibrationRow[] = [];
  for (const arms of groups.values()) {
    const base = arms[0].arm;
    const variants = [...arms]
      .sort((a, b) => RECAL_ORDER.indexOf(a.arm.recalibration) - RECAL_ORDER.indexOf(b.arm.recalibration))
      .map((a) => ({
        recalibration: a.arm.recalibration,
        figures: t.binary ? binaryFigures(t, a, agg) : multiclassFigures(a),
        seeds: a.seeds.length,
      }));
    rows.push({
      label: `${rowLabel({ ...base, recalibration: "none" })} · ${base.embedding}`,
      scenario: base.scenario,
      model: base.model,
      embedding: base.embedding,
      isReference: arms.some((a) => a.isReference),
      variants,
    });
  }
  return {
    tableId: t.id,
    binary: t.binary,
    rows,
    decimals: publishedDecimals(t, settings.smallCellThreshold, settings.decimals),
    hasRecalibration: t.arms.some((a) => a.arm.recalibration !== "none"),
  };
}

function binaryFigures(t: ReportTable, a: ArmResult, agg: Aggregation): CalibrationFigures {
  const per: ReturnType<typeof calibrationReport>[] = [];
  for (const s of a.seeds) {
    const p = agg.predictions.get(predictionKey(t.id, a.arm, s.seed));
    if (!p || p.labels.length < 3) continue;
    per.push(calibrationReport(p.labels, p.scores));
  }
  if (per.length === 0) {
    // No predictions stored: what the cells' metrics hold.
    const m = a.seeds.map((s) => s.metrics).filter((x) => x !== null);
    return {
      citl: meanOf(m.map((x) => x.calibrationIntercept)),
      slope: meanOf(m.map((x) => x.calibrationSlope)),
      eavg: null,
      e90: null,
      emax: null,
      brier: meanOf(m.map((x) => x.brier)),
      ece: null,
    };
  }
  return {
    citl: meanOf(per.map((r) => r.citl)),
    slope: meanOf(per.map((r) => r.slope)),
    eavg: meanOf(per.map((r) => r.eavg)),
    e90: meanOf(per.map((r) => r.e90)),
    emax: meanOf(per.map((r) => r.emax)),
    brier: meanOf(per.map((r) => r.brier)),
    ece: null,
  };
}

function multiclassFigures(a: ArmResult): CalibrationFigures {
  const m = a.seeds.map((s) => s.metrics).filter((x) => x !== null);
  return {
    citl: null,
    slope: null,
    eavg: null,
    e90: null,
    emax: null,
    brier: meanOf(m.map((x) => x.brier)),
    ece: meanOf(m.map((x) => x.ece)),
  };
}

function meanOf(xs: (number | undefined)[]): number | null {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return v.length > 0 ? mean(v) : null;
}

export function formatFigure(x: number | null, decimals: number): string {
  if (x === null) return "–";
  if (decimals <= 0) return "suppressed";
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(Math.min(decimals, Math.abs(x) >= 10 ? 1 : decimals));
}

export function recalibrationName(r: Recalibration): string {
  return r === "none" ? "as is" : `${r} recal.`;
}
