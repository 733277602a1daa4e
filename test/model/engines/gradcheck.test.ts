import assert from "node:assert/strict";
import { test } from "node:test";
import { DirectCnnEngine } from "../../../src/model/engines/direct.js";
import type { EngineInput } from "../../../src/model/engines/engine.js";
import { LogisticEngine } from "../../../src/model/engines/logistic.js";
import type { OptimizerConfig } from "../../../src/model/engines/optimizer.js";
import { cloneParams, initParams, type ModelParams } from "../../../src/model/params.js";
import type { ModelArchitecture } from "../../../src/model/types.js";
import { Rng } from "../../../src/util/rng.js";
import { type Problem, randomProblem } from "../fixtures.js";

/*
 * Gradient checks: the hand-derived backward pass against central finite differences of the loss.
 * The gradient is read off one engine step with plain SGD at lr 1 (no momentum, no weight decay):
 * new = old - grad. The loss at perturbed weights comes from a fresh engine's step, which draws the
 * same dropout mask (same seed), so dropout is checked too.
 */
const PLAIN: OptimizerConfig = {
  kind: "sgd",
  lr: 1,
  momentum: 0,
  nesterov: false,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
};

interface Mode {
  embedding: boolean;
  conv: boolean;
  dense: boolean;
}

function engineFor(
  arch: ModelArchitecture,
  params: ModelParams,
  E: Float64Array,
  prob: Problem,
  mode: Mode,
  classWeights: Float64Array | null,
) {
  const input: EngineInput = {
    params,
    embedding: E,
    rows: prob.rows,
    train: { seqs: prob.seqs, labels: prob.labels },
    classWeights,
    trainEmbedding: mode.embedding,
    trainConv: mode.conv,
    trainDense: mode.dense,
    dropoutRng: new Rng(99),
  };
  return arch.kind === "concept-cnn" ? new DirectCnnEngine(input, PLAIN) : new LogisticEngine(input, PLAIN);
}

function check(arch: ModelArchitecture, mode: Mode, classWeights: Float64Array | null = null): void {
  const C = arch.numClasses;
  const prob = randomProblem(3 + C, 9, arch.embeddingDim, 7, C);
  const params = initParams(arch, new Rng(11));
  // Larger than PyTorch's init so that ReLUs are on and the check is not vacuous.
  for (const w of params.convW) for (let i = 0; i < w.length; i++) w[i] *= 3;
  const batch = new Uint32Array([0, 1, 2, 3, 4, 5, 6]);
  const lossAt = (p: ModelParams, E: Float64Array): number =>
    engineFor(arch, cloneParams(p), E, prob, mode, classWeights).step(batch, 0, batch.length);
  const engine = engineFor(arch, cloneParams(params), prob.embedding, prob, mode, classWeights);
  engine.step(batch, 0, batch.length);
  const after = (engine as DirectCnnEngine).export((engine as DirectCnnEngine).capture());

  type Group = { name: string; trained: boolean; get: (p: ModelParams, E: Float64Array) => Float64Array };
  const groups: Group[] = [
    { name: "dense.weight", trained: mode.dense, get: (p) => p.denseW },
    { name: "dense.bias", trained: mode.dense, get: (p) => p.denseB },
    { name: "embedding", trained: mode.embedding, get: (_p, E) => E },
  ];
  params.convW.forEach((_, i) => {
    groups.push({ name: `conv${i}.weight`, trained: mode.conv, get: (p) => p.convW[i] });
    groups.push({ name: `conv${i}.bias`, trained: mode.conv, get: (p) => p.convB[i] });
  });
  const h = 1e-6;
  let nonzero = 0;
  for (const g of groups) {
    const before = g.get(params, prob.embedding);
    const now = g.get(after.params, after.embedding ?? prob.embedding);
    for (let q = 0; q < before.length; q++) {
      const analytic = before[q] - now[q];
      if (!g.trained) {
        assert.equal(now[q], before[q], `${g.name}[${q}] is frozen and must not move`);
        continue;
      }
      const p1 = cloneParams(params);
      const p2 = cloneParams(params);
      const E1 = prob.embedding.slice();
      const E2 = prob.embedding.slice();
      g.get(p1, E1)[q] += h;
      g.get(p2, E2)[q] -= h;
      const numeric = (lossAt(p1, E1) - lossAt(p2, E2)) / (2 * h);
      if (Math.abs(numeric) > 1e-8) nonzero++;
      assert.ok(
        Math.abs(analytic - numeric) <= 1e-6 + 1e-5 * Math.abs(numeric),
        `${arch.kind} ${JSON.stringify(mode)} ${g.name}[${q}]: analytic ${analytic} vs numeric ${numeric}`,
      );
    }
  }
  if (mode.embedding || mode.conv || mode.dense) assert.ok(nonzero > 0, "some gradient must be non-zero");
}

const MODES: Mode[] = [];
for (const embedding of [false, true])
  for (const conv of [false, true]) for (const dense of [false, true]) MODES.push({ embedding, conv, dense });

for (const kernels of [[1], [3], [1, 3]])
  for (const C of [2, 3])
    test(`concept-cnn kernels ${kernels} with ${C} classes: gradients match finite differences in every freezing mode`, () => {
      const arch: ModelArchitecture = {
        kind: "concept-cnn",
        embeddingDim: 4,
        kernelSizes: kernels,
        filters: kernels.map((_, i) => 3 + i),
        numClasses: C,
        dropout: 0.3,
      };
      for (const mode of MODES) check(arch, mode);
    });

test("class-weighted cross-entropy gradients match finite differences", () => {
  const arch: ModelArchitecture = {
    kind: "concept-cnn",
    embeddingDim: 4,
    kernelSizes: [1],
    filters: [3],
    numClasses: 3,
    dropout: 0,
  };
  check(arch, { embedding: true, conv: true, dense: true }, Float64Array.from([1, 2, 0.5]));
});

for (const C of [2, 3])
  test(`mean-logistic with ${C} classes: gradients match finite differences in every freezing mode`, () => {
    const arch: ModelArchitecture = { kind: "mean-logistic", embeddingDim: 4, numClasses: C };
    for (const mode of MODES) check(arch, { ...mode, conv: false });
  });
