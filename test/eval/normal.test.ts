import assert from "node:assert/strict";
import { test } from "node:test";
import { normalCdf, normalQuantile, twoSidedCriticalValue, twoSidedP } from "../../src/eval/normal.js";
import { assertClose, reference } from "./reference.js";

// Expected values: scipy.stats.norm.ppf and 2 * norm.sf(|z|) via `/usr/bin/python3 scripts/sklearn-reference.py`.

test("normal quantiles match scipy to 1e-12", () => {
  for (const [q, z] of Object.entries(reference.normalQuantiles))
    assertClose(normalQuantile(Number(q)), z, `ppf(${q})`, 1e-12);
  assertClose(twoSidedCriticalValue(0.95), 1.959963984540054, "z for 95%", 1e-13);
});

test("two-sided p-values match scipy, with relative accuracy in the tails", () => {
  for (const [z, p] of Object.entries(reference.normalTwoSidedP)) {
    assertClose(twoSidedP(Number(z)), p, `p(${z})`, 1e-14);
    assertClose(twoSidedP(-Number(z)), p, `p(-${z})`, 1e-14);
    if (p > 0) assert.ok(Math.abs(twoSidedP(Number(z)) / p - 1) < 1e-12, `relative error at z = ${z}`);
  }
});

test("CDF and quantile are inverses; symmetric around 0", () => {
  for (const p of [1e-12, 0.001, 0.02425, 0.3, 0.5, 0.77, 0.97575, 0.999999]) {
    assertClose(normalCdf(normalQuantile(p)), p, `cdf(ppf(${p}))`, 1e-15 + 1e-13 * p);
  }
  assert.equal(normalCdf(0), 0.5);
  assertClose(normalCdf(1.3) + normalCdf(-1.3), 1, "symmetry", 1e-15);
  assert.equal(normalQuantile(0), Number.NEGATIVE_INFINITY);
  assert.ok(Number.isNaN(normalQuantile(1.2)));
});
