import assert from "node:assert/strict";
import { test } from "node:test";
import { simplifiedIndices } from "../../src/report/simplify.js";
import { Rng } from "../../src/util/rng.js";

/** y of the polyline through the kept points at x (x non-decreasing). */
function drawnAt(x: number[], y: number[], kept: number[], at: number): number {
  for (let k = 0; k + 1 < kept.length; k++) {
    const a = kept[k];
    const b = kept[k + 1];
    if (at >= x[a] && at <= x[b])
      return x[b] === x[a] ? y[a] : y[a] + ((y[b] - y[a]) * (at - x[a])) / (x[b] - x[a]);
  }
  throw new Error(`x = ${at} outside the line`);
}

test("every point left out lies within the tolerance of the line drawn; the ends are kept", () => {
  const rng = new Rng(3);
  // A ROC-like curve on a grid of 101: concave, with flat stretches and small wiggles.
  const x = Array.from({ length: 101 }, (_, i) => i / 100);
  const y = x.map((f) => Math.min(1, Math.round((Math.sqrt(f) + 0.003 * rng.normal()) * 1e4) / 1e4));
  for (const tol of [0.0005, 0.001, 0.01]) {
    const kept = simplifiedIndices(x, y, tol);
    assert.equal(kept[0], 0);
    assert.equal(kept[kept.length - 1], 100);
    assert.ok(kept.length < 101, `tolerance ${tol}: something is left out`);
    for (let i = 0; i < 101; i++)
      assert.ok(Math.abs(drawnAt(x, y, kept, x[i]) - y[i]) <= tol + 1e-12, `point ${i} at ${tol}`);
  }
  // A looser tolerance keeps no more points.
  assert.ok(simplifiedIndices(x, y, 0.01).length <= simplifiedIndices(x, y, 0.001).length);
});

test("collinear points go, a zig-zag above the tolerance stays, tiny inputs are returned whole", () => {
  assert.deepEqual(simplifiedIndices([0, 0.5, 1], [0, 0.5, 1], 0.001), [0, 2]);
  const zx = [0, 0.1, 0.2, 0.3, 0.4];
  assert.deepEqual(simplifiedIndices(zx, [0, 0.01, 0, 0.01, 0], 0.001), [0, 1, 2, 3, 4]);
  assert.deepEqual(simplifiedIndices([0.3], [0.2], 0.001), [0]);
  assert.deepEqual(simplifiedIndices([], [], 0.001), []);
});
