/**
 * K = E E^T (rows x rows) for the factorized engine, and K's rows in sparse form when most of K is
 * zero. One-hot tables (K is the identity apart from rows that share the "unknown" vector) and
 * hashed n-gram tables (a few dozen non-zeros of hundreds of columns) are mostly zero: there the
 * dense triple loop (rows^2 x D: 5 G multiply-adds for a 2,164-token one-hot vocabulary) is wasted,
 * and so is a dense scatter of K's rows in every training step.
 */
export interface SparseRows {
  /** CSR: row u's non-zeros are cols/vals[rowPtr[u] .. rowPtr[u + 1]). */
  rowPtr: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
}

/** Below this fraction of non-zeros E is multiplied column by column (only pairs that share a column). */
export const SPARSE_E_DENSITY = 0.25;
/** Below this fraction of non-zeros K's rows are kept in CSR form for the per-step scatter. */
export const SPARSE_K_DENSITY = 0.25;

export function gram(E: ArrayLike<number>, rows: number, D: number): Float64Array {
  let nnz = 0;
  for (let q = 0; q < rows * D; q++) if (E[q] !== 0) nnz++;
  return nnz <= SPARSE_E_DENSITY * rows * D ? gramSparse(E, rows, D, nnz) : gramDense(E, rows, D);
}

function gramDense(E: ArrayLike<number>, rows: number, D: number): Float64Array {
  const K = new Float64Array(rows * rows);
  for (let u = 0; u < rows; u++) {
    const eu = u * D;
    for (let v = u; v < rows; v++) {
      const ev = v * D;
      let s = 0;
      for (let d = 0; d < D; d++) s += E[eu + d] * E[ev + d];
      K[u * rows + v] = s;
      K[v * rows + u] = s;
    }
  }
  return K;
}

/**
 * Column by column through E's transpose in CSC form: cost = sum over columns of (non-zeros in the
 * column)^2 instead of rows^2 x D. Each K entry sums the same products as the dense loop, in
 * increasing column order, so both paths give identical values.
 */
function gramSparse(E: ArrayLike<number>, rows: number, D: number, nnz: number): Float64Array {
  const colPtr = new Int32Array(D + 1);
  for (let u = 0; u < rows; u++) for (let d = 0; d < D; d++) if (E[u * D + d] !== 0) colPtr[d + 1]++;
  for (let d = 0; d < D; d++) colPtr[d + 1] += colPtr[d];
  const at = colPtr.slice(0, D);
  const rowOf = new Int32Array(nnz);
  const val = new Float64Array(nnz);
  for (let u = 0; u < rows; u++)
    for (let d = 0; d < D; d++) {
      const x = E[u * D + d];
      if (x === 0) continue;
      rowOf[at[d]] = u;
      val[at[d]++] = x;
    }
  const K = new Float64Array(rows * rows);
  for (let d = 0; d < D; d++) {
    for (let p = colPtr[d]; p < colPtr[d + 1]; p++) {
      const u = rowOf[p];
      const x = val[p];
      for (let q = p; q < colPtr[d + 1]; q++) K[u * rows + rowOf[q]] += x * val[q];
    }
  }
  // Only u <= v was accumulated (rows are listed in increasing order within a column): mirror it.
  for (let u = 0; u < rows; u++) for (let v = u + 1; v < rows; v++) K[v * rows + u] = K[u * rows + v];
  return K;
}

/** K's rows in CSR form, or null when K is too dense for that to pay. */
export function sparseRows(K: Float64Array, rows: number): SparseRows | null {
  return sparseMatrixRows(K, rows, rows, SPARSE_K_DENSITY);
}

/** A rows x cols matrix's rows in CSR form, or null when more than `maxDensity` of it is non-zero. */
export function sparseMatrixRows(
  M: ArrayLike<number>,
  rows: number,
  cols: number,
  maxDensity = SPARSE_E_DENSITY,
): SparseRows | null {
  let nnz = 0;
  for (let q = 0; q < rows * cols; q++) if (M[q] !== 0) nnz++;
  if (nnz > maxDensity * rows * cols) return null;
  const rowPtr = new Int32Array(rows + 1);
  const colIdx = new Int32Array(nnz);
  const vals = new Float64Array(nnz);
  let p = 0;
  for (let u = 0; u < rows; u++) {
    for (let v = 0; v < cols; v++) {
      const x = M[u * cols + v];
      if (x === 0) continue;
      colIdx[p] = v;
      vals[p++] = x;
    }
    rowPtr[u + 1] = p;
  }
  return { rowPtr, cols: colIdx, vals };
}
