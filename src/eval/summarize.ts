import type { MetricSummary } from "../model/metric-summary.js";
import { InputError } from "../util/errors.js";
import { bootstrapMacroAurocCI, parseBootstrapSettings } from "./bootstrap.js";
import {
  calibrationInterceptSlope,
  expectedCalibrationError,
  topLabelCalibrationError,
} from "./calibration.js";
import { delongCI } from "./delong.js";
import { accuracy, auprc, brierScore, logLoss, macroAurocOvr, perClassAurocOvr } from "./metrics.js";

export type { MetricSummary };

export interface SummarizeOptions {
  /** Bootstrap resamples for the multi-class macro-AUROC interval (default from BootstrapSettings: 2,000). */
  bootstrap?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /** Confidence level of aurocCI (default 0.95). */
  level?: number;
}

/**
 * The metrics stored with every grid cell.
 *
 * Binary (2 classes): `scores` = P(classes[1]) per encounter (N x 2 rows are accepted too);
 * auroc with a DeLong interval (logit-transformed, src/eval/delong.ts), auprc, brier, logLoss,
 * accuracy (p > 0.5), ece (10 equal-width bins), calibration intercept and slope.
 *
 * Multi-class: `scores` = N x C row-major probabilities; auroc = macro one-vs-rest with a stratified
 * bootstrap interval, perClassAuroc by class name, auprc = macro one-vs-rest average precision,
 * brier (summed over classes), logLoss, accuracy (argmax), ece = top-label ECE. Calibration
 * intercept and slope are binary notions and are left out.
 *
 * Values that are undefined for these predictions (e.g. a calibration slope of perfectly separated
 * data) are omitted rather than stored as NaN, which JSON cannot hold.
 */
export function summarizePredictions(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  classes: string[],
  opts: SummarizeOptions = {},
): MetricSummary {
  const C = classes.length;
  if (C < 2) throw new InputError(`a task needs at least 2 classes, got ${C}`, { field: "classes" });
  const settings = parseBootstrapSettings({
    ...(opts.bootstrap !== undefined ? { resamples: opts.bootstrap } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.level !== undefined ? { level: opts.level } : {}),
  });
  return C === 2
    ? summarizeBinary(labels, scores, settings.level)
    : summarizeMulticlass(labels, scores, classes, settings);
}

function positiveColumn(labels: ArrayLike<number>, scores: ArrayLike<number>): ArrayLike<number> {
  if (scores.length !== 2 * labels.length || labels.length === 0) return scores;
  const p = new Float64Array(labels.length);
  for (let i = 0; i < p.length; i++) p[i] = scores[2 * i + 1];
  return p;
}

function finite(value: number): number | undefined {
  return Number.isFinite(value) ? value : undefined;
}

/** Drops undefined entries so the summary holds only real numbers. */
function compact(summary: MetricSummary): MetricSummary {
  return Object.fromEntries(Object.entries(summary).filter(([, v]) => v !== undefined)) as MetricSummary;
}

function summarizeBinary(labels: ArrayLike<number>, scores: ArrayLike<number>, level: number): MetricSummary {
  const p = positiveColumn(labels, scores);
  const delong = delongCI(labels, p, level);
  const calibration = calibrationInterceptSlope(labels, p);
  return compact({
    auroc: delong.auroc,
    aurocCI: delong.ci,
    auprc: auprc(labels, p),
    brier: brierScore(labels, p),
    logLoss: logLoss(labels, p),
    accuracy: accuracy(labels, p),
    ece: expectedCalibrationError(labels, p),
    calibrationIntercept: finite(calibration.intercept),
    calibrationSlope: finite(calibration.slope),
  });
}

/** Mean over classes present (and not the whole set) of one-vs-rest average precision. */
export function macroAuprcOvr(labels: ArrayLike<number>, probs: ArrayLike<number>, classes: number): number {
  const n = labels.length;
  const binary = new Int32Array(n);
  const column = new Float64Array(n);
  const values: number[] = [];
  for (let c = 0; c < classes; c++) {
    let count = 0;
    for (let i = 0; i < n; i++) {
      binary[i] = labels[i] === c ? 1 : 0;
      count += binary[i];
      column[i] = probs[i * classes + c];
    }
    if (count > 0 && count < n) values.push(auprc(binary, column));
  }
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function summarizeMulticlass(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  classes: string[],
  settings: ReturnType<typeof parseBootstrapSettings>,
): MetricSummary {
  const C = classes.length;
  const macro = macroAurocOvr(labels, probs, C);
  const ci = bootstrapMacroAurocCI(labels, probs, C, settings);
  const perClass = perClassAurocOvr(labels, probs, C);
  // Object.fromEntries: own keys only, so a class named "__proto__" keeps its AUROC.
  const perClassAuroc: Record<string, number> = Object.fromEntries(
    [...perClass].flatMap((v, c) => (Number.isFinite(v) ? [[classes[c], v] as const] : [])),
  );
  return compact({
    auroc: macro,
    aurocCI: [ci.lower, ci.upper],
    auprc: macroAuprcOvr(labels, probs, C),
    brier: brierScore(labels, probs, C),
    logLoss: logLoss(labels, probs, C),
    accuracy: accuracy(labels, probs, C),
    ece: topLabelCalibrationError(labels, probs, C),
    perClassAuroc,
  });
}
