import assert from "node:assert/strict";
import { test } from "node:test";
import type { CellResult } from "../../src/experiment/results.js";
import { aggregate } from "../../src/report/aggregate.js";
import { calibrationCurves, rocCurves } from "../../src/report/curves.js";
import { reportSettings } from "../../src/report/settings.js";
import { cellView, tableView } from "../../src/report/tables.js";
import { Rng } from "../../src/util/rng.js";

type KeyIn = Partial<CellResult["key"]> & Pick<CellResult["key"], "scenario" | "embedding" | "seed">;

function cell(key: KeyIn, rest: Partial<CellResult> = {}): CellResult {
  return {
    key: {
      id: JSON.stringify(key),
      model: "cnn",
      target: "B",
      targetSize: 100,
      task: "flu",
      recalibration: "none",
      ...key,
    },
    status: "ok",
    finishedAt: "2026-11-25T00:00:00Z",
    codeVersion: "test",
    ...rest,
  };
}

function preds(labels: number[], scores: number[]): CellResult["predictions"] {
  return { classes: ["no", "yes"], labels, scores };
}

test("several seeds: mean, sample sd and mean CI bounds, hand-computed", () => {
  const settings = reportSettings();
  const cells = [0.7, 0.8, 0.9].map((auroc, i) =>
    cell(
      { scenario: "local", embedding: "onehot", seed: i + 1 },
      { metrics: { auroc, aurocCI: [auroc - 0.1, auroc + 0.1] } },
    ),
  );
  const agg = aggregate(cells, settings);
  assert.equal(agg.tables.length, 1);
  const t = agg.tables[0];
  // No transfer direction reaches target B: a target-only table.
  assert.equal(t.key.source, null);
  assert.equal(t.direction, "B (target only)");
  const a = t.arms[0];
  assert.ok(Math.abs(a.mean - 0.8) < 1e-12);
  // sd = sqrt(((-0.1)^2 + 0^2 + 0.1^2) / (3 - 1)) = 0.1
  assert.ok(Math.abs(a.sd! - 0.1) < 1e-12);
  // mean of the lower bounds (0.6, 0.7, 0.8) and upper bounds (0.8, 0.9, 1.0)
  assert.ok(Math.abs(a.ci![0] - 0.7) < 1e-12 && Math.abs(a.ci![1] - 0.9) < 1e-12);
  assert.equal(a.mark, "ref");
  const v = cellView(a, settings);
  assert.equal(v.value, "0.800");
  assert.equal(v.ci, "[0.700–0.900]");
  assert.equal(v.spread, "sd 0.100 · 3 seeds");
  assert.equal(v.symbol, "");
  // One seed: no sd.
  const one = aggregate([cells[0]], settings).tables[0].arms[0];
  assert.equal(one.sd, null);
  assert.equal(cellView(one, settings).spread, "1 seed");
});

/** 100 negatives then 100 positives; a weak reference, a perfect arm, an inverted one. */
function scenarioCells(seed: number, perfectIsCopy: boolean): CellResult[] {
  const labels = Array.from({ length: 200 }, (_, i) => (i < 100 ? 0 : 1));
  const rng = new Rng(seed);
  const weak = labels.map((y) => Math.min(0.999, Math.max(0.001, 0.5 + 0.1 * y + 0.2 * rng.normal())));
  const perfect = labels.map((y, i) => 0.2 + 0.6 * y + i * 1e-4);
  const inverted = perfect.map((p) => 1 - p);
  const common = { source: "A", seed };
  return [
    cell({ scenario: "local", embedding: "onehot", seed }, { predictions: preds(labels, weak) }),
    cell(
      { scenario: "finetune-all", embedding: "onehot", ...common },
      { predictions: preds(labels, perfectIsCopy ? weak : perfect) },
    ),
    cell({ scenario: "pooled", embedding: "onehot", ...common }, { predictions: preds(labels, weak) }),
    cell(
      { scenario: "source-only", embedding: "onehot", ...common },
      { predictions: preds(labels, inverted) },
    ),
    // Same labels but a different order: not the same test set, so no paired test.
    cell(
      { scenario: "shuffled", embedding: "onehot", ...common },
      { predictions: preds([...labels].reverse(), perfect) },
    ),
  ];
}

