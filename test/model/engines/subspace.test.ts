import assert from "node:assert/strict";
import { test } from "node:test";
import { DirectCnnEngine } from "../../../src/model/engines/direct.js";
import type { OptimizerConfig } from "../../../src/model/engines/optimizer.js";
import { SubspaceCnnEngine } from "../../../src/model/engines/subspace.js";
import { initParams } from "../../../src/model/params.js";
import type { ModelArchitecture } from "../../../src/model/types.js";
import { Rng } from "../../../src/util/rng.js";
import { engineInput, maxRelDiff, randomProblem, sgdConfig, stepTogether } from "../fixtures.js";

/*
 * Training a trainable embedding with SGD in the span of the initial token vectors and filters
 * must follow the D-space trajectory: same batches and dropout masks, 200 steps, then compare the
 * losses, probabilities and the exported (D-space) weights and embedding.
 */
const SGD = sgdConfig();

function compare(arch: ModelArchitecture, cfg: OptimizerConfig, rows: number, expectR: number) {
  const prob = randomProblem(31, rows, arch.embeddingDim, 50, arch.numClasses, 10);
  const params = initParams(arch, new Rng(2));
  const direct = new DirectCnnEngine(engineInput(prob, params), cfg);
  const sub = new SubspaceCnnEngine(engineInput(prob, params), cfg);
  assert.equal(sub.r, expectR);
  stepTogether(direct, sub, prob.seqs.count, 200, 8);
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
    () => new SubspaceCnnEngine(engineInput(prob, initParams(arch, new Rng(1))), { ...SGD, kind: "adam" }),
    /SGD/,
  );
});
