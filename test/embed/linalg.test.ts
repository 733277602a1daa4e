import assert from "node:assert/strict";
import { test } from "node:test";
import {
  principalDirections,
  squaredSingularValues,
  symmetricEigen,
  symmetricEigenvalues,
} from "../../src/embed/linalg.js";
import { Rng } from "../../src/util/rng.js";

test("eigenvalues alone equal the full decomposition's, for sizes 1 to 60", () => {
  const rng = new Rng(11);
  for (const n of [1, 2, 3, 10, 60]) {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        const v = rng.normal();
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
    const full = symmetricEigen(a.slice(), n);
    const fast = symmetricEigenvalues(a.slice(), n);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(full.values[i] - fast[i]) < 1e-10, `n=${n} i=${i}`);
    for (let i = 1; i < n; i++) assert.ok(fast[i - 1] >= fast[i]);
  }
  // By hand: [[2,1],[1,2]] has eigenvalues 3 and 1.
  assert.deepEqual(
    Array.from(symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2), (x) => Math.round(x * 1e12) / 1e12),
    [3, 1],
  );
});

test("singular values and principal directions through the smaller Gram or scatter matrix", () => {
  // X = [[3,0],[0,4],[0,0]]: singular values 4 and 3, directions e2 then e1 (signs: largest entry +).
  const x = Float64Array.of(3, 0, 0, 4, 0, 0);
  assert.deepEqual(Array.from(squaredSingularValues(x, 3, 2), Math.round), [16, 9]);
  const wide = Float64Array.of(3, 0, 0, 0, -4, 0); // 2 x 3: the Gram path
  assert.deepEqual(Array.from(squaredSingularValues(wide, 2, 3), Math.round), [16, 9]);
  const pc = principalDirections(wide, 2, 3, 2);
  assert.deepEqual(
    Array.from(pc.directions, (v) => Math.round(v * 1e9) / 1e9 + 0),
    [0, 1, 0, 1, 0, 0],
  );
  const tall = principalDirections(x, 3, 2, 1);
  assert.deepEqual(
    Array.from(tall.directions, (v) => Math.round(v * 1e9) / 1e9 + 0),
    [0, 1],
  );
  assert.equal(Math.round(tall.values[0]), 16);
});
