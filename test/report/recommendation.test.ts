import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { CellResult } from "../../src/experiment/results.js";
import {
  formatRecommendation,
  recommendationJson,
  recommendationMarkdown,
  recommendFromCells,
} from "../../src/report/recommendation.js";
import { reportSettings } from "../../src/report/settings.js";
import { Rng } from "../../src/util/rng.js";
import { writeSyntheticStore } from "./fixture.js";

const dir = join(tmpdir(), `cb-recommend-${process.pid}`);

test("auto arm: AUROC with CI, paired Δ vs the best local model, winners, break-even n", async () => {
  const store = await writeSyntheticStore(dir, { auto: true });
  const rows = recommendFromCells(store.cells);
  // 2 directions x 3 sizes.
  assert.equal(rows.length, 6);
  const ab = rows.filter((r) => r.source === "A");
  assert.deepEqual(
    ab.map((r) => r.targetSize),
    [50, 200, "all"],
  );
  for (const r of rows) {
    assert.equal(r.basis, "auto");
    assert.equal(r.label, "auto · bert");
    assert.equal(r.seeds, 3);
    assert.ok(r.ci && r.ci[0] < r.auroc && r.auroc < r.ci[1]);
    assert.ok(r.delta && r.delta.method === "delong" && r.delta.seeds === 3);
    assert.ok(r.delta.ci[0] < r.delta.diff && r.delta.diff < r.delta.ci[1]);
    assert.ok(r.bestLocal);
  }
  const [n50, , all] = ab;
  assert.deepEqual(n50.winners, [{ candidate: "finetune-all", seeds: 3 }]);
  assert.deepEqual(all.winners, [{ candidate: "local-logistic", seeds: 3 }]);
  assert.ok(Math.abs(n50.candidateScores["local-logistic"] - 0.72) < 1e-12, "mean of 0.71, 0.72, 0.73");
  assert.equal(n50.verdict, "better");
  assert.equal(all.verdict, "similar");
  // Break-even: the smallest size at which the Δ interval includes 0; the same on every row of the direction.
  for (const r of ab) assert.deepEqual(r.breakEven, { size: "all", n: 800 });

  // Δ is the per-seed paired difference to the best local cell of that seed, averaged over seeds.
  const seedCells = (scenario: string, seed: number) =>
    store.cells.filter(
      (c) =>
        c.key.scenario === scenario &&
        c.key.source === (scenario === "local" ? undefined : "A") &&
        c.key.target === "B" &&
        c.key.targetSize === 50 &&
        c.key.seed === seed &&
        c.key.recalibration === "none" &&
        (scenario !== "auto" || c.key.embedding === "bert"),
    );
  const diffs = [1, 2, 3].map((seed) => {
    const auto = seedCells("auto", seed)[0].metrics!.auroc;
    const best = Math.max(...seedCells("local", seed).map((c) => c.metrics!.auroc));
    return auto - best;
  });
  assert.ok(Math.abs(n50.delta!.diff - diffs.reduce((a, b) => a + b, 0) / 3) < 1e-9);

  const text = formatRecommendation(rows);
  assert.match(text, /^Recommendation — influenza-vs-rest/);
  assert.match(
    text,
    /A → B\n {4}n=50 +auto · bert {2}0\.\d{3} \[0\.\d{3}–0\.\d{3}\] {2}Δ \+0\.\d{3} \[\+0\.\d{3}, \+0\.\d{3}\] {2}better than local {2}picked finetune-all \(3 of 3 seeds\)/,
  );
  assert.match(text, /break-even n \(local as good\): all \(800\)/);
  const md = recommendationMarkdown(rows).join("\n");
  assert.match(md, /\| A → B \| 50 \| auto · bert \(picked finetune-all \(3 of 3 seeds\)\) \| 0\.\d{3} \[/);
  const json = recommendationJson(rows) as { auroc: number; deltaVsBestLocal: { ci: number[] } }[];
  assert.equal(json.length, 6);
  assert.ok(json.every((j) => Number.isFinite(j.auroc) && j.deltaVsBestLocal.ci.length === 2));
  assert.ok(readFileSync(join(dir, "results.jsonl"), "utf8").includes('"selection"'));
});

test("no auto cells: the best arm by mean AUROC, flagged as chosen on the test set", async () => {
  const store = await writeSyntheticStore(`${dir}-plain`);
  const rows = recommendFromCells(store.cells);
  assert.equal(rows.length, 6);
  for (const r of rows) {
    assert.equal(r.basis, "best-mean");
    assert.notEqual(r.arm.scenario, "auto");
  }
  // At n = 50 fine-tuning bert is best by far.
  assert.equal(rows[0].label, "finetune-all · bert");
  assert.equal(rows[0].verdict, "better");
  assert.match(
    formatRecommendation(rows),
    /No auto arm in these results: the arm shown is the one with the highest mean test AUROC, chosen on the test set itself/,
  );
});

test("multi-class: Δ by paired bootstrap; a tiny test set withholds the verdict", () => {
  const rng = new Rng(2);
  const labels = Array.from({ length: 240 }, (_, i) => i % 4);
  const rows = (signal: number) =>
    labels.flatMap((y) => {
      const z = [0, 1, 2, 3].map((c) => (c === y ? signal : 0) + rng.normal());
      const e = z.map(Math.exp);
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    });
  const cell = (scenario: string, signal: number, extra: Partial<CellResult> = {}): CellResult => ({
    key: {
      id: scenario,
      scenario,
      model: "cnn",
      embedding: "bert",
      ...(scenario === "local" ? {} : { source: "A" }),
      target: "B",
      targetSize: "all",
      seed: 1,
      task: "4-class",
      recalibration: "none",
    },
    status: "ok",
    predictions: { classes: ["I", "M", "P", "R"], labels, scores: rows(signal) },
    finishedAt: "x",
    codeVersion: "x",
    ...extra,
  });
  const out = recommendFromCells([
    cell("local", 0.3),
    cell("auto", 1.8, { selection: { winner: "stacked", scores: {} } } as never),
  ]);
  assert.equal(out.length, 1);
  assert.equal(out[0].delta?.method, "bootstrap");
  assert.equal(out[0].verdict, "better");
  assert.deepEqual(out[0].winners, [{ candidate: "stacked", seeds: 1 }]);
  assert.equal(out[0].breakEven, null, "auto is clearly better at every size run");
  const settings = reportSettings({ minTestEvents: 100 });
  const small = recommendFromCells([cell("local", 0.3), cell("auto", 1.8)], settings);
  assert.equal(small[0].smallSample, true);
  assert.equal(small[0].verdict, "untested");
  assert.match(formatRecommendation(small), /too few events to rank/);
});
