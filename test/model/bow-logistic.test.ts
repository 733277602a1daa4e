import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fitBow, fitBowCv, predictBow, stratifiedFolds } from "../../src/model/bow-logistic.js";
import { PROJECT_ROOT } from "../../src/util/paths.js";

interface Case {
  classes: number;
  vocab: number;
  lambda: number;
  dense: number[][] | null;
  seqs: number[][];
  labels: number[];
  probs: number[][];
}
const { cases } = JSON.parse(
  readFileSync(join(PROJECT_ROOT, "test", "model", "fixtures", "bow-logistic-reference.json"), "utf8"),
) as { cases: Case[] };

function data(c: Case) {
  const offsets = new Uint32Array(c.seqs.length + 1);
  c.seqs.forEach((s, i) => {
    offsets[i + 1] = offsets[i] + s.length;
  });
  return {
    seqs: { count: c.seqs.length, offsets, tokens: Uint32Array.from(c.seqs.flat()) },
    labels: Int32Array.from(c.labels),
    ...(c.dense ? { dense: Float64Array.from(c.dense.flat()) } : {}),
  };
}

test("bow logistic equals scikit-learn's L2 logistic regression (binary, multinomial, dense features)", () => {
  for (const c of cases) {
    const d = data(c);
    const m = fitBow(d, {
      classes: c.classes,
      vocab: c.vocab,
      lambda: c.lambda,
      maxIterations: 5000,
      gradientTolerance: 1e-10,
    });
    const p = predictBow(m, d.seqs, d.dense);
    let worst = 0;
    c.probs.forEach((row, i) => {
      row.forEach((v, k) => {
        worst = Math.max(worst, Math.abs(v - p[i * c.classes + k]));
      });
    });
    assert.ok(worst < 1e-5, `classes ${c.classes}: max |p - sklearn| = ${worst}`);
    // The guard: the fit moved away from the uniform start.
    assert.ok(Math.abs(p[0] - 1 / c.classes) > 0.01 || Math.abs(p[1] - 1 / c.classes) > 0.01);
  }
});

test("bow CV picks a penalty on held-out folds and never reads a row twice per fold", () => {
  const c = cases[1];
  const d = data(c);
  const folds = stratifiedFolds(d.labels, 5, 3);
  const all = folds.flat().sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: d.labels.length }, (_, i) => i),
  );
  const m = fitBowCv(d, { classes: c.classes, vocab: c.vocab, seed: 3 });
  assert.ok(m.cvAuroc > 0.6 && m.cvAuroc <= 1, `${m.cvAuroc}`);
  assert.ok(m.lambda > 0);
});
