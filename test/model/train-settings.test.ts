import assert from "node:assert/strict";
import { test } from "node:test";
import { kimCnn, paperCnn, validateArchitecture } from "../../src/model/architecture.js";
import {
  epochSteps,
  FINETUNE_SETTINGS,
  PAPER_SETTINGS,
  RECIPES,
  TrainSettings,
  trainSettings,
} from "../../src/model/train-settings.js";
import { InputError } from "../../src/util/errors.js";

test("defaults are the paper's settings; the finetune preset only raises the learning rate", () => {
  const p = PAPER_SETTINGS;
  assert.equal(p.optimizer, "sgd");
  assert.equal(p.lr, 1e-3);
  assert.equal(p.momentum, 0.9);
  assert.equal(p.nesterov, true);
  assert.equal(p.weightDecay, 1e-3);
  assert.equal(p.batchSize, 32);
  assert.equal(p.epochs * p.itersPerEpoch, 5000);
  assert.deepEqual(p.freeze, { embedding: true, conv: false, dense: false });
  assert.equal(p.validationFraction, 0.2);
  assert.deepEqual({ ...FINETUNE_SETTINGS, lr: p.lr }, p);
  assert.equal(FINETUNE_SETTINGS.lr, 1e-2);
});

test("settings are validated and partial freeze settings keep their defaults", () => {
  assert.deepEqual(trainSettings({ freeze: { embedding: false } }).freeze, {
    embedding: false,
    conv: false,
    dense: false,
  });
  assert.throws(() => TrainSettings.parse({ lr: -1 }));
  assert.throws(() => TrainSettings.parse({ momentum: 1 }));
  assert.throws(() => TrainSettings.parse({ batchSize: 0 }));
  assert.throws(() => TrainSettings.parse({ unknownSetting: 1 }));
});

test("architectures: the paper's and Kim's CNN, validation of bad numbers", () => {
  assert.deepEqual(paperCnn(768, 2), {
    kind: "concept-cnn",
    embeddingDim: 768,
    kernelSizes: [1],
    filters: [100],
    numClasses: 2,
    dropout: 0.5,
  });
  assert.deepEqual(kimCnn(8, 4).kernelSizes, [2, 3, 4]);
  validateArchitecture(kimCnn(8, 4));
  assert.throws(() => validateArchitecture({ ...paperCnn(8, 2), filters: [100, 100] }), InputError);
  assert.throws(() => validateArchitecture({ ...paperCnn(8, 2), dropout: 1 }), InputError);
  assert.throws(() => validateArchitecture(paperCnn(8, 1)), InputError);
});

test("the converged recipe's epoch is one pass over a small pool, the paper's always 100 steps", () => {
  const { training, finetuning } = RECIPES.converged;
  assert.equal(training.epochAtMostOnePass, true);
  assert.equal(finetuning.epochAtMostOnePass, true);
  assert.equal(PAPER_SETTINGS.epochAtMostOnePass, false);
  // 40 training encounters, batch 32: two steps are one pass; 8,000 encounters: 250 steps, capped at 100.
  assert.equal(epochSteps(training, 40), 2);
  assert.equal(epochSteps(training, 8000), 100);
  assert.equal(epochSteps(training, 1), 1);
  assert.equal(epochSteps(PAPER_SETTINGS, 40), 100);
});
