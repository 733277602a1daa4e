import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  BOW_LAMBDAS,
  fitBow,
  fitBowCv,
  poolCvFolds,
  predictBow,
  stratifiedFolds,
} from "../../src/model/bow-logistic.js";
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

/** The objective of the file header, written plainly: mean -log softmax + L2 (dense weights around a centre). */
function naiveObjective(
  d: ReturnType<typeof data>,
  C: number,
  V: number,
  lambda: number,
  center: Float64Array,
  w: { tokenW: Float64Array; denseW: Float64Array; bias: Float64Array },
): number {
  const n = d.labels.length;
  const F = center.length / C;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const z = Array.from(w.bias);
    for (let k = d.seqs.offsets[i]; k < d.seqs.offsets[i + 1]; k++)
      for (let c = 0; c < C; c++) z[c] += w.tokenW[d.seqs.tokens[k] * C + c];
    for (let f = 0; f < F; f++)
      for (let c = 0; c < C; c++) z[c] += (d.dense as Float64Array)[i * F + f] * w.denseW[f * C + c];
    const max = Math.max(...z);
    const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
    loss += lse - z[d.labels[i]];
  }
  let pen = 0;
  for (let j = C; j < (V + 1) * C; j++) pen += w.tokenW[j] ** 2;
  for (let j = 0; j < center.length; j++) pen += (w.denseW[j] - center[j]) ** 2;
  return loss / n + 0.5 * lambda * pen;
}

test("four classes with dense features and a centre: the fit is the minimum of the objective as written", () => {
  const c = cases[1]; // 4 classes, 25 tokens, 200 encounters
  const base = data(c);
  const F = 2;
  const dense = new Float64Array(base.labels.length * F);
  base.labels.forEach((y, i) => {
    dense[i * F] = y === 2 ? 1.5 : -0.5 + (i % 3) * 0.2;
    dense[i * F + 1] = Math.sin(i);
  });
  const d = { ...base, dense };
  const center = new Float64Array(F * 4);
  center[0] = 1;
  center[5] = 1;
  const lambda = 0.05;
  const m = fitBow(d, {
    classes: 4,
    vocab: c.vocab,
    lambda,
    denseCenter: center,
    maxIterations: 5000,
    gradientTolerance: 1e-10,
  });
  const f0 = naiveObjective(d, 4, c.vocab, lambda, center, m);
  // Every single-coordinate move raises the objective (to second order): a stationary point.
  const h = 1e-4;
  for (const [name, arr] of [
    ["tokenW", m.tokenW],
    ["denseW", m.denseW],
    ["bias", m.bias],
  ] as const) {
    for (let j = name === "tokenW" ? 4 : 0; j < arr.length; j += name === "tokenW" ? 7 : 1) {
      const keep = arr[j];
      arr[j] = keep + h;
      const up = naiveObjective(d, 4, c.vocab, lambda, center, m);
      arr[j] = keep - h;
      const down = naiveObjective(d, 4, c.vocab, lambda, center, m);
      arr[j] = keep;
      const grad = (up - down) / (2 * h);
      assert.ok(Math.abs(grad) < 1e-6, `${name}[${j}]: d objective = ${grad}`);
    }
  }
  // The guard: the dense weights moved from their centre (the data pull them), and the centre matters.
  assert.ok(Math.abs(m.denseW[4] - center[4]) > 0.01, `${m.denseW[4]}`);
  const free = fitBow(d, {
    classes: 4,
    vocab: c.vocab,
    lambda,
    maxIterations: 5000,
    gradientTolerance: 1e-10,
  });
  assert.ok(Math.abs(free.denseW[0] - m.denseW[0]) > 0.01);
  assert.ok(f0 < naiveObjective(d, 4, c.vocab, lambda, center, free));
});

test("bow CV cross-fits each fold at the strength the other folds chose; one-SE takes a stronger one", () => {
  const c = cases[1];
  const d = data(c);
  const m = fitBowCv(d, { classes: c.classes, vocab: c.vocab, seed: 3 });
  assert.deepEqual(m.crossFit.folds, poolCvFolds(d.labels, 3));
  assert.equal(m.crossFit.folds.length, 3);
  // Each fold's rows are predictions of a model that never saw them: refit without the fold at each
  // strength and one of them reproduces the cross-fitted rows (to the CV's loose tolerance).
  for (const held of m.crossFit.folds) {
    const keep = Array.from({ length: d.labels.length }, (_, i) => i).filter((i) => !held.includes(i));
    const sub = (rows: number[]) => ({
      seqs: {
        count: rows.length,
        offsets: Uint32Array.from([
          0,
          ...rows.map((_, k) =>
            rows.slice(0, k + 1).reduce((s, r) => s + (d.seqs.offsets[r + 1] - d.seqs.offsets[r]), 0),
          ),
        ]),
        tokens: Uint32Array.from(
          rows.flatMap((r) => Array.from(d.seqs.tokens.subarray(d.seqs.offsets[r], d.seqs.offsets[r + 1]))),
        ),
      },
      labels: Int32Array.from(rows.map((r) => d.labels[r])),
    });
    const gaps = BOW_LAMBDAS.map((lambda) => {
      const fit = fitBow(sub(keep), {
        classes: c.classes,
        vocab: c.vocab,
        lambda,
        maxIterations: 2000,
        gradientTolerance: 1e-9,
      });
      const p = predictBow(fit, sub(held).seqs);
      let worst = 0;
      held.forEach((row, k) => {
        for (let j = 0; j < c.classes; j++)
          worst = Math.max(worst, Math.abs(p[k * c.classes + j] - m.crossFit.probs[row * c.classes + j]));
      });
      return worst;
    });
    assert.ok(
      Math.min(...gaps) < 0.02,
      `fold of ${held.length}: closest strength differs by ${Math.min(...gaps)}`,
    );
  }
  const conservative = fitBowCv(d, { classes: c.classes, vocab: c.vocab, seed: 3, oneStandardError: true });
  assert.ok(conservative.lambda >= m.lambda, `${conservative.lambda} vs ${m.lambda}`);
});
