import assert from "node:assert/strict";
import { test } from "node:test";
import { aggregate } from "../../src/report/aggregate.js";
import { calibrationCurves, interpolateTpr, learningCurve, rocCurves } from "../../src/report/curves.js";
import { reportSettings } from "../../src/report/settings.js";
import { Rng } from "../../src/util/rng.js";

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

test("ROC averaged over seeds on the grid (collinear grid points left out); no thresholds or scores reach the points", () => {
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
      // (0.5, 0.5) lies on the line from (0.25, 0.5) to (0.75, 0.5): the drawn curve is the same without it.
      [0.75, 0.5],
      [1, 1],
    ],
  );
  assert.deepEqual(Object.keys(pts[0]).sort(), ["arm", "embedding", "fpr", "row", "scenario", "size", "tpr"]);
});

test("calibration bins: merged to at least 11 events and non-events per seed, with intervals and no counts", () => {
  const settings = reportSettings({ calibrationBins: 10 });
  const rng = new Rng(4);
  const labels = Array.from({ length: 400 }, () => (rng.next() < 0.3 ? 1 : 0));
  const scores = labels.map((y) =>
    Math.min(0.99, Math.max(0.01, 0.3 + 0.25 * (y - 0.3) + 0.2 * rng.normal())),
  );
  const agg = aggregate(
    [
      cell(1, labels, scores),
      cell(
        2,
        labels,
        scores.map((x) => x * 0.9),
      ),
    ],
    settings,
  );
  const pts = calibrationCurves(agg.tables[0], agg, settings);
  assert.ok(pts.length >= 2, `only ${pts.length} bins`);
  for (const p of pts) {
    assert.ok(!("count" in p), "a bin count beside its rate gives the count back");
    assert.ok(p.lo <= p.observed && p.observed <= p.hi, JSON.stringify(p));
  }
  // A test set with a class below the threshold publishes no calibration bins at all.
  const few = [...Array(40).fill(0), ...Array(5).fill(1)];
  const fewScores = few.map((y, i) => 0.1 + 0.5 * y + i * 1e-3);
  const small = aggregate([cell(1, few, fewScores)], settings);
  assert.deepEqual(calibrationCurves(small.tables[0], small, settings), []);
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
