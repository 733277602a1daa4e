import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { paperCnn } from "../../src/model/architecture.js";
import { macroAuroc } from "../../src/model/auroc.js";
import { poolCvFolds } from "../../src/model/bow-logistic.js";
import { TrainSettings } from "../../src/model/train-settings.js";
import { AUTO_FOLDS, runAuto } from "../../src/transfer/auto.js";
import { runScenario, type Scenario, type ScenarioInput } from "../../src/transfer/scenarios.js";
import { trainValidationSplit } from "../../src/transfer/training-data.js";
import { syntheticTransfer } from "./site-fixture.js";

/**
 * `auto` chooses inside the target's training data only: poisoning the target's test labels (and
 * even its test encounters' tokens) cannot change the choice, and what it returns is exactly the
 * winner's plain arm.
 */
describe("auto", async () => {
  const task = { type: "binary" as const, name: "flu", positive: "influenza" };
  const training = TrainSettings.parse({ epochs: 3, itersPerEpoch: 20, lr: 0.03, seed: 1 });
  const split = { validationFraction: 0.2, seed: 1 };
  const { tgt, source, target, sourceModel } = await syntheticTransfer(task, 600, training, split);
  const parts = trainValidationSplit(target.pool, 0.5, 3);
  const input = (test: typeof parts.validation): ScenarioInput => ({
    scenario: "auto",
    architecture: paperCnn(32, 2),
    classes: tgt.classes,
    target: { ...target, pool: subsetTo(parts.train, 120), test },
    source,
    sourceModel,
    training,
    finetuning: { ...training, lr: 0.01, keepInitial: true },
    split,
  });
  const plainRuns: Scenario[] = [];
  const plainOf = (i: ScenarioInput) => (s: Scenario) => {
    plainRuns.push(s);
    return runScenario({ ...i, scenario: s });
  };

  it("makes the same choice whatever the test labels and tokens are", () => {
    const honest = runAuto(input(parts.validation), plainOf(input(parts.validation)));
    const poisoned = {
      ...parts.validation,
      labels: parts.validation.labels.map((y) => 1 - y),
      seqs: { ...parts.validation.seqs, tokens: parts.validation.seqs.tokens.map(() => 1) },
    };
    const other = runAuto(input(poisoned), plainOf(input(poisoned)));
    assert.ok(honest.selection?.winner);
    assert.equal(other.selection?.winner, honest.selection?.winner);
    assert.deepEqual(other.selection?.scores, honest.selection?.scores);
    // The guard: the poisoned test set did change what the winner's model scores on it.
    assert.notDeepEqual(other.testProbs, honest.testProbs);
    // Every candidate was scored on the folds.
    assert.deepEqual(Object.keys(honest.selection?.scores ?? {}).sort(), [
      "finetune-conv",
      "finetune-dense",
      "finetune-l2sp",
      "local",
      "local-bow",
      "source-only",
      "stacked",
    ]);
  });

  it("returns the winner's plain arm, trained once (shared with that arm's own cell)", () => {
    plainRuns.length = 0;
    const i = input(parts.validation);
    const out = runAuto(i, plainOf(i));
    // The plain runs asked for: the cross-validated logistic arms (their out-of-fold predictions
    // are their scores) and the winner; nothing else is trained on the whole pool.
    assert.deepEqual(plainRuns.slice(0, 2), ["local-bow", "stacked"]);
    assert.deepEqual(plainRuns.slice(2), [out.selection?.winner]);
    const again = runScenario({ ...i, scenario: out.selection?.winner as Scenario });
    assert.deepEqual(out.testProbs, again.testProbs);
  });

  it("scores the logistic arms with their own cross-fitted predictions on auto's folds", () => {
    const i = input(parts.validation);
    const out = runAuto(i, plainOf(i));
    for (const arm of ["local-bow", "stacked"] as const) {
      const plain = runScenario({ ...i, scenario: arm });
      const shared = plain.crossFit;
      assert.ok(shared, `${arm} brings its out-of-fold predictions`);
      assert.deepEqual(shared.folds, poolCvFolds(i.target.pool.labels, split.seed, AUTO_FOLDS));
      const score = macroAuroc(i.target.pool.labels, shared.probs, 2);
      assert.equal(out.selection?.scores?.[arm], score);
      // The guard: they are honest held-out scores, below the arm's fit on its own training rows.
      const seen = runScenario({ ...i, scenario: arm, target: { ...i.target, test: i.target.pool } });
      assert.ok(macroAuroc(i.target.pool.labels, seen.testProbs, 2) > score, arm);
    }
  });
});

function subsetTo(
  s: { seqs: import("../../src/concepts/vocabulary.js").TokenSequences; labels: Int32Array },
  n: number,
) {
  return trainValidationSplit(s, 1 - n / s.labels.length, 5).validation;
}
