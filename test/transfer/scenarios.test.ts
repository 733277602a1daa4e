import assert from "node:assert/strict";
import { test } from "node:test";
import type { TokenSequences } from "../../src/concepts/vocabulary.js";
import type { EmbeddedSite } from "../../src/embed/embedded-site.js";
import { paperCnn } from "../../src/model/architecture.js";
import { binaryAuroc } from "../../src/model/auroc.js";
import { RECIPES, TrainSettings } from "../../src/model/train-settings.js";
import { pooledSettings, runScenario, trainSourceModel } from "../../src/transfer/scenarios.js";
import { trainValidationSplit } from "../../src/transfer/training-data.js";
import { Rng } from "../../src/util/rng.js";
import { testSite, tokens } from "./site-fixture.js";

/** A site whose label is "token 1 present", over `vocab` tokens with random D-dim vectors. */
function site(name: string, r: Rng, vocab: number, D: number): EmbeddedSite {
  const data = new Float32Array((vocab + 1) * D);
  for (let q = D; q < data.length; q++) data[q] = r.normal();
  const draw = (n: number) => {
    const offsets = new Uint32Array(n + 1);
    const toks: number[] = [];
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const len = 1 + r.int(4);
      for (let t = 0; t < len; t++) toks.push(1 + r.int(vocab));
      offsets[i + 1] = toks.length;
      labels[i] = toks.slice(offsets[i]).includes(1) ? 1 : 0;
    }
    const seqs: TokenSequences = { count: n, offsets, tokens: Uint32Array.from(toks) };
    return { seqs, labels };
  };
  const pool = draw(120);
  // Scored on its own validation split, so test and validation predictions can be compared.
  const { validation } = trainValidationSplit(pool, SPLIT.validationFraction, SPLIT.seed);
  const keys = Array.from({ length: vocab }, (_, i) => `t${i}`);
  return testSite(name, { rows: vocab + 1, dim: D, data }, tokens(keys), pool, validation);
}

const SPLIT = { validationFraction: 1 / 3, seed: 2 };

test("finetune-all scores the target with the embedding rows it tuned (validation AUROC = the one it kept)", () => {
  const r = new Rng(5);
  const D = 8;
  const source = site("S", r, 6, D);
  const target = site("T", r, 6, D);
  const arch = paperCnn(D, 2);
  const training = TrainSettings.parse({ epochs: 3, itersPerEpoch: 20, batchSize: 8, lr: 0.05, seed: 2 });
  const sourceModel = trainSourceModel({
    architecture: arch,
    classes: ["0", "1"],
    training,
    source,
    split: SPLIT,
  }).snapshot;
  const out = runScenario({
    scenario: "finetune-all",
    architecture: arch,
    classes: ["0", "1"],
    target,
    source,
    sourceModel,
    training,
    finetuning: TrainSettings.parse({ ...training, lr: 0.2 }),
    split: SPLIT,
  });
  assert.ok(out.model?.weights.embedding, "the tuned rows travel with the model");
  const positive = (p: Float64Array) => Float64Array.from({ length: p.length / 2 }, (_, i) => p[2 * i + 1]);
  assert.deepEqual(out.validationLabels, target.test.labels, "the split the test built is the scenario's");
  const auc = binaryAuroc(out.validationLabels, positive(out.validationProbs));
  // The engine picked its epoch by this AUROC, computed with the tuned rows (float32-stored weights
  // can only move it by a tie).
  assert.ok(out.bestValidationAuroc !== null);
  assert.ok(Math.abs(auc - out.bestValidationAuroc) < 1e-6, `${auc} vs ${out.bestValidationAuroc}`);
  assert.deepEqual(out.testProbs, out.validationProbs);
});

test("pooledSettings: the minimum of steps scales by pooled / target encounters, up to the budget", () => {
  const s = RECIPES.converged.training;
  // 2,800 source + 160 target: 500 x 2,960 / 160 = 9,250 steps, capped at the budget of 50 x 100.
  assert.equal(pooledSettings(s, 2800, 160).earlyStoppingMinSteps, 5000);
  // As many target as source encounters: twice the minimum.
  assert.equal(pooledSettings(s, 2800, 2800).earlyStoppingMinSteps, 1000);
  // The paper recipe has no minimum and keeps none.
  assert.equal(pooledSettings(RECIPES.paper.training, 2800, 160).earlyStoppingMinSteps, 0);
});