test("paired DeLong marks against local: better, worse, same, partial, untested; Holm within a seed", () => {
  const settings = reportSettings();
  const agg = aggregate([...scenarioCells(1, false), ...scenarioCells(2, true)], settings);
  assert.equal(agg.tables.length, 1);
  const t = agg.tables[0];
  assert.equal(t.direction, "A → B");
  const arm = (s: string) => t.arms.find((a) => a.arm.scenario === s)!;
  // AUROC computed from the predictions (no stored metrics): perfect = 1, inverted = 0.
  assert.equal(arm("source-only").mean, 0);
  assert.equal(arm("local").mark, "ref");
  assert.equal(arm("source-only").mark, "down");
  assert.equal(arm("pooled").mark, "none"); // identical scores: diff 0, p = 1
  assert.equal(arm("finetune-all").mark, "partial"); // perfect in seed 1, a copy of local in seed 2
  assert.equal(arm("finetune-all").significantSeeds, 1);
  assert.equal(arm("finetune-all").testedSeeds, 2);
  assert.equal(arm("shuffled").mark, "untested");
  assert.equal(arm("shuffled").seeds[0].comparisonNote, "different test sets: not paired");

  // Holm over the 3 tested arms of seed 1: the smallest p is multiplied by 3, the largest (p = 1) stays 1.
  const seed1 = ["finetune-all", "pooled", "source-only"].map(
    (s) => arm(s).seeds.find((x) => x.seed === 1)!.comparison!,
  );
  const ps = seed1.map((c) => c.p);
  const iMin = ps.indexOf(Math.min(...ps));
  assert.ok(Math.abs(seed1[iMin].pAdjusted - Math.min(1, 3 * ps[iMin])) < 1e-15);
  assert.equal(seed1[1].p, 1);
  assert.equal(seed1[1].pAdjusted, 1);
  assert.ok(seed1[0].diff > 0 && seed1[2].diff < 0);

  // Unadjusted: adjusted p equals the raw p.
  const plain = aggregate(scenarioCells(1, false), reportSettings({ adjustment: "none" })).tables[0];
  for (const a of plain.arms)
    for (const s of a.seeds) if (s.comparison) assert.equal(s.comparison.pAdjusted, s.comparison.p);

  const view = tableView(t, settings);
  assert.deepEqual(
    view.rows.map((r) => r.label),
    ["local", "finetune-all", "pooled", "source-only", "shuffled"],
  );
  assert.equal(view.rows[0].isReference, true);
  assert.equal(view.rows[3].cells[0]!.symbol, "▼");
  assert.equal(view.rows[1].cells[0]!.symbol, "◇ 1/2");
  assert.equal(view.rows[2].cells[0]!.symbol, "");
  assert.equal(view.subheading, "test set at B: n = 200 · positives (yes) 100 · seeds: 1, 2");
});

