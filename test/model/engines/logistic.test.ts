import assert from "node:assert/strict";
import { test } from "node:test";
import { meanLogistic } from "../../../src/model/architecture.js";
import { LogisticEngine, MAX_MEAN_CELLS } from "../../../src/model/engines/logistic.js";
import type { OptimizerConfig } from "../../../src/model/engines/optimizer.js";
import { kernelModule } from "../../../src/model/engines/wasm/kernels.js";
import { initParams } from "../../../src/model/params.js";
import { Rng } from "../../../src/util/rng.js";
import { engineInput, maxRelDiff, meanVectorsOf, randomProblem, sgdConfig } from "../fixtures.js";

/*
 * The mean-logistic engine against a from-scratch reference: softmax regression on each encounter's
 * mean token vector, plain SGD on the batch-mean cross-entropy. The precomputed-means path (frozen
 * embedding) must follow it step by step; the token-table path (trained embedding) must take the
 * same first step for W and b (after that its embedding has moved).
 */
const SGD = sgdConfig({ lr: 0.3, momentum: 0, nesterov: false, weightDecay: 0 });

function reference(
  X: number[][],
  y: Int32Array,
  W: Float64Array,
  b: Float64Array,
  C: number,
  batch: number[],
) {
  const D = X[0].length;
  const gW = new Float64Array(W.length);
  const gB = new Float64Array(C);
  let loss = 0;
  for (const i of batch) {
    const z = Array.from({ length: C }, (_, c) => b[c] + X[i].reduce((s, x, d) => s + x * W[d * C + c], 0));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((s, v) => s + v, 0);
    loss -= Math.log(e[y[i]] / sum) / batch.length;
    for (let c = 0; c < C; c++) {
      const g = (e[c] / sum - (c === y[i] ? 1 : 0)) / batch.length;
      gB[c] += g;
      for (let d = 0; d < D; d++) gW[d * C + c] += g * X[i][d];
    }
  }
  for (let q = 0; q < W.length; q++) W[q] -= SGD.lr * gW[q];
  for (let c = 0; c < C; c++) b[c] -= SGD.lr * gB[c];
  return loss;
}

test("mean-logistic engine (precomputed means) follows the reference softmax regression step by step", () => {
  const C = 3;
  const D = 5;
  const prob = randomProblem(4, 9, D, 30, C, 7);
  const arch = meanLogistic(D, C);
  const params = initParams(arch, new Rng(1));
  const engine = new LogisticEngine(
    engineInput(prob, params, { trainEmbedding: false, trainConv: false }),
    SGD,
  );
  const X = meanVectorsOf(prob);
  const W = params.denseW.slice();
  const b = params.denseB.slice();
  const order = new Rng(2);
  for (let s = 0; s < 50; s++) {
    const batch = order.permutation(prob.seqs.count).subarray(0, 6);
    const expected = reference(X, prob.labels, W, b, C, Array.from(batch));
    const loss = engine.step(batch, 0, 6);
    assert.ok(Math.abs(loss - expected) < 1e-12, `loss at step ${s}: ${loss} vs ${expected}`);
  }
  const out = engine.export(engine.capture()).params;
  assert.ok(maxRelDiff(out.denseW, W) < 1e-12);
  assert.ok(maxRelDiff(out.denseB, b) < 1e-12);
  // ... and scoring (token tables) agrees with the reference's weights.
  const p = engine.probs(prob.seqs);
  for (let n = 0; n < prob.seqs.count; n++) {
    const z = Array.from({ length: C }, (_, c) => b[c] + X[n].reduce((s2, x, d) => s2 + x * W[d * C + c], 0));
    const m = Math.max(...z);
    const sum = z.reduce((s2, v) => s2 + Math.exp(v - m), 0);
    for (let c = 0; c < C; c++) assert.ok(Math.abs(p[n * C + c] - Math.exp(z[c] - m) / sum) < 1e-12);
  }
});

test("the token-table path (trained embedding) takes the reference's first step", () => {
  const C = 2;
  const D = 4;
  const prob = randomProblem(8, 7, D, 20, C, 5);
  const params = initParams(meanLogistic(D, C), new Rng(3));
  const engine = new LogisticEngine(
    engineInput(prob, params, { trainEmbedding: true, trainConv: false }),
    SGD,
  );
  const X = meanVectorsOf(prob);
  const W = params.denseW.slice();
  const b = params.denseB.slice();
  const batch = Uint32Array.from([1, 4, 5, 9, 12, 17]);
  const expected = reference(X, prob.labels, W, b, C, Array.from(batch));
  assert.ok(Math.abs(engine.step(batch, 0, 6) - expected) < 1e-12);
  const out = engine.export(engine.capture());
  assert.ok(maxRelDiff(out.params.denseW, W) < 1e-12);
  assert.ok(out.embedding && maxRelDiff(out.embedding, prob.embedding) > 0);
});

test("a frozen embedding's token-table path (too many encounters x dimensions for the mean vectors) gives the same numbers with its wasm kernels as in plain JS", () => {
  if (!kernelModule()) return;
  for (const C of [2, 4]) {
    const D = 1700;
    const prob = randomProblem(9, 40, D, MAX_MEAN_CELLS / D + 20, C, 6);
    // Some zeros (rows 5..9, every seventh value): the kernels' zero-skipping path.
    for (let v = 5; v < 10; v++) for (let d = 0; d < D; d += 7) prob.embedding[v * D + d] = 0;
    const params = initParams(meanLogistic(D, C), new Rng(3));
    const adam: OptimizerConfig = { ...SGD, kind: "adam", lr: 0.05, weightDecay: 0 };
    const make = (wasm: boolean) =>
      new LogisticEngine(engineInput(prob, params, { trainEmbedding: false, trainConv: false }), adam, {
        wasm,
      });
    const a = make(true);
    const b = make(false);
    const order = new Rng(4);
    for (let s = 0; s < 6; s++) {
      const idx = order.permutation(prob.seqs.count).subarray(0, 32);
      assert.equal(a.step(idx, 0, 32), b.step(idx, 0, 32));
    }
    assert.deepEqual(a.export(a.capture()).params.denseW, b.export(b.capture()).params.denseW);
    const some = { count: 200, offsets: prob.seqs.offsets.subarray(0, 201), tokens: prob.seqs.tokens };
    assert.deepEqual(a.probs(some), b.probs(some));
  }
});
