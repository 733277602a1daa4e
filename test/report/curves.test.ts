import assert from "node:assert/strict";
import { test } from "node:test";
import { aggregate } from "../../src/report/aggregate.js";
import { calibrationCurves, interpolateTpr, learningCurve, rocCurves } from "../../src/report/curves.js";
import { reportSettings } from "../../src/report/settings.js";

test("interpolateTpr: linear between ROC points, vertical jumps take the top", () => {
  // ROC of labels [0,1,0,1] with scores [0.1,0.4,0.35,0.8] (sklearn roc_curve, all points):
  const fpr = [0, 0, 0.5, 0.5, 1];
  const tpr = [0, 0.5, 0.5, 1, 1];
  assert.equal(interpolateTpr(fpr, tpr, 0), 0.5);
  assert.equal(interpolateTpr(fpr, tpr, 0.25), 0.5);
  assert.equal(interpolateTpr(fpr, tpr, 0.5), 1);
  assert.equal(interpolateTpr(fpr, tpr, 0.75), 1);
  // A diagonal segment (ties): halfway along it.
  assert.equal(interpolateTpr([0, 1], [0, 1], 0.3), 0.3);
});

const cell = (seed: number, labels: number[], scores: number[], size: number | "all" = 100, train = 100) => ({
  key: {
    id: `${seed}-${size}`,
    scenario: "local",
    model: "cnn" as const,
    embedding: "onehot",
    target: "B",
    targetSize: size,
    seed,
    task: "t",
    recalibration: "none" as const,
  },
  status: "ok" as const,
  predictions: { classes: ["n", "y"], labels, scores },
  counts: { train, validation: 10, test: labels.length },
  finishedAt: "x",
  codeVersion: "x",
});

test("ROC averaged over seeds on the grid; no thresholds or scores reach the points", () => {
  const settings = reportSettings({ rocGridPoints: 5 });
  // Seed 1 perfect (TPR 1 from FPR 0 on), seed 2 inverted (TPR 0 until FPR 1).
  const agg = aggregate(
    [cell(1, [0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), cell(2, [0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1])],
    settings,
  );
  const pts = rocCurves(agg.tables[0], agg, settings);
  assert.deepEqual(
    pts.map((p) => [p.fpr, p.tpr]),
    [
      [0, 0],
      [0.25, 0.5],
      [0.5, 0.5],
      [0.75, 0.5],
      [1, 1],
    ],
  );
  assert.deepEqual(Object.keys(pts[0]).sort(), ["arm", "embedding", "fpr", "row", "scenario", "size", "tpr"]);
});

test("calibration bins with fewer than 11 encounters per seed are dropped", () => {
  const settings = reportSettings({ calibrationBins: 2 });
  // 12 scores in the low bin, 5 in the high bin (one of them the distinctive 0.987654321).
  const labels = [...Array(12).fill(0), 1, 1, 1, 1, 1];
  const scores = [...Array(12).fill(0.2), 0.9, 0.9, 0.9, 0.9, 0.987654321];
  labels[0] = 1;
  const agg = aggregate([cell(1, labels, scores)], settings);
  const pts = calibrationCurves(agg.tables[0], agg, settings);
  assert.equal(pts.length, 1);
  assert.equal(pts[0].meanPredicted, 0.2);
  assert.equal(pts[0].observed, 0.0833); // 1/12 rounded to 4 places
  assert.equal(pts[0].count, 12);
});

test("learning curve: mean ± sd over seeds per size; 'all' placed at the mean training count", () => {
  const labels = [0, 0, 1, 1];
  const cells = [
    cell(1, labels, [0.1, 0.2, 0.8, 0.9], 50, 50), // AUROC 1
    cell(2, labels, [0.1, 0.9, 0.8, 0.2], 50, 50), // AUROC 0.5
    cell(1, labels, [0.1, 0.2, 0.8, 0.9], "all", 300),
    cell(2, labels, [0.1, 0.2, 0.8, 0.9], "all", 500),
  ];
  const agg = aggregate(cells, reportSettings());
  const pts = learningCurve(agg.tables);
  assert.deepEqual(
    pts.map((p) => [p.size, p.sizeLabel, p.mean, p.sd, p.lo, p.hi]),
    [
      // mean 0.75, sd = sqrt((0.25^2 + 0.25^2) / 1) = 0.353553...
      [50, "50", 0.75, 0.3536, 0.3964, 1.1036],
      [400, "all", 1, 0, 1, 1],
    ],
  );
});