test("the reference is the local arm with the same embedding, else the baseline embedding", () => {
  const labels = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const rng = new Rng(5);
  const noise = () => labels.map((y) => 0.5 + 0.05 * y + 0.1 * rng.normal());
  const cells = [
    cell({ scenario: "local", embedding: "onehot", seed: 1 }, { predictions: preds(labels, noise()) }),
    cell({ scenario: "local", embedding: "bert", seed: 1 }, { predictions: preds(labels, noise()) }),
    cell(
      { scenario: "finetune-all", embedding: "bert", source: "A", seed: 1 },
      { predictions: preds(labels, noise()) },
    ),
    cell(
      { scenario: "finetune-all", embedding: "hashing", source: "A", seed: 1 },
      { predictions: preds(labels, noise()) },
    ),
    cell(
      { scenario: "local", model: "logistic", embedding: "bert", seed: 1 },
      { predictions: preds(labels, noise()) },
    ),
  ];
  const t = aggregate(cells, reportSettings()).tables[0];
  const ref = (scenario: string, embedding: string, model = "cnn") =>
    t.arms.find((a) => a.arm.scenario === scenario && a.arm.embedding === embedding && a.arm.model === model)!
      .seeds[0].comparison!.referenceEmbedding;
  assert.equal(ref("finetune-all", "bert"), "bert");
  assert.equal(ref("finetune-all", "hashing"), "onehot");
  // The logistic baseline is tested against the local CNN.
  assert.equal(ref("local", "bert", "logistic"), "bert");
  assert.deepEqual(
    t.rows.map((r) => r.label),
    ["local", "local (logistic)", "finetune-all"],
  );
  assert.deepEqual(t.embeddings, ["onehot", "bert", "hashing"]);
});

test("failed cells are listed, not aggregated; N x 2 binary scores are read as P(class 1)", () => {
  const labels = [0, 1, 0, 1, 1, 0, 0, 1];
  const p1 = [0.1, 0.8, 0.3, 0.6, 0.9, 0.2, 0.7, 0.4];
  const rows = p1.flatMap((p) => [1 - p, p]);
  const cells = [
    cell({ scenario: "local", embedding: "onehot", seed: 1 }, { predictions: preds(labels, rows) }),
    cell({ scenario: "local", embedding: "onehot", seed: 2 }, { status: "error", error: "boom" }),
  ];
  const agg = aggregate(cells, reportSettings());
  assert.equal(agg.failures.length, 1);
  assert.equal(agg.failures[0].seed, 2);
  const a = agg.tables[0].arms[0];
  assert.equal(a.seeds.length, 1);
  // Pairs (pos, neg) ranked correctly: pos {0.8,0.6,0.9,0.4} vs neg {0.1,0.3,0.2,0.7}:
  // 0.8 beats 4, 0.6 beats 3, 0.9 beats 4, 0.4 beats 3 -> 14/16.
  assert.equal(a.mean, 14 / 16);
});

test("multi-class under reproduction-v1 rules: macro AUROC from N x C scores, stored CI, no paired test, no ROC/calibration data", () => {
  const labels = [0, 1, 2, 0, 1, 2];
  // Class 0 and 1 perfectly ranked one-vs-rest; class 2 gets the same score everywhere (AUROC 0.5).
  const probs = labels.flatMap((y) =>
    y === 0 ? [0.6, 0.1, 0.3] : y === 1 ? [0.1, 0.6, 0.3] : [0.35, 0.35, 0.3],
  );
  const mc = (scenario: string, source?: string): CellResult =>
    cell(
      { scenario, embedding: "onehot", seed: 1, ...(source ? { source } : {}) },
      {
        predictions: { classes: ["I", "M", "P"], labels, scores: probs },
        metrics: { auroc: (1 + 1 + 0.5) / 3, aurocCI: [0.6, 0.95], perClassAuroc: { I: 1, M: 1, P: 0.5 } },
      },
    );
  const settings = reportSettings({ compatibility: "reproduction-v1" });
  const agg = aggregate([mc("local"), mc("finetune-all", "A")], settings);
  const t = agg.tables[0];
  assert.equal(t.binary, false);
  assert.equal(t.positiveClass, null);
  const ft = t.arms.find((a) => a.arm.scenario === "finetune-all")!;
  assert.ok(Math.abs(ft.mean - 2.5 / 3) < 1e-12);
  assert.deepEqual(ft.ci, [0.6, 0.95]);
  assert.equal(ft.seeds[0].ciMethod, "stored");
  assert.equal(ft.mark, "untested");
  assert.equal(ft.seeds[0].comparisonNote, "paired DeLong test is for binary tasks");
  assert.deepEqual(tableView(t, settings).notes, [
    "Multi-class task: macro one-vs-rest AUROC; paired tests are done for binary tasks only.",
  ]);
  // Without stored metrics the macro AUROC comes from the predictions (eval's macroAurocOvr).
  const bare = cell(
    { scenario: "local", embedding: "onehot", seed: 1 },
    { predictions: { classes: ["I", "M", "P"], labels, scores: probs } },
  );
  assert.ok(Math.abs(aggregate([bare], settings).tables[0].arms[0].mean - 2.5 / 3) < 1e-12);
  assert.deepEqual(rocCurves(t, agg, settings), []);
  assert.deepEqual(calibrationCurves(t, agg, settings), []);
});

