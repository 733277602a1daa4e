import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { subsetLabeled } from "../../src/concepts/sequences.js";
import type { TokenSequences } from "../../src/concepts/vocabulary.js";
import { macroAurocOvr } from "../../src/eval/metrics.js";
import { paperCnn } from "../../src/model/architecture.js";
import { TrainSettings } from "../../src/model/train-settings.js";
import { stackedFeatures } from "../../src/transfer/adaptive.js";
import { loadDeployedModel, transferAtSite } from "../../src/transfer/at-site.js";
import { runScenario, type ScenarioInput } from "../../src/transfer/scenarios.js";
import {
  parseSiteModel,
  predictSiteModel,
  saveSiteModel,
  serializeSiteModel,
  siteModelOf,
  toModelTokens,
} from "../../src/transfer/site-model.js";
import { InputError } from "../../src/util/errors.js";
import { syntheticTransfer } from "./site-fixture.js";

/**
 * Site models (the logistic arms as files): written and read back they predict bit for bit what the
 * fit predicted, they match tokens by key (another token order scores the same), and a damaged file
 * is refused naming the field.
 */
describe("site models", async () => {
  const task = { type: "multiclass" as const, name: "dx" };
  const training = TrainSettings.parse({ epochs: 4, itersPerEpoch: 40, lr: 0.03, seed: 2 });
  const split = { validationFraction: 0.25, seed: 2 };
  const { tgt, target: all, sourceModel } = await syntheticTransfer(task, 700, training, split);
  // The target's encounters in two: a pool the arms learn from, and a test set they are scored on.
  const n = all.pool.labels.length;
  const cut = Math.floor(n * 0.7);
  const rows = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
  const target = {
    ...all,
    pool: subsetLabeled(all.pool, rows(0, cut)),
    test: subsetLabeled(all.pool, rows(cut, n)),
  };
  const C = tgt.classes.length;
  const input = (scenario: ScenarioInput["scenario"]): ScenarioInput => ({
    scenario,
    architecture: paperCnn(32, C),
    classes: tgt.classes,
    target,
    sourceModel,
    training,
    finetuning: training,
    split,
  });
  const dir = mkdtempSync(join(tmpdir(), "cb-site-model-"));

  for (const scenario of ["local-bow", "stacked"] as const) {
    it(`${scenario}: the file read back predicts the arm's test probabilities exactly`, async () => {
      const out = runScenario(input(scenario));
      const m = siteModelOf(out, scenario, tgt.classes, target.vocabulary, sourceModel);
      const file = join(dir, `${scenario}.json`);
      await saveSiteModel(file, m);
      const back = await loadDeployedModel(file);
      assert.equal(back.kind, "site-model");
      if (back.kind !== "site-model") return;
      const features =
        scenario === "stacked"
          ? stackedFeatures(sourceModel, target.embedding, target.test.seqs, C)
          : undefined;
      const probs = predictSiteModel(back.model, target.test.seqs, features);
      assert.deepEqual(Array.from(probs), Array.from(out.testProbs));
      // The guard: the model learned something (a constant model would also round-trip).
      // (macro AUROC over the classes the test set holds: a rare class may be absent from it)
      const auc = macroAurocOvr(target.test.labels, probs, C);
      assert.ok(auc > 0.6, String(auc));
      assert.equal(back.model.sourceModel !== undefined, scenario === "stacked");
    });
  }

  it("matches tokens by key: the same encounters under another token order score the same", () => {
    const out = runScenario(input("local-bow"));
    const m = siteModelOf(out, "local-bow", tgt.classes, target.vocabulary);
    // The site's vocabulary reversed, its sequences rewritten to the new ids, plus one unseen token.
    const V = target.vocabulary.length;
    const reversed = [...target.vocabulary].reverse();
    const unseen = { ...reversed[0], key: "never-seen|present", text: "never seen" };
    const vocabulary = [...reversed, unseen];
    const seqs: TokenSequences = target.test.seqs;
    const rewritten = Uint32Array.from(seqs.tokens, (t) => V - t + 1);
    const withUnseen: number[] = [];
    const offsets = new Uint32Array(seqs.count + 1);
    for (let i = 0; i < seqs.count; i++) {
      for (let k = seqs.offsets[i]; k < seqs.offsets[i + 1]; k++) withUnseen.push(rewritten[k]);
      withUnseen.push(V + 1);
      offsets[i + 1] = withUnseen.length;
    }
    const mapped = toModelTokens(m, vocabulary, {
      count: seqs.count,
      offsets,
      tokens: Uint32Array.from(withUnseen),
    });
    assert.deepEqual(Array.from(predictSiteModel(m, mapped)), Array.from(out.testProbs));
  });

  it("refuses a damaged file naming the field", () => {
    const out = runScenario(input("stacked"));
    const good = JSON.parse(
      serializeSiteModel(siteModelOf(out, "stacked", tgt.classes, target.vocabulary, sourceModel)),
    );
    const refused = (edit: (j: Record<string, unknown>) => void, field: RegExp) => {
      const j = structuredClone(good);
      edit(j);
      assert.throws(
        () => parseSiteModel(JSON.stringify(j), "m.json"),
        (e: unknown) => e instanceof InputError && field.test(e.message) && /^m\.json/.test(e.message),
      );
    };
    refused((j) => (j.tokenWeights as number[]).pop(), /tokenWeights/);
    refused((j) => (j.bias = [0]), /bias/);
    refused((j) => delete j.sourceModel, /sourceModel/);
    refused((j) => (j.scenario = "finetune-conv"), /scenario/);
    refused((j) => ((j.sourceModel as { classes: string[] }).classes = ["a", "b"]), /sourceModel\.classes/);
    refused((j) => (j.lambda = -1), /lambda/);
    // The guard: the undamaged file parses.
    assert.equal(parseSiteModel(JSON.stringify(good)).scenario, "stacked");
  });

  it("transferAtSite runs auto at the site and deploys the winner's model", () => {
    const site = {
      ...target,
      test: {
        ...target.test,
        labels: new Int32Array(0),
        seqs: { count: 0, offsets: new Uint32Array(1), tokens: new Uint32Array(0) },
      },
    };
    const folds: string[] = [];
    const r = transferAtSite(sourceModel, site, {
      scenario: "auto",
      recipe: "converged",
      settings: { seed: 2, epochs: 3, itersPerEpoch: 20 },
      onFold: (_d, _t, what) => folds.push(what),
    });
    const scores = r.output.selection?.scores ?? {};
    assert.equal(r.arm, r.output.selection?.winner);
    assert.ok(Object.keys(scores).length >= 5, JSON.stringify(scores));
    const best = Math.max(...Object.values(scores));
    assert.equal(scores[r.arm], best);
    assert.equal(r.deployed.kind, r.arm === "local-bow" || r.arm === "stacked" ? "site-model" : "cnn");
    // The CNN candidates were trained in folds; the logistic arms brought their cross-fit.
    assert.ok(folds.some((f) => f.startsWith("local fold")));
    assert.ok(!folds.some((f) => f.startsWith("local-bow") || f.startsWith("stacked")));
  });
});
