import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Reference values computed by scikit-learn 1.2.1 / numpy / scipy (Debian python3 packages):
 *
 *     /usr/bin/python3 scripts/sklearn-reference.py > test/eval/fixtures/sklearn-reference.json
 *
 * The fixture holds the fixed input vectors (with ties and scores on calibration bin edges) and the
 * expected outputs; see the script for exactly which sklearn call produced each value.
 */

export interface DelongReference {
  auc: number;
  auc2: number;
  variance: number;
  variance2: number;
  covariance: number;
  ciPlain: [number, number];
  ciLogit: [number, number];
  diff: number;
  z: number;
  p: number;
  diffCI: [number, number];
}

export interface EceReference {
  ece: number;
  observed: number[];
  meanPredicted: number[];
  count: number[];
}

export interface ThresholdReference {
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  sensitivity: number;
  specificity: number;
  ppv: number | null;
  npv: number | null;
}

export interface BinaryCase {
  input: { labels: number[]; scores: number[]; scores2: number[] };
  expected: {
    auroc: number;
    auroc2: number;
    auprc: number;
    brier: number;
    logLoss: number;
    accuracy: number;
    roc: { fpr: number[]; tpr: number[]; thresholds: number[] };
    rocFull: { fpr: number[]; tpr: number[]; thresholds: number[] };
    pr: { precision: number[]; recall: number[]; thresholds: number[] };
    threshold05: ThresholdReference;
    youden: ThresholdReference;
    ece10: EceReference;
    ece5: EceReference;
    calibrationIntercept: number;
    calibrationSlopeIntercept: number;
    calibrationSlope: number;
    delong: DelongReference;
    delong90: DelongReference;
  };
}

export interface Reference {
  generatedBy: string;
  logitEps: number;
  binary: Record<string, BinaryCase>;
  multiclass: {
    input: { labels: number[]; probs: number[]; classes: number };
    expected: {
      macroAuroc: number;
      perClassAuroc: number[];
      macroAuprc: number;
      logLoss: number;
      accuracy: number;
      brier: number;
      topLabelEce10: EceReference;
    };
  };
  normalQuantiles: Record<string, number>;
  normalTwoSidedP: Record<string, number>;
  holm: { input: number[]; expected: number[] };
}

export const reference: Reference = JSON.parse(
  readFileSync(fileURLToPath(new URL("./fixtures/sklearn-reference.json", import.meta.url)), "utf8"),
);

export const TOLERANCE = 1e-9;

export function assertClose(actual: number, expected: number, what: string, tol = TOLERANCE): void {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: got ${actual}, expected ${expected} (|diff| ${Math.abs(actual - expected)} > ${tol})`,
  );
}

export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  tol = TOLERANCE,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) assertClose(actual[i], expected[i], `${what}[${i}]`, tol);
}