/** 3-class predictions with `signal` on the true class, softmax of noisy logits. */
function classRows(labels: number[], signal: number, rng: Rng): number[] {
  return labels.flatMap((y) => {
    const z = [0, 1, 2].map((c) => (c === y ? signal : 0) + rng.normal());
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  });
}

test("multi-class: paired bootstrap of the macro-AUROC difference marks arms like DeLong does for binary", () => {
  const rng = new Rng(9);
  const labels = Array.from({ length: 300 }, (_, i) => i % 3);
  const classes = ["I", "M", "P"];
  const mk = (scenario: string, signal: number, source?: string) =>
    cell(
      { scenario, embedding: "onehot", seed: 1, ...(source ? { source } : {}) },
      { predictions: { classes, labels, scores: classRows(labels, signal, rng) } },
    );
  const settings = reportSettings();
  const agg = aggregate([mk("local", 0.4), mk("finetune-all", 2, "A"), mk("pooled", 0.4, "A")], settings);
  const t = agg.tables[0];
  assert.equal(t.testMethod, "bootstrap");
  const ft = t.arms.find((a) => a.arm.scenario === "finetune-all")!;
  const pooled = t.arms.find((a) => a.arm.scenario === "pooled")!;
  assert.equal(ft.mark, "up");
  assert.ok(ft.seeds[0].comparison!.p < 0.001);
  assert.equal(pooled.mark, "none");
  assert.deepEqual(tableView(t, settings).notes, [
    "Multi-class task: macro one-vs-rest AUROC; arms are tested with a paired stratified bootstrap over test encounters.",
  ]);
});

test("too few events in the test set: no arm is tested, the table says why", () => {
  const labels = [...Array(95).fill(0), ...Array(5).fill(1)];
  const good = labels.map((y, i) => 0.2 + 0.6 * y + (i % 7) * 0.01);
  const weak = labels.map((_, i) => ((i * 37) % 100) / 100);
  const settings = reportSettings();
  const agg = aggregate(
    [
      cell({ scenario: "local", embedding: "onehot", seed: 1 }, { predictions: preds(labels, weak) }),
      cell(
        { scenario: "finetune-all", embedding: "onehot", seed: 1, source: "A" },
        { predictions: preds(labels, good) },
      ),
    ],
    settings,
  );
  const t = agg.tables[0];
  assert.equal(t.smallSample, true);
  assert.equal(t.minClassCount, 5);
  assert.equal(t.testMethod, "none");
  const ft = t.arms.find((a) => a.arm.scenario === "finetune-all")!;
  assert.equal(ft.mark, "untested");
  assert.match(ft.seeds[0].comparisonNote!, /too few events/);
  assert.match(tableView(t, settings).notes.join(" "), /Too few events in this test set to rank arms/);
  // The same data under reproduction-v1 rules is tested as before.
  const old = aggregate(
    [
      cell({ scenario: "local", embedding: "onehot", seed: 1 }, { predictions: preds(labels, weak) }),
      cell(
        { scenario: "finetune-all", embedding: "onehot", seed: 1, source: "A" },
        { predictions: preds(labels, good) },
      ),
    ],
    reportSettings({ compatibility: "reproduction-v1" }),
  );
  assert.equal(old.tables[0].smallSample, false);
  assert.notEqual(old.tables[0].arms.find((a) => a.arm.scenario === "finetune-all")!.mark, "untested");
});
