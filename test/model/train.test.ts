import assert from "node:assert/strict";
import { test } from "node:test";
import { meanLogistic, paperCnn } from "../../src/model/architecture.js";
import { macroAuroc } from "../../src/model/auroc.js";
import { BatchSampler } from "../../src/model/batch-sampler.js";
import { predictProba } from "../../src/model/predict.js";
import { classWeightVector, type TrainInput, trainModel } from "../../src/model/train.js";
import { trainSettings } from "../../src/model/train-settings.js";
import type { ModelArchitecture } from "../../src/model/types.js";
import { InputError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { randomProblem } from "./fixtures.js";

function input(arch: ModelArchitecture, settings: Parameters<typeof trainSettings>[0], seed = 1): TrainInput {
  const prob = randomProblem(seed, 16, arch.embeddingDim, 500, arch.numClasses, 10);
  const sub = (from: number, to: number) => {
    const offsets = prob.seqs.offsets.slice(from, to + 1).map((o) => o - prob.seqs.offsets[from]);
    return {
      seqs: {
        count: to - from,
        offsets,
        tokens: prob.seqs.tokens.slice(prob.seqs.offsets[from], prob.seqs.offsets[to]),
      },
      labels: prob.labels.slice(from, to),
    };
  };
  return {
    architecture: arch,
    embedding: { rows: prob.rows, dim: prob.dim, data: Float32Array.from(prob.embedding) },
    embeddingRef: { providerId: "test", dimension: prob.dim, trainable: false },
    classes: Array.from({ length: arch.numClasses }, (_, i) => `c${i}`),
    train: sub(0, 400),
    validation: sub(400, 500),
    settings: trainSettings(settings),
    vocabulary: Array.from({ length: prob.rows - 1 }, (_, i) => ({ key: `k${i}`, text: `token ${i}` })),
  };
}

test("the paper's CNN learns a token-determined label and keeps the best validation epoch", () => {
  const inp = input(paperCnn(32, 3), { epochs: 8, itersPerEpoch: 40, lr: 0.05, seed: 3 });
  const r = trainModel(inp);
  assert.equal(r.history.length, 8);
  const best = Math.max(...r.history);
  assert.equal(r.bestValidationAuroc, best);
  assert.equal(r.bestEpoch, r.history.indexOf(best) + 1);
  assert.ok(best > 0.75, `validation AUROC ${best}`);
  // The snapshot holds the best epoch's weights: predicting validation reproduces its AUROC
  // (up to the float32 rounding of model files).
  const p = predictProba(r.snapshot, inp.embedding, inp.validation.seqs);
  assert.ok(Math.abs(macroAuroc(inp.validation.labels, p, 3) - best) < 2e-3);
  assert.equal(r.snapshot.embedding.trainable, false);
  assert.equal(r.snapshot.vocabulary.length, 15);
});

test("training is reproducible from the seed and differs across seeds", () => {
  const s = { epochs: 2, itersPerEpoch: 10, lr: 0.05 };
  const a = trainModel(input(paperCnn(8, 3), { ...s, seed: 1 }));
  const b = trainModel(input(paperCnn(8, 3), { ...s, seed: 1 }));
  const c = trainModel(input(paperCnn(8, 3), { ...s, seed: 2 }));
  assert.deepEqual(a.snapshot.weights["conv0.weight"].data, b.snapshot.weights["conv0.weight"].data);
  assert.notDeepEqual(a.snapshot.weights["conv0.weight"].data, c.snapshot.weights["conv0.weight"].data);
});

test("early stopping ends training after `patience` epochs without improvement", () => {
  const r = trainModel(
    input(paperCnn(8, 2), { epochs: 40, itersPerEpoch: 5, lr: 0.5, earlyStoppingPatience: 2 }),
  );
  const best = Math.max(...r.history);
  assert.equal(r.bestValidationAuroc, best);
  if (r.history.length < 40) assert.equal(r.history.length, r.bestEpoch + 2);
  for (const v of r.history.slice(r.bestEpoch)) assert.ok(v <= best);
});

test("engine choice: factorized for frozen embeddings with SGD, subspace for a trained embedding with SGD, direct otherwise", () => {
  const s = { epochs: 1, itersPerEpoch: 3 };
  // With D = 64 > vocabulary the token-space step is far cheaper; with D = 8 the direct one is.
  assert.equal(trainModel(input(paperCnn(64, 2), s)).engine, "factorized");
  assert.equal(trainModel(input(paperCnn(8, 2), s)).engine, "direct");
  const tuned = trainModel(input(paperCnn(64, 2), { ...s, freeze: { embedding: false } }));
  assert.equal(tuned.engine, "direct");
  assert.equal(tuned.snapshot.embedding.trainable, true);
  assert.deepEqual(tuned.snapshot.weights.embedding.shape, [16, 64]);
  assert.equal(trainModel(input(paperCnn(64, 2), { ...s, optimizer: "adam" })).engine, "direct");
  assert.equal(trainModel(input(meanLogistic(8, 2), s)).engine, "logistic");
  // A trained embedding with SGD: 15 tokens + 100 filters span far fewer than 512 dimensions.
  const wide = trainModel(input(paperCnn(512, 2), { ...s, freeze: { embedding: false } }));
  assert.equal(wide.engine, "subspace");
  assert.deepEqual(wide.snapshot.weights.embedding.shape, [16, 512]);
  assert.equal(
    trainModel(input(paperCnn(512, 2), { ...s, freeze: { embedding: false }, optimizer: "adam" })).engine,
    "direct",
  );
  assert.throws(
    () =>
      trainModel(
        input(paperCnn(512, 2), {
          ...s,
          engine: "subspace",
          optimizer: "adam",
          freeze: { embedding: false },
        }),
      ),
    InputError,
  );
  assert.throws(
    () => trainModel(input(paperCnn(8, 2), { ...s, engine: "factorized", freeze: { embedding: false } })),
    InputError,
  );
});

test("fully frozen training from an initial model keeps its weights", () => {
  const first = trainModel(input(paperCnn(8, 2), { epochs: 1, itersPerEpoch: 5 }));
  const again = trainModel({
    ...input(paperCnn(8, 2), {
      epochs: 2,
      itersPerEpoch: 5,
      freeze: { embedding: true, conv: true, dense: true },
    }),
    init: first.snapshot,
  });
  for (const name of Object.keys(first.snapshot.weights))
    assert.deepEqual(again.snapshot.weights[name].data, first.snapshot.weights[name].data);
});

test("mean-logistic baseline learns", () => {
  const r = trainModel(input(meanLogistic(8, 2), { epochs: 5, itersPerEpoch: 40, lr: 0.1 }));
  assert.ok(r.bestValidationAuroc > 0.7, `validation AUROC ${r.bestValidationAuroc}`);
});

test("invalid inputs are InputErrors", () => {
  const ok = input(paperCnn(8, 2), { epochs: 1, itersPerEpoch: 1 });
  assert.throws(() => trainModel({ ...ok, architecture: paperCnn(9, 2) }), InputError);
  assert.throws(() => trainModel({ ...ok, classes: ["a", "b", "c"] }), InputError);
  const badTokens = { ...ok.train, seqs: { ...ok.train.seqs, tokens: ok.train.seqs.tokens.map(() => 16) } };
  assert.throws(() => trainModel({ ...ok, train: badTokens }), /token id 16/);
  const badLabels = { ...ok.train, labels: ok.train.labels.map(() => 2) };
  assert.throws(() => trainModel({ ...ok, train: badLabels }), /label 2/);
  assert.throws(
    () => trainModel({ ...ok, settings: trainSettings({ classWeights: [1, 2, 3] }) }),
    InputError,
  );
});

test("balanced class weights are n / (C n_c)", () => {
  const w = classWeightVector(trainSettings({ classWeights: "balanced" }), Int32Array.from([0, 0, 0, 1]), 2);
  assert.deepEqual(Array.from(w!), [4 / 6, 4 / 2]);
  assert.equal(classWeightVector(trainSettings({}), Int32Array.from([0, 1]), 2), null);
});

test("batches walk a permutation and reshuffle when fewer than a batch remain", () => {
  const s = new BatchSampler(10, 4, new Rng(1));
  const first = s.next();
  const second = s.next();
  assert.equal(first.order, second.order);
  assert.equal(second.start, 4);
  const eight = new Set(first.order.subarray(0, 8));
  assert.equal(eight.size, 8);
  const third = s.next(); // 8 + 4 > 10: new permutation
  assert.notEqual(third.order, first.order);
  assert.equal(third.start, 0);
  const small = new BatchSampler(3, 32, new Rng(2));
  assert.equal(small.batchSize, 3);
  assert.deepEqual([...small.next().order].sort(), [0, 1, 2]);
});

test("epochAtMostOnePass: an epoch on 400 encounters is 13 steps of 32, not 100; the step budget stays", () => {
  const onePass = trainModel(
    input(paperCnn(8, 2), { epochs: 2, itersPerEpoch: 100, epochAtMostOnePass: true, lr: 0.05 }),
  );
  // 2 x 100 steps in epochs of 13: 16 epochs (208 steps, the last epoch whole).
  assert.equal(onePass.epochsRun, 16);
  const thirteen = trainModel(input(paperCnn(8, 2), { epochs: 16, itersPerEpoch: 13, lr: 0.05 }));
  const hundred = trainModel(input(paperCnn(8, 2), { epochs: 2, itersPerEpoch: 100, lr: 0.05 }));
  for (const name of Object.keys(onePass.snapshot.weights))
    assert.deepEqual(onePass.snapshot.weights[name].data, thirteen.snapshot.weights[name].data, name);
  // The guard: 100 steps per epoch end elsewhere.
  assert.notDeepEqual(
    onePass.snapshot.weights["dense.weight"].data,
    hundred.snapshot.weights["dense.weight"].data,
  );
});

test("earlyStoppingMinSteps: patience cannot end training before the minimum number of steps", () => {
  const s = { epochs: 40, itersPerEpoch: 5, lr: 0.5, earlyStoppingPatience: 1 };
  const early = trainModel(input(paperCnn(8, 2), s));
  const held = trainModel(input(paperCnn(8, 2), { ...s, earlyStoppingMinSteps: 100 }));
  assert.ok(held.epochsRun >= 20, `${held.epochsRun} epochs of 5 steps`);
  // The guard: without the minimum, patience 1 stops this run earlier.
  assert.ok(early.epochsRun < held.epochsRun, `${early.epochsRun} vs ${held.epochsRun}`);
});

test("selectAfterMinSteps: no epoch before the minimum is kept, and the kept one is the best after it", () => {
  // lr 0.5 with patience: the validation score peaks early, so without the rule an early epoch is kept.
  const s = { epochs: 40, itersPerEpoch: 5, lr: 0.5, earlyStoppingPatience: 3, earlyStoppingMinSteps: 100 };
  const free = trainModel(input(paperCnn(8, 2), s));
  const after = trainModel(input(paperCnn(8, 2), { ...s, selectAfterMinSteps: true }));
  assert.ok(after.bestEpoch >= 20, `kept epoch ${after.bestEpoch} (20 epochs of 5 steps = 100 steps)`);
  // The kept epoch is the best validation AUROC among the eligible ones (selection: auroc).
  const eligible = after.history.slice(19);
  assert.equal(after.bestValidationAuroc, Math.max(...eligible));
  // The guard: without the rule this run keeps an epoch before the minimum.
  assert.ok(free.bestEpoch < 20, `without the rule epoch ${free.bestEpoch} is kept`);
});
