/**
 * An orthonormal basis of the span of a set of vectors (columns of Q, D x r, row-major). Modified
 * Gram-Schmidt, applied twice per vector ("twice is enough", Giraud et al. 2005), so Q^T Q = I to
 * rounding even when the vectors are nearly dependent; a vector whose remainder is below `tol` times
 * its own norm adds nothing and is dropped. Hand-written: ml-matrix's QR has no rank-revealing
 * variant and would need a D x n copy in its own format; this is a few dozen lines.
 */
export function orthonormalBasis(
  vectors: Iterable<{ data: ArrayLike<number>; offset: number; stride: number }>,
  D: number,
  tol = 1e-10,
): { Q: Float64Array; r: number } {
  const cols: Float64Array[] = [];
  const v = new Float64Array(D);
  for (const vec of vectors) {
    if (cols.length === D) break;
    let norm0 = 0;
    for (let d = 0; d < D; d++) {
      const x = vec.data[vec.offset + d * vec.stride];
      v[d] = x;
      norm0 += x * x;
    }
    if (norm0 === 0) continue;
    for (let pass = 0; pass < 2; pass++) {
      for (const q of cols) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[d] * v[d];
        for (let d = 0; d < D; d++) v[d] -= dot * q[d];
      }
    }
    let norm = 0;
    for (let d = 0; d < D; d++) norm += v[d] * v[d];
    if (norm <= tol * tol * norm0) continue;
    const inv = 1 / Math.sqrt(norm);
    cols.push(Float64Array.from(v, (x) => x * inv));
  }
  const r = cols.length;
  const Q = new Float64Array(D * r);
  for (let c = 0; c < r; c++) {
    const q = cols[c];
    for (let d = 0; d < D; d++) Q[d * r + c] = q[d];
  }
  return { Q, r };
}
