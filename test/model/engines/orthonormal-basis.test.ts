import assert from "node:assert/strict";
import { test } from "node:test";
import { orthonormalBasis } from "../../../src/model/engines/orthonormal-basis.js";
import { Rng } from "../../../src/util/rng.js";

const vec = (data: Float64Array) => ({ data, offset: 0, stride: 1 });

test("orthonormalBasis: Q^T Q = I, every input lies in span(Q), dependent vectors add nothing", () => {
  const r = new Rng(7);
  const D = 30;
  const a = Float64Array.from({ length: D }, () => r.normal());
  const b = Float64Array.from({ length: D }, () => r.normal());
  const c = Float64Array.from({ length: D }, () => r.normal());
  // 2a - 3b + 1e-14 c is dependent up to rounding; a + c is dependent; zero is dropped.
  const dep = a.map((x, i) => 2 * x - 3 * b[i] + 1e-14 * c[i]);
  const sum = a.map((x, i) => x + c[i]);
  const inputs = [a, b, dep, new Float64Array(D), c, sum];
  const { Q, r: rank } = orthonormalBasis(inputs.map(vec), D);
  assert.equal(rank, 3);
  for (let i = 0; i < rank; i++)
    for (let j = 0; j < rank; j++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += Q[d * rank + i] * Q[d * rank + j];
      assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-13, `q${i}.q${j} = ${dot}`);
    }
  for (const x of inputs) {
    // x - Q Q^T x = 0.
    const coef = new Float64Array(rank);
    for (let c2 = 0; c2 < rank; c2++) for (let d = 0; d < D; d++) coef[c2] += Q[d * rank + c2] * x[d];
    for (let d = 0; d < D; d++) {
      let y = 0;
      for (let c2 = 0; c2 < rank; c2++) y += Q[d * rank + c2] * coef[c2];
      assert.ok(Math.abs(y - x[d]) < 1e-12);
    }
  }
});

test("orthonormalBasis reads strided columns and stops at D vectors", () => {
  // A 3 x 2 row-major matrix: its columns (stride 2) are e0 + e2 and e1.
  const m = Float64Array.from([1, 0, 0, 1, 1, 0]);
  const cols = [0, 1].map((offset) => ({ data: m, offset, stride: 2 }));
  const { Q, r } = orthonormalBasis(cols, 3);
  assert.equal(r, 2);
  assert.deepEqual(
    Array.from(Q, (x) => Math.round(x * 1e12) / 1e12),
    [Math.SQRT1_2, 0, 0, 1, Math.SQRT1_2, 0].map((x) => Math.round(x * 1e12) / 1e12),
  );
  const many = Array.from({ length: 10 }, (_, i) => vec(Float64Array.from([i + 1, (i * i) % 7, 1])));
  assert.equal(orthonormalBasis(many, 3).r, 3);
});
