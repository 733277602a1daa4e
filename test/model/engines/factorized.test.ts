import assert from "node:assert/strict";
import { test } from "node:test";
import { DirectCnnEngine } from "../../../src/model/engines/direct.js";
import type { EngineInput } from "../../../src/model/engines/engine.js";
import { FactorizedCnnEngine } from "../../../src/model/engines/factorized.js";
import type { OptimizerConfig } from "../../../src/model/engines/optimizer.js";
import { initParams } from "../../../src/model/params.js";
import type { ModelArchitecture } from "../../../src/model/types.js";
import { Rng } from "../../../src/util/rng.js";
import { engineInput, maxRelDiff, randomProblem, sgdConfig } from "../fixtures.js";

/*
 * The token-space engine must follow the same trajectory as plain D-space SGD: run both for 200
 * steps on the same batches and dropout masks and compare probabilities and rebuilt weights.
 */
function compare(
  arch: ModelArchitecture,
  cfg: OptimizerConfig,
  freezeDense: boolean,
  maxLen: number,
  rows: number,
  tracksC: boolean,
  embedding?: Float64Array,
) {
  const prob = randomProblem(21, rows, arch.embeddingDim, 60, arch.numClasses, maxLen);
  if (embedding) prob.embedding = embedding;
  const params = initParams(arch, new Rng(5));
  const mk = (): EngineInput => ({
    params,
    embedding: prob.embedding,
    rows: prob.rows,
    train: { seqs: prob.seqs, labels: prob.labels },
    classWeights: null,
    trainEmbedding: false,
    trainConv: true,
    trainDense: !freezeDense,
    dropoutRng: new Rng(8),
  });
  const direct = new DirectCnnEngine(mk(), cfg);
  const fact = new FactorizedCnnEngine(mk(), cfg);
  // Both ways of recovering W: C tracked per step (K singular: D < vocabulary) or solved for.
  assert.equal(fact.tracksC, tracksC);
  const order = new Rng(4);
  for (let s = 0; s < 200; s++) {
    const batch = order.permutation(prob.seqs.count).subarray(0, 8);
    const l1 = direct.step(batch, 0, 8);
    const l2 = fact.step(batch, 0, 8);
    assert.ok(Math.abs(l1 - l2) <= 1e-9 * Math.max(1, Math.abs(l1)), `loss at step ${s}: ${l1} vs ${l2}`);
  }
  const p1 = direct.probs(prob.seqs);
  const p2 = fact.probs(prob.seqs);
  assert.ok(maxRelDiff(p1, p2) < 1e-9, `probabilities differ by ${maxRelDiff(p1, p2)}`);
  const w1 = direct.export(direct.capture()).params;
  const w2 = fact.export(fact.capture()).params;
  w1.convW.forEach((w, i) => {
    const d = maxRelDiff(w, w2.convW[i]);
    assert.ok(d < 1e-9, `conv${i}.weight differs by ${d}`);
    // ... and the weights really moved away from the initialisation.
    assert.ok(maxRelDiff(w, params.convW[i]) > 1e-3);
  });
  assert.ok(maxRelDiff(w1.convB[0], w2.convB[0]) < 1e-9);
  assert.ok(maxRelDiff(w1.denseW, w2.denseW) < 1e-9);
}

const SGD = sgdConfig();

const cnn = (kernels: number[], C: number): ModelArchitecture => ({
  kind: "concept-cnn",
  embeddingDim: 7,
  kernelSizes: kernels,
  filters: kernels.map(() => 5),
  numClasses: C,
  dropout: 0.5,
});

test("factorized == direct: kernel 1, Nesterov + weight decay, ranked max-pool (long encounters)", () => {
  compare(cnn([1], 2), SGD, false, 16, 12, true);
});

test("factorized == direct: kernel 1, scanned max-pool (short encounters, larger vocabulary)", () => {
  compare(cnn([1], 3), SGD, false, 4, 30, true);
});

test("factorized == direct: kernels 1 and 3, plain momentum, frozen dense layer", () => {
  compare(cnn([1, 3], 2), { ...SGD, nesterov: false }, true, 8, 15, true);
});

test("factorized == direct: no momentum, embedding dimension above the vocabulary size (C solved for)", () => {
  const arch: ModelArchitecture = { ...cnn([2], 2), embeddingDim: 20 };
  compare(arch, { ...SGD, momentum: 0 }, false, 6, 9, false);
});

test("factorized == direct: kernel 1, Nesterov, ranked max-pool, C solved for (D > vocabulary)", () => {
  const arch: ModelArchitecture = { ...cnn([1], 2), embeddingDim: 24 };
  compare(arch, SGD, false, 14, 16, false);
});

test("factorized == direct on a one-hot table (sparse Gram, sparse K scatter, CSR tables in the direct engine)", () => {
  // 19 tokens, the last 4 sharing the "unknown" slot: K is the identity plus a 4 x 4 block of ones.
  const rows = 20;
  const D = 16;
  const E = new Float64Array(rows * D);
  for (let v = 1; v < rows; v++) E[v * D + Math.min(v - 1, D - 1)] = 1;
  compare({ ...cnn([1], 2), embeddingDim: D }, SGD, false, 12, rows, true, E);
});

test("frozen conv: the factorized engine pools once and follows the direct engine's trajectory exactly", () => {
  const arch = cnn([1], 3);
  const prob = randomProblem(5, 14, arch.embeddingDim, 40, 3, 9);
  const params = initParams(arch, new Rng(3));
  const mk = () =>
    engineInput(prob, params, {
      classWeights: Float64Array.from([1, 2, 0.5]),
      trainEmbedding: false,
      trainConv: false,
      dropoutRng: new Rng(6),
    });
  const direct = new DirectCnnEngine(mk(), SGD);
  const fact = new FactorizedCnnEngine(mk(), SGD);
  const order = new Rng(2);
  for (let s = 0; s < 150; s++) {
    const batch = order.permutation(prob.seqs.count).subarray(0, 8);
    assert.equal(fact.step(batch, 0, 8), direct.step(batch, 0, 8), `loss at step ${s}`);
    // Scoring between steps (as the per-epoch validation does) reuses the pooled features.
    if (s % 50 === 0) assert.deepEqual(fact.probs(prob.seqs), direct.probs(prob.seqs));
  }
  assert.deepEqual(fact.probs(prob.seqs), direct.probs(prob.seqs));
  const w = fact.export(fact.capture()).params;
  assert.deepEqual(w.denseW, direct.export(direct.capture()).params.denseW);
  assert.deepEqual(w.convW, params.convW);
});
