import assert from "node:assert/strict";
import { test } from "node:test";
import { bootstrapPairedAurocDifference, bootstrapPairedVersusReference } from "../../src/eval/bootstrap.js";
import { calibrationInterceptSlope } from "../../src/eval/calibration.js";
import {
  calibrationErrors,
  calibrationReport,
  loessAt,
  mergedBins,
  wilsonInterval,
} from "../../src/eval/calibration-curve.js";
import { netBenefitCurve } from "../../src/eval/net-benefit.js";
import { Rng } from "../../src/util/rng.js";

/** loess by its definition: sort all points by distance, take the q nearest, solve the normal equations. */
function bruteLoess(x: number[], y: number[], x0: number, span: number, degree: 1 | 2): number {
  const n = x.length;
  const q = Math.max(degree + 1, Math.min(n, Math.floor(n * span)));
  const idx = x.map((_, i) => i).sort((a, b) => Math.abs(x[a] - x0) - Math.abs(x[b] - x0));
  const near = idx.slice(0, q);
  const dmax = Math.max(...near.map((i) => Math.abs(x[i] - x0))) || 1;
  const k = degree + 1;
  const A = Array.from({ length: k }, () => new Array(k).fill(0));
  const b = new Array(k).fill(0);
  for (const i of near) {
    const u = Math.abs(x[i] - x0) / dmax;
    const w = u >= 1 ? 0 : (1 - u ** 3) ** 3;
    const d = x[i] - x0;
    for (let r = 0; r < k; r++) {
      b[r] += w * d ** r * y[i];
      for (let c = 0; c < k; c++) A[r][c] += w * d ** (r + c);
    }
  }
  // Gaussian elimination.
  for (let c = 0; c < k; c++) {
    for (let r = c + 1; r < k; r++) {
      const f = A[r][c] / A[c][c];
      for (let j = c; j < k; j++) A[r][j] -= f * A[c][j];
      b[r] -= f * b[c];
    }
  }
  const sol = new Array(k).fill(0);
  for (let r = k - 1; r >= 0; r--) {
    let s = b[r];
    for (let j = r + 1; j < k; j++) s -= A[r][j] * sol[j];
    sol[r] = s / A[r][r];
  }
  return sol[0];
}

test("loess: the sliding window gives the definition's value; polynomials of its degree are reproduced", () => {
  const rng = new Rng(7);
  const x = Array.from({ length: 150 }, () => rng.next());
  const y = x.map((v) => (rng.next() < v * v ? 1 : 0));
  const at = [0, 0.013, 0.2, 0.5, 0.77, 0.999, ...x.slice(0, 10)];
  for (const degree of [1, 2] as const) {
    for (const span of [0.3, 0.75, 1]) {
      const fast = loessAt(x, y, at, { span, degree });
      at.forEach((x0, i) => {
        const want = bruteLoess(x, y, x0, span, degree);
        assert.ok(
          Math.abs(fast[i] - want) < 1e-9,
          `degree ${degree} span ${span} at ${x0}: ${fast[i]} vs ${want}`,
        );
      });
    }
  }
  const quad = x.map((v) => 0.1 + 0.5 * v - 0.3 * v * v);
  const fitted = loessAt(x, quad, [0.25, 0.6], { span: 0.5, degree: 2 });
  assert.ok(Math.abs(fitted[0] - (0.1 + 0.125 - 0.01875)) < 1e-10);
  assert.ok(Math.abs(fitted[1] - (0.1 + 0.3 - 0.108)) < 1e-10);
});

