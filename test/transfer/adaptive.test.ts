import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { paperCnn } from "../../src/model/architecture.js";
import { macroAuroc } from "../../src/model/auroc.js";
import { TrainSettings } from "../../src/model/train-settings.js";
import type { ModelSnapshot } from "../../src/model/types.js";
import { oneStandardError, sourceLogits } from "../../src/transfer/adaptive.js";
import { runScenario, type ScenarioInput } from "../../src/transfer/scenarios.js";
import { trainValidationSplit } from "../../src/transfer/training-data.js";
import { syntheticTransfer } from "./site-fixture.js";

/** The arms that degrade gracefully: stacking weighs the source by its use, L2-SP and keepInitial hold to it. */
describe("adaptive arms", async () => {
  const task = { type: "binary" as const, name: "flu", positive: "influenza" };
  const training = TrainSettings.parse({ epochs: 5, itersPerEpoch: 40, lr: 0.03, seed: 1 });
  const split = { validationFraction: 0.3, seed: 1 };
  const { tgt, source, target, sourceModel: good } = await syntheticTransfer(task, 800, training, split);
  // A useless source: its dense layer zeroed and a random sign on the bias, so its logits are constant noise.
  const useless: ModelSnapshot = {
    ...good,
    weights: {
      ...good.weights,
      "dense.weight": {
        ...good.weights["dense.weight"],
        data: good.weights["dense.weight"].data.map(() => 0),
      },
    },
  };
  const input = (
    sourceModel: ModelSnapshot,
    scenario: ScenarioInput["scenario"],
    at: ScenarioInput["target"] = target,
  ): ScenarioInput => ({
    scenario,
    architecture: paperCnn(32, 2),
    classes: tgt.classes,
    target: at,
    source,
    sourceModel,
    training,
    finetuning: { ...training, lr: 0.01 },
    split,
  });

  it("stacked starts from the source model and keeps it where the target's data do not clearly ask otherwise", () => {
    // Half the target's pool is its test set here (the synthetic site's own test part is unlabeled).
    const halves = trainValidationSplit(target.pool, 0.5, 7);
    const at = { ...target, pool: halves.train, test: halves.validation };
    const withGood = runScenario(input(good, "stacked", at));
    const withUseless = runScenario(input(useless, "stacked", at));
    const source = runScenario(input(good, "source-only", at));
    const bow = runScenario(input(good, "local-bow", at));
    const auc = (o: typeof withGood) => macroAuroc(at.test.labels, o.testProbs, 2);
    // The source's weight is pulled towards 1 (the source model itself), not towards 0.
    const w = withGood.selection?.chosen?.sourceWeight ?? Number.NaN;
    assert.ok(w > 0.5, `good source weight ${w}`);
    assert.ok(
      auc(withGood) >= Math.max(auc(source), auc(bow)) - 0.01,
      `${auc(withGood)} ${auc(source)} ${auc(bow)}`,
    );
    // A useless (constant) source adds nothing: stacking on it ranks like the local bag of tokens.
    assert.ok(Math.abs(auc(withUseless) - auc(bow)) < 0.01, `${auc(withUseless)} vs ${auc(bow)}`);
    // The guard: the useless source really is useless.
    assert.ok(Math.abs(auc(runScenario(input(useless, "source-only", at))) - 0.5) < 0.05);
  });

  it("finetune-l2sp and keepInitial never leave the source model for a worse validation score", () => {
    const l2sp = runScenario(input(good, "finetune-l2sp"));
    const plain = runScenario(input(good, "source-only"));
    assert.ok(l2sp.bestValidationAuroc !== null);
    const sourceVal = plain.validationProbs;
    // The source model's own validation AUROC is a candidate (epoch 0), so the kept one is not below it.
    const auc = (probs: Float64Array) => {
      const pos = Array.from({ length: probs.length / 2 }, (_, i) => probs[2 * i + 1]);
      const y = plain.validationLabels;
      let wins = 0;
      let pairs = 0;
      for (let i = 0; i < y.length; i++)
        for (let j = 0; j < y.length; j++)
          if (y[i] === 1 && y[j] === 0) {
            pairs++;
            wins += pos[i] > pos[j] ? 1 : pos[i] === pos[j] ? 0.5 : 0;
          }
      return wins / pairs;
    };
    assert.ok((l2sp.bestValidationAuroc as number) >= auc(sourceVal) - 1e-9);
    assert.ok(l2sp.selection?.chosen?.strength !== undefined);
    assert.ok(
      l2sp.engine === "factorized" || l2sp.engine === "direct",
      `L2-SP trains with an engine that anchors every weight (${l2sp.engine})`,
    );
  });

  it("the one-standard-error rule keeps the conservative candidate on small validation sets", () => {
    const small = Int32Array.from([0, 0, 0, 1, 1, 1]);
    assert.equal(oneStandardError([0.8, 0.85, 0.9], small, 2), 0);
    const large = Int32Array.from({ length: 4000 }, (_, i) => i % 2);
    assert.equal(oneStandardError([0.8, 0.85, 0.9], large, 2), 2);
  });

  it("source logits: binary log-odds, multi-class centred log-probabilities", () => {
    const b = sourceLogits(Float64Array.from([0.25, 0.75]), 2);
    assert.ok(Math.abs(b[0] - Math.log(3)) < 1e-12);
    const m = sourceLogits(Float64Array.from([0.5, 0.25, 0.25]), 3);
    assert.ok(Math.abs(m[0] + m[1] + m[2]) < 1e-12 && m[0] > m[1]);
  });
});
