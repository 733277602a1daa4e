import assert from "node:assert/strict";
import { test } from "node:test";
import { gram, SPARSE_E_DENSITY, sparseMatrixRows, sparseRows } from "../../../src/model/engines/gram.js";
import { Rng } from "../../../src/util/rng.js";

/** The textbook triple loop, the reference for both code paths. */
function naiveGram(E: Float64Array, rows: number, D: number): Float64Array {
  const K = new Float64Array(rows * rows);
  for (let u = 0; u < rows; u++)
    for (let v = 0; v < rows; v++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += E[u * D + d] * E[v * D + d];
      K[u * rows + v] = s;
    }
  return K;
}

/** One-hot rows (row 0 padding) where the last `unknown` rows share one "unknown" slot. */
function oneHot(rows: number, unknown: number): { E: Float64Array; D: number } {
  const D = rows - unknown;
  const E = new Float64Array(rows * D);
  for (let v = 1; v < rows; v++) E[v * D + Math.min(v - 1, D - 1)] = 1;
  return { E, D };
}

test("gram of a one-hot table: the sparse path gives the dense values exactly, shared slots included", () => {
  const { E, D } = oneHot(40, 6);
  const K = gram(E, 40, D);
  assert.deepEqual(K, naiveGram(E, 40, D));
  // Rows 34..39 share the unknown slot (column 33): a 6 x 6 block of ones.
  assert.equal(K[35 * 40 + 38], 1);
  assert.equal(K[34 * 40 + 39], 1);
  assert.equal(K[33 * 40 + 39], 0);
  assert.equal(K[5 * 40 + 6], 0);
  assert.equal(K[0], 0);
});

test("gram of sparse random and dense tables equals the naive product exactly", () => {
  const r = new Rng(3);
  for (const density of [0.08, 0.9]) {
    const rows = 30;
    const D = 50;
    const E = new Float64Array(rows * D);
    for (let q = D; q < E.length; q++) if (r.next() < density) E[q] = r.normal();
    assert.equal(density < SPARSE_E_DENSITY, density === 0.08);
    assert.deepEqual(gram(E, rows, D), naiveGram(E, rows, D));
  }
});

test("sparseRows keeps exactly the non-zeros of a mostly-zero K, and declines a dense one", () => {
  const { E, D } = oneHot(20, 3);
  const K = gram(E, 20, D);
  const s = sparseRows(K, 20);
  assert.ok(s);
  const back = new Float64Array(400);
  for (let u = 0; u < 20; u++)
    for (let p = s.rowPtr[u]; p < s.rowPtr[u + 1]; p++) back[u * 20 + s.cols[p]] = s.vals[p];
  assert.deepEqual(back, K);
  // Rows 1..16 have a slot of their own; rows 17..19 share one: 16 + 3 x 3 non-zeros.
  assert.equal(s.rowPtr[20], 16 + 9);
  assert.equal(sparseRows(new Float64Array(16).fill(1), 4), null);
  assert.equal(sparseMatrixRows([1, 0, 0, 0, 0, 0, 0, 2], 2, 4)?.vals.length, 2);
});
