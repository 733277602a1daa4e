import { meanSd } from "../eval/across-seeds.js";
import { bootstrapPairedVersusReference } from "../eval/bootstrap.js";
import { reliabilityCurve } from "../eval/calibration.js";
import { delongCI, delongPairedTest } from "../eval/delong.js";
import { auroc, macroAurocOvr, rocCurve } from "../eval/metrics.js";
import { holmAdjust } from "../eval/multiple-testing.js";

/**
 * The report's only door into src/eval: thin adapters that give the report the shapes it uses.
 * No metric is computed here; if eval's return shapes change, only this file changes.
 */

/** Binary predictions: scores[i] = P(class 1) for labels[i] in {0, 1}. */
export interface BinaryPredictions {
  labels: number[];
  scores: number[];
}

/** Multi-class predictions: scores are N x C row-major probabilities, labels class indices. */
export interface ClassPredictions {
  labels: number[];
  scores: number[];
  classes: number;
}

/**
 * Paired stratified bootstrap of macro one-vs-rest AUROC(arm) - AUROC(reference) for several arms
 * on the reference's test set (the multi-class counterpart of the paired DeLong test).
 */
export function pairedBootstrapVersusReference(
  reference: ClassPredictions,
  arms: readonly number[][],
  resamples: number,
  level = 0.95,
): { diff: number; p: number; ci: [number, number] }[] {
  return bootstrapPairedVersusReference(reference.labels, reference.scores, arms, reference.classes, {
    resamples,
    level,
    seed: 0,
  }).map((r) => ({ diff: r.diff, p: r.p, ci: [r.lower, r.upper] }));
}

/** Paired DeLong test with the interval of the difference. */
export function pairedDelongInterval(
  labels: number[],
  a: number[],
  b: number[],
  level = 0.95,
): { diff: number; p: number; ci: [number, number] } {
  const r = delongPairedTest(labels, a, b, level);
  return { diff: r.diff, p: r.p, ci: [r.ci[0], r.ci[1]] };
}

export function binaryAuroc(p: BinaryPredictions): number {
  return auroc(p.labels, p.scores);
}

export function multiclassAuroc(labels: number[], probs: number[], classes: number): number {
  return macroAurocOvr(labels, probs, classes);
}

/** DeLong confidence interval of one arm's AUROC. */
export function delongInterval(p: BinaryPredictions, level = 0.95): [number, number] {
  const r = delongCI(p.labels, p.scores, level);
  return [r.ci[0], r.ci[1]];
}

/** Paired DeLong test of arm A against arm B on the same test set: diff = AUROC(A) - AUROC(B). */
export function pairedDelong(labels: number[], a: number[], b: number[]): { diff: number; p: number } {
  const r = delongPairedTest(labels, a, b);
  return { diff: r.diff, p: r.p };
}

export function roc(p: BinaryPredictions): { fpr: number[]; tpr: number[] } {
  const r = rocCurve(p.labels, p.scores);
  return { fpr: r.fpr, tpr: r.tpr };
}

export function reliability(
  p: BinaryPredictions,
  bins: number,
): { meanPredicted: number[]; observed: number[]; count: number[] } {
  return reliabilityCurve(p.labels, p.scores, bins);
}

/** Adjust a family of p-values per the report setting ("none" leaves them as they are). */
export function adjustPValues(pValues: readonly number[], method: "holm" | "none"): number[] {
  return method === "holm" ? holmAdjust(pValues) : [...pValues];
}

/** Mean and sample sd (n - 1) over seeds; sd null for a single value. */
export function seedSpread(values: readonly number[]): { mean: number; sd: number | null } {
  const r = meanSd(values);
  return { mean: r.mean, sd: r.n > 1 ? r.sd : null };
}

/** Both classes present: AUROC, its CI and ROC curves are defined. */
export function hasBothClasses(labels: readonly number[]): boolean {
  return labels.includes(0) && labels.includes(1);
}
