import assert from "node:assert/strict";
import { test } from "node:test";
import type { EngineInput } from "../../src/model/engine.js";
import { DirectCnnEngine } from "../../src/model/engine-direct.js";
import { SubspaceCnnEngine } from "../../src/model/engine-subspace.js";
import type { OptimizerConfig } from "../../src/model/optimizer.js";
import { initParams } from "../../src/model/params.js";
import type { ModelArchitecture } from "../../src/model/types.js";
import { Rng } from "../../src/util/rng.js";
import { maxRelDiff, randomProblem } from "./fixtures.js";

/*
 * Training a trainable embedding with SGD in the span of the initial token vectors and filters
 * must follow the D-space trajectory: same batches and dropout masks, 200 steps, then compare the
 * losses, probabilities and the exported (D-space) weights and embedding.
 */
const SGD: OptimizerConfig = {
  kind: "sgd",
  lr: 0.05,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
};

function compare(arch: ModelArchitecture, cfg: OptimizerConfig, rows: number, expectR: number) {
  const prob = randomProblem(31, rows, arch.embeddingDim, 50, arch.numClasses, 10);
  const params = initParams(arch, new Rng(2));
  const mk = (): EngineInput => ({
    params,
    embedding: prob.embedding,
    rows,
    train: { seqs: prob.seqs, labels: prob.labels },
    classWeights: null,
    trainEmbedding: true,
    trainConv: true,
    trainDense: true,
    dropoutRng: new Rng(9),
  });
  const direct = new DirectCnnEngine(mk(), cfg);
  const sub = new SubspaceCnnEngine(mk(), cfg);
  assert.equal(sub.r, expectR);
  const order = new Rng(4);
  for (let s = 0; s < 200; s++) {
    const batch = order.permutation(prob.seqs.count).subarray(0, 8);
    const l1 = direct.step(batch, 0, 8);
    const l2 = sub.step(batch, 0, 8);
    assert.ok(Math.abs(l1 - l2) <= 1e-9 * Math.max(1, Math.abs(l1)), `loss at step ${s}: ${l1} vs ${l2}`);
  }
  assert.ok(maxRelDiff(direct.probs(prob.seqs), sub.probs(prob.seqs)) < 1e-9);
  const a = direct.export(direct.capture());
  const b = sub.export(sub.capture());
  assert.ok(a.embedding && b.embedding);
  const dE = maxRelDiff(a.embedding, b.embedding);
  assert.ok(dE < 1e-9, `embedding differs by ${dE}`);
  // ... and the embedding really moved.
  assert.ok(maxRelDiff(a.embedding, prob.embedding) > 1e-3);
  a.params.convW.forEach((w, i) => {
    assert.ok(maxRelDiff(w, b.params.convW[i]) < 1e-9, `conv${i}.weight`);
  });
  assert.deepEqual(b.params.arch, arch);
  assert.ok(maxRelDiff(a.params.denseW, b.params.denseW) < 1e-9);
  assert.ok(maxRelDiff(a.params.convB[0], b.params.convB[0]) < 1e-9);
}

test("subspace == direct: kernel 1, Nesterov + weight decay; r = tokens + filters < D", () => {
  // 11 token vectors + 5 filters span 16 of 40 dimensions.
  compare(
    { kind: "concept-cnn", embeddingDim: 40, kernelSizes: [1], filters: [5], numClasses: 2, dropout: 0.5 },
    SGD,
    12,
    16,
  );
});

test("subspace == direct: kernels 1 and 2, three classes, plain momentum", () => {
  const arch: ModelArchitecture = {
    kind: "concept-cnn",
    embeddingDim: 48,
    kernelSizes: [1, 2],
    filters: [4, 3],
    numClasses: 3,
    dropout: 0.3,
  };
  // 9 tokens + 4 + 2 x 3 filter columns = 19 dimensions.
  compare(arch, { ...SGD, nesterov: false }, 10, 19);
});

test("the subspace engine refuses Adam (per-coordinate scaling is not rotation-invariant)", () => {
  const arch: ModelArchitecture = {
    kind: "concept-cnn",
    embeddingDim: 20,
    kernelSizes: [1],
    filters: [3],
    numClasses: 2,
    dropout: 0,
  };
  const prob = randomProblem(1, 5, 20, 10, 2);
  assert.throws(
    () =>
      new SubspaceCnnEngine(
        {
          params: initParams(arch, new Rng(1)),
          embedding: prob.embedding,
          rows: 5,
          train: { seqs: prob.seqs, labels: prob.labels },
          classWeights: null,
          trainEmbedding: true,
          trainConv: true,
          trainDense: true,
          dropoutRng: new Rng(1),
        },
        { ...SGD, kind: "adam" },
      ),
    /SGD/,
  );
});