test("Eavg/E90/Emax: near 0 for calibrated predictions, the offset for shifted ones", () => {
  const rng = new Rng(11);
  const n = 20_000;
  const p = Array.from({ length: n }, () => 0.1 + 0.6 * rng.next());
  const calibrated = p.map((v) => (rng.next() < v ? 1 : 0));
  const e = calibrationErrors(calibrated, p);
  assert.ok(e.eavg < 0.01, `calibrated Eavg ${e.eavg}`);
  assert.ok(e.e50 <= e.e90 && e.e90 <= e.emax);
  // True risk = p + 0.1 everywhere: every |smoothed - predicted| is about 0.1.
  const shifted = p.map((v) => (rng.next() < v + 0.1 ? 1 : 0));
  const s = calibrationErrors(shifted, p);
  assert.ok(Math.abs(s.eavg - 0.1) < 0.015, `shifted Eavg ${s.eavg}`);
  assert.ok(Math.abs(s.e50 - 0.1) < 0.015, `shifted E50 ${s.e50}`);
  const r = calibrationReport(shifted, p);
  const cal = calibrationInterceptSlope(shifted, p);
  assert.equal(r.citl, cal.intercept);
  assert.equal(r.slope, cal.slope);
  assert.ok(r.citl > 0, "predictions too low: positive calibration-in-the-large");
  assert.ok(Math.abs(r.observedRate - r.meanPredicted - 0.1) < 0.01);
});

test("Wilson interval: textbook value for 5 of 50", () => {
  const [lo, hi] = wilsonInterval(5, 50);
  assert.ok(Math.abs(lo - 0.04347) < 1e-4 && Math.abs(hi - 0.21361) < 1e-4, `${lo} ${hi}`);
  assert.deepEqual(
    wilsonInterval(0, 10).map((v) => v >= 0 && v <= 1),
    [true, true],
  );
});

test("merged bins: every bin has the minimum events and non-events; totals are kept", () => {
  const rng = new Rng(3);
  const p = Array.from({ length: 400 }, () => rng.next() ** 2);
  const y = p.map((v) => (rng.next() < v ? 1 : 0));
  const bins = mergedBins(y, p, 10, 11, 11);
  assert.ok(bins.length >= 2);
  for (const b of bins) assert.ok(b.events >= 11 && b.n - b.events >= 11, JSON.stringify(b));
  assert.equal(
    bins.reduce((s, b) => s + b.n, 0),
    400,
  );
  assert.equal(
    bins.reduce((s, b) => s + b.events, 0),
    y.reduce<number>((s, v) => s + v, 0),
  );
  // Too few events overall: nothing to publish.
  assert.deepEqual(mergedBins([1, 0, 0, 0], [0.9, 0.1, 0.2, 0.3], 10, 11, 11), []);
});

test("net benefit: hand-computed points", () => {
  const labels = [1, 1, 0, 0, 0];
  const probs = [0.9, 0.4, 0.6, 0.2, 0.1];
  const [a, b] = netBenefitCurve(labels, probs, [0.5, 0.3]);
  // t = 0.5: TP 1 (0.9), FP 1 (0.6): 1/5 - 1/5 * 1 = 0; treat all 2/5 - 3/5 = -0.2.
  assert.ok(Math.abs(a.netBenefit) < 1e-15);
  assert.ok(Math.abs(a.treatAll + 0.2) < 1e-15);
  assert.deepEqual([a.tp, a.fp, a.fn, a.tn], [1, 1, 1, 2]);
  // t = 0.3: TP 2, FP 1: 2/5 - 1/5 * 3/7.
  assert.ok(Math.abs(b.netBenefit - (0.4 - 0.2 * (3 / 7))) < 1e-15);
});

test("paired bootstrap against a reference: one arm reproduces the pairwise function; macro AUROC too", () => {
  const rng = new Rng(5);
  const n = 300;
  const labels = Array.from({ length: n }, () => Math.floor(rng.next() * 3));
  const rows = (signal: number) =>
    labels.flatMap((y) => {
      const z = [0, 1, 2].map((c) => (c === y ? signal : 0) + rng.normal());
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    });
  const ref = rows(0.5);
  const good = rows(1.5);
  const same = [...ref];
  const [g, s] = bootstrapPairedVersusReference(labels, ref, [good, same], 3, { resamples: 1000, seed: 2 });
  const pair = bootstrapPairedAurocDifference(labels, good, ref, 3, { resamples: 1000, seed: 2 });
  assert.ok(Math.abs(g.diff - pair.estimate) < 1e-12);
  assert.ok(Math.abs(g.lower - pair.lower) < 1e-12 && Math.abs(g.upper - pair.upper) < 1e-12);
  assert.equal(g.p, pair.p);
  assert.ok(g.diff > 0 && g.lower > 0 && g.p < 0.01);
  assert.equal(s.diff, 0);
  assert.equal(s.p, 1);
});
