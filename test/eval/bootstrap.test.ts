import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bootstrapAurocCI,
  bootstrapCI,
  bootstrapMacroAurocCI,
  bootstrapPairedAurocDifference,
  percentileSorted,
} from "../../src/eval/bootstrap.js";
import { delongCI } from "../../src/eval/delong.js";
import { auroc, brierScore, macroAurocOvr } from "../../src/eval/metrics.js";
import { InputError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { assertClose, reference } from "./reference.js";

function synthetic(n: number, seed: number): { labels: number[]; scores: number[] } {
  const rng = new Rng(seed);
  const labels = Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
  // Rounded to 0.1 so that many scores tie.
  const scores = labels.map((y) => Math.round((0.9 * y + rng.normal()) * 10) / 10);
  return { labels, scores };
}

test("percentiles use numpy's linear interpolation", () => {
  // np.percentile([1, 2, 4, 8], [2.5, 50, 97.5]) = [1.075, 3.0, 7.7]
  const v = [1, 2, 4, 8];
  assertClose(percentileSorted(v, 0.025), 1.075, "2.5%", 1e-15);
  assertClose(percentileSorted(v, 0.5), 3, "50%", 1e-15);
  assertClose(percentileSorted(v, 0.975), 7.7, "97.5%", 1e-14);
});

test("fast AUROC bootstrap equals the generic bootstrap on the same resamples", () => {
  const { labels, scores } = reference.binary.medium.input;
  const fast = bootstrapAurocCI(labels, scores, { resamples: 1000, seed: 3 });
  const slow = bootstrapCI(labels, scores, (y, s) => auroc(y, s), { resamples: 1000, seed: 3 });
  assertClose(fast.estimate, slow.estimate, "estimate", 1e-15);
  assertClose(fast.lower, slow.lower, "lower", 1e-12);
  assertClose(fast.upper, slow.upper, "upper", 1e-12);
  assertClose(fast.se, slow.se, "se", 1e-12);
  assert.equal(fast.failed, 0);
});

test("fast macro-AUROC bootstrap equals the generic bootstrap on the same resamples", () => {
  const { labels, probs, classes } = reference.multiclass.input;
  const fast = bootstrapMacroAurocCI(labels, probs, classes, { resamples: 1000, seed: 9 });
  const slow = bootstrapCI(labels, probs, (y, p) => macroAurocOvr(y, p, classes), {
    resamples: 1000,
    seed: 9,
    width: classes,
  });
  assertClose(fast.estimate, reference.multiclass.expected.macroAuroc, "estimate", 1e-9);
  assertClose(fast.lower, slow.lower, "lower", 1e-12);
  assertClose(fast.upper, slow.upper, "upper", 1e-12);
});

test("seeded: the same seed reproduces the interval, another seed moves it slightly", () => {
  const { labels, scores } = synthetic(600, 1);
  const a = bootstrapAurocCI(labels, scores, { seed: 11 });
  const b = bootstrapAurocCI(labels, scores, { seed: 11 });
  const c = bootstrapAurocCI(labels, scores, { seed: 12 });
  assert.deepEqual(a, b);
  assert.notEqual(a.lower, c.lower);
  assert.ok(Math.abs(a.lower - c.lower) < 0.01);
  assert.equal(a.resamples, 2000);
  assert.equal(a.level, 0.95);
});

test("stratified bootstrap SE agrees with DeLong's SE and its interval brackets the estimate", () => {
  const { labels, scores } = synthetic(3000, 2);
  const boot = bootstrapAurocCI(labels, scores, { resamples: 2000, seed: 1 });
  const delong = delongCI(labels, scores);
  assert.ok(Math.abs(boot.se / delong.se - 1) < 0.1, `bootstrap se ${boot.se} vs DeLong ${delong.se}`);
  assert.ok(boot.lower < boot.estimate && boot.estimate < boot.upper);
  assert.ok(Math.abs(boot.upper - boot.lower - (delong.ci[1] - delong.ci[0])) < 0.01);
});

test("generic bootstrap works for any metric (Brier) and keeps the class mix of each resample", () => {
  const { labels, scores } = reference.binary.medium.input;
  const positives = labels.filter((y) => y === 1).length;
  const seen = new Set<number>();
  const r = bootstrapCI(
    labels,
    scores,
    (y, s) => {
      seen.add(y.reduce((a, b) => a + b, 0));
      return brierScore(y, s);
    },
    { resamples: 1000, seed: 5 },
  );
  assert.deepEqual([...seen], [positives]);
  assertClose(r.estimate, reference.binary.medium.expected.brier, "Brier estimate");
  assert.ok(r.lower < r.estimate && r.estimate < r.upper);
});

test("paired bootstrap: an arm against itself differs by 0 with p = 1; a clearly better arm gets a small p", () => {
  const { labels, scores } = synthetic(800, 4);
  const same = bootstrapPairedAurocDifference(labels, scores, scores, 2, { resamples: 1000 });
  assert.equal(same.estimate, 0);
  assert.equal(same.p, 1);
  const rng = new Rng(8);
  const noisy = scores.map((s) => s + 2 * rng.normal());
  const diff = bootstrapPairedAurocDifference(labels, scores, noisy, 2, { resamples: 1000 });
  assertClose(diff.estimate, auroc(labels, scores) - auroc(labels, noisy), "difference");
  assert.ok(diff.lower > 0 && diff.p < 0.01, `p ${diff.p}, lower ${diff.lower}`);
  const { labels: ml, probs, classes } = reference.multiclass.input;
  const multi = bootstrapPairedAurocDifference(ml, probs, probs, classes, { resamples: 1000 });
  assert.equal(multi.estimate, 0);
});

test("bootstrap settings are validated: at least 1,000 resamples", () => {
  const { labels, scores } = reference.binary.small.input;
  assert.throws(
    () => bootstrapAurocCI(labels, scores, { resamples: 100 }),
    (e: unknown) => e instanceof InputError && /resamples/.test(e.message),
  );
  assert.throws(() => bootstrapAurocCI(labels, scores, { level: 1 }), InputError);
  assert.throws(() => bootstrapAurocCI([1, 1, 1], [0.1, 0.2, 0.3]), InputError);
});
