import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ArmData,
  combine,
  compareArms,
  judgeBest,
  judgeExcessiveTuning,
  judgeNeedsFinetuning,
} from "../../../scripts/reproduce/claims.js";

/** An arm with per-seed AUROCs only (the multi-class path: paired t over seeds). */
function arm(label: string, aurocs: number[]): ArmData {
  return { label, seeds: aurocs.map((auroc, i) => ({ seed: i + 1, auroc })) };
}

describe("compareArms (paired t over seeds)", () => {
  it("calls a consistent gain clearly higher", () => {
    // diffs 0.10, 0.10, 0.09: mean 0.09667, sd 0.005774, t = 0.09667 / (0.005774 / sqrt 3) = 29.0 > 4.303
    const c = compareArms(arm("a", [0.8, 0.81, 0.82]), arm("b", [0.7, 0.71, 0.73]));
    assert.equal(c.direction, "higher");
    assert.ok(Math.abs(c.diff - 0.096667) < 1e-6);
    assert.match(c.test, /t = 29\.00/);
  });
  it("calls a gain that flips sign across seeds a tie", () => {
    // diffs 0.05, -0.08, 0.10: mean 0.0233, sd 0.0929, t = 0.43
    const c = compareArms(arm("a", [0.8, 0.7, 0.9]), arm("b", [0.75, 0.78, 0.8]));
    assert.equal(c.direction, "tie");
  });
  it("calls a consistent loss clearly lower", () => {
    assert.equal(compareArms(arm("a", [0.7, 0.71, 0.73]), arm("b", [0.8, 0.81, 0.82])).direction, "lower");
  });
});

describe("compareArms (paired DeLong per seed)", () => {
  // 40 test cases, labels alternating. Arm a ranks every positive above every negative (AUROC 1);
  // arm b's scores do not depend on the label (AUROC near 0.5).
  const labels = Array.from({ length: 40 }, (_, i) => i % 2);
  const perfect = labels.map((y, i) => y + i / 1000);
  const noise = labels.map((_, i) => ((i * 7) % 10) / 10);
  const withPreds = (label: string, scores: number[]): ArmData => ({
    label,
    seeds: [1, 2, 3].map((seed) => ({ seed, auroc: label === "good" ? 1 : 0.5, preds: { labels, scores } })),
  });
  it("uses the paired test when both arms have predictions on the same test set", () => {
    const c = compareArms(withPreds("good", perfect), withPreds("bad", noise));
    assert.equal(c.direction, "higher");
    assert.match(c.test, /^paired DeLong per seed: \+0\.\d{3} \(p < 0\.001\)/);
  });
  it("an arm against itself is a tie", () => {
    const c = compareArms(withPreds("bad", noise), withPreds("bad", noise));
    assert.equal(c.direction, "tie");
  });
});

describe("the claim judges", () => {
  it("claim 1 holds when BioBERT is clearly better than every other embedding", () => {
    const arms = new Map([
      ["biobert", arm("biobert", [0.9, 0.91, 0.92])],
      ["bert", arm("bert", [0.8, 0.81, 0.83])],
      ["onehot", arm("onehot", [0.7, 0.72, 0.71])],
    ]);
    const j = judgeBest("local", arms, "biobert");
    assert.equal(j.verdict, "holds");
    assert.match(j.detail, /biobert 0\.910, bert 0\.813, onehot 0\.710/);
  });
  it("claim 1 does not hold when another embedding is clearly better, or not distinguishable", () => {
    const better = new Map([
      ["biobert", arm("biobert", [0.8, 0.81, 0.83])],
      ["bert", arm("bert", [0.9, 0.91, 0.92])],
    ]);
    assert.equal(judgeBest("local", better, "biobert").verdict, "does not hold");
    assert.match(judgeBest("local", better, "biobert").detail, /bert clearly better than biobert/);
    const tie = new Map([
      ["biobert", arm("biobert", [0.8, 0.7, 0.9])],
      ["bert", arm("bert", [0.75, 0.78, 0.8])],
    ]);
    assert.equal(judgeBest("local", tie, "biobert").verdict, "does not hold");
    assert.match(judgeBest("local", tie, "biobert").detail, /not distinguishable/);
  });
  it("claim 1 cannot be tested without a BioBERT arm", () => {
    assert.equal(
      judgeBest("x", new Map([["bert", arm("bert", [0.8])]]), "biobert").verdict,
      "cannot be tested",
    );
  });
  it("claim 2 compares the better fine-tuning arm with source-only", () => {
    const so = arm("source-only · bert", [0.7, 0.71, 0.72]);
    const dense = arm("finetune-dense · bert", [0.72, 0.7, 0.73]);
    const conv = arm("finetune-conv · bert", [0.8, 0.82, 0.81]);
    const j = judgeNeedsFinetuning("binary, bert", so, [dense, conv]);
    assert.equal(j.verdict, "holds");
    assert.match(j.detail, /finetune-conv · bert 0\.810/);
    assert.equal(judgeNeedsFinetuning("binary, bert", so, [dense]).verdict, "does not hold");
    assert.equal(judgeNeedsFinetuning("binary, bert", undefined, [dense]).verdict, "cannot be tested");
  });
  it("claim 3 holds only when finetune-all is clearly worse than the lighter arm", () => {
    const lighter = arm("finetune-conv · biobert", [0.9, 0.91, 0.92]);
    assert.equal(judgeExcessiveTuning("b", arm("all", [0.8, 0.81, 0.83]), lighter).verdict, "holds");
    assert.equal(judgeExcessiveTuning("b", arm("all", [0.95, 0.96, 0.97]), lighter).verdict, "does not hold");
    assert.equal(judgeExcessiveTuning("b", undefined, lighter).verdict, "cannot be tested");
  });
  it("combines settings: all hold, none hold, mixed, untestable", () => {
    assert.equal(combine(["holds", "holds", "cannot be tested"]), "holds");
    assert.equal(combine(["does not hold", "does not hold"]), "does not hold");
    assert.equal(combine(["holds", "does not hold"]), "mixed");
    assert.equal(combine(["cannot be tested"]), "cannot be tested");
  });
});
