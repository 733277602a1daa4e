import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { prepareSite } from "../../src/concepts/encoded-site.js";
import { resolveSite } from "../../src/data/sources.js";
import { embedSite } from "../../src/embed/embedded-site.js";
import { createHashingProvider } from "../../src/embed/providers/hashing.js";
import { paperCnn } from "../../src/model/architecture.js";
import { TrainSettings } from "../../src/model/train-settings.js";
import type { ModelSnapshot } from "../../src/model/types.js";
import { oneStandardError, sourceLogits } from "../../src/transfer/adaptive.js";
import { runScenario, type ScenarioInput, trainSourceModel } from "../../src/transfer/scenarios.js";

/** The arms that degrade gracefully: stacking weighs the source by its use, L2-SP and keepInitial hold to it. */
describe("adaptive arms", async () => {
  const task = { type: "binary" as const, name: "flu", positive: "influenza" };
  const provider = createHashingProvider({ dimension: 32 });
  const world = { encountersPerSite: 800 };
  const src = prepareSite(await resolveSite("synthetic:A", { synthetic: world }), task);
  const tgt = prepareSite(await resolveSite("synthetic:B", { synthetic: world }), task);
  const source = await embedSite(src.site, provider);
  const target = await embedSite(tgt.site, provider);
  const training = TrainSettings.parse({ epochs: 5, itersPerEpoch: 40, lr: 0.03, seed: 1 });
  const split = { validationFraction: 0.3, seed: 1 };
  const good = trainSourceModel({ architecture: paperCnn(32, 2), classes: src.classes, training, source, split }).snapshot;
  // A useless source: its dense layer zeroed and a random sign on the bias, so its logits are constant noise.
  const useless: ModelSnapshot = {
    ...good,
    weights: {
      ...good.weights,
      "dense.weight": { ...good.weights["dense.weight"], data: good.weights["dense.weight"].data.map(() => 0) },
    },
  };
  const input = (sourceModel: ModelSnapshot, scenario: ScenarioInput["scenario"]): ScenarioInput => ({
    scenario,
    architecture: paperCnn(32, 2),
    classes: tgt.classes,
    target,
    source,
    sourceModel,
    training,
    finetuning: { ...training, lr: 0.01 },
    split,
  });

  it("stacked gives a good source a large weight and a constant one none", () => {
    const withGood = runScenario(input(good, "stacked"));
    const withUseless = runScenario(input(useless, "stacked"));
    const w = (o: typeof withGood) => Math.abs(o.selection?.chosen?.sourceWeight ?? Number.NaN);
    assert.ok(w(withGood) > 0.3, `good source weight ${w(withGood)}`);
    assert.ok(w(withUseless) < 0.01, `useless source weight ${w(withUseless)}`);
    // Stacking on the useless source is the local bag-of-tokens model (same data, same folds).
    const bow = runScenario(input(good, "local-bow"));
    const maxDiff = withUseless.testProbs.reduce((m, p, i) => Math.max(m, Math.abs(p - bow.testProbs[i])), 0);
    assert.ok(maxDiff < 1e-3, `${maxDiff}`);
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
