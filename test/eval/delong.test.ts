import assert from "node:assert/strict";
import { test } from "node:test";
import { delongCI, delongPairedTest } from "../../src/eval/delong.js";
import { auroc } from "../../src/eval/metrics.js";
import { InputError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { assertClose, reference } from "./reference.js";

// Expected values from `/usr/bin/python3 scripts/sklearn-reference.py` (see reference.ts): a numpy
// implementation of DeLong et al. (1988) from its O(m*n) definition (psi = 1, 1/2, 0 for every
// positive-negative pair), independent of the midrank algorithm under test; quantiles and
// p-values from scipy.stats.norm.

for (const [name, c] of Object.entries(reference.binary)) {
  const { labels, scores, scores2 } = c.input;
  for (const [level, ref] of [
    [0.95, c.expected.delong],
    [0.9, c.expected.delong90],
  ] as const) {
    test(`DeLong variance and CIs match the O(m*n) definition (${name}, level ${level})`, () => {
      const logitCi = delongCI(labels, scores, level);
      assertClose(logitCi.auroc, ref.auc, "AUROC");
      assertClose(logitCi.variance, ref.variance, "variance");
      assertClose(logitCi.ci[0], ref.ciLogit[0], "logit CI lower");
      assertClose(logitCi.ci[1], ref.ciLogit[1], "logit CI upper");
      assert.equal(logitCi.transform, "logit");
      const plain = delongCI(labels, scores, level, { transform: "plain" });
      assertClose(plain.ci[0], ref.ciPlain[0], "plain CI lower");
      assertClose(plain.ci[1], ref.ciPlain[1], "plain CI upper");
    });

    test(`paired DeLong test matches the O(m*n) definition (${name}, level ${level})`, () => {
      const t = delongPairedTest(labels, scores, scores2, level);
      assertClose(t.aurocA, ref.auc, "AUROC A");
      assertClose(t.aurocB, ref.auc2, "AUROC B");
      assertClose(t.diff, ref.diff, "difference");
      assertClose(t.z, ref.z, "z");
      assertClose(t.p, ref.p, "two-sided p");
      assertClose(t.ci[0], ref.diffCI[0], "difference CI lower");
      assertClose(t.ci[1], ref.diffCI[1], "difference CI upper");
      const b = delongCI(labels, scores2, level);
      assertClose(b.variance, ref.variance2, "variance of arm B");
    });
  }
}

test("an arm compared with itself: difference 0, p = 1", () => {
  const { labels, scores } = reference.binary.medium.input;
  const t = delongPairedTest(labels, scores, scores);
  assert.equal(t.diff, 0);
  assert.equal(t.z, 0);
  assert.equal(t.p, 1);
});

test("perfect separation: zero variance, the CI is the point", () => {
  const r = delongCI([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]);
  assert.equal(r.auroc, 1);
  assert.equal(r.variance, 0);
  assert.deepEqual(r.ci, [1, 1]);
});

test("the 95% DeLong interval covers the true AUROC about 95% of the time", () => {
  // Binormal model: positives ~ N(1, 1), negatives ~ N(0, 1); true AUROC = Phi(1 / sqrt 2) = 0.76025.
  const trueAuroc = 0.7602499389065233;
  const rng = new Rng(2024);
  const trials = 400;
  let covered = 0;
  for (let t = 0; t < trials; t++) {
    const labels: number[] = [];
    const scores: number[] = [];
    for (let i = 0; i < 120; i++) {
      const y = i < 40 ? 1 : 0;
      labels.push(y);
      scores.push(y + rng.normal());
    }
    const ci = delongCI(labels, scores).ci;
    if (ci[0] <= trueAuroc && trueAuroc <= ci[1]) covered++;
  }
  // Binomial sd of the coverage over 400 trials is ~1.1 points.
  assert.ok(covered / trials > 0.91 && covered / trials < 0.985, `coverage ${covered / trials}`);
});

test("fast midranks agree with the plain AUROC on large tied data", () => {
  const rng = new Rng(5);
  const labels = Array.from({ length: 5000 }, () => (rng.next() < 0.2 ? 1 : 0));
  const scores = labels.map((y) => Math.round((y * 0.7 + rng.normal()) * 4) / 4);
  assertClose(delongCI(labels, scores).auroc, auroc(labels, scores), "AUROC", 1e-12);
});

test("DeLong rejects bad inputs", () => {
  assert.throws(() => delongCI([1, 1], [0.1, 0.2]), InputError);
  assert.throws(() => delongCI([0, 1], [0.1, 0.2], 1.5), InputError);
  assert.throws(
    () => delongPairedTest([0, 1], [0.1, 0.2], [0.1]),
    (e: unknown) => e instanceof InputError && /scoresB/.test(e.message),
  );
});

test("a buffer refilled in place is not answered from the cache of its old values", () => {
  const rng = new Rng(8);
  const labels = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const scores = new Float64Array(300);
  for (let i = 0; i < 300; i++) scores[i] = labels[i] + 1.5 * rng.normal();
  const first = delongCI(labels, scores);
  assert.deepEqual(delongCI(labels, scores), first, "same values: same answer");
  // Same array object, new values (and ties, which the midranks must share out).
  for (let i = 0; i < 300; i++) scores[i] = Math.round(2 * (labels[i] + 0.5 * rng.normal()));
  const second = delongCI(labels, scores);
  assert.notEqual(second.auroc, first.auroc);
  assertClose(second.auroc, auroc(labels, Array.from(scores)), "AUROC after the refill", 1e-12);
  const fresh = delongCI(labels.slice(), scores.slice());
  assert.deepEqual(second, fresh, "equal to a computation on fresh arrays");
});
