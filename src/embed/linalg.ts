import { EigenvalueDecomposition, Matrix } from "ml-matrix";

/**
 * The small dense linear algebra that postprocessing and diagnostics need, in float64 over row-major
 * arrays: principal directions of a set of rows and the spectrum of a matrix. Both go through the
 * symmetric eigendecomposition of the smaller of the Gram matrix X X^T (n x n) and the scatter matrix
 * X^T X (d x d): same nonzero eigenvalues, and u = X^T v / sqrt(lambda) maps one set of eigenvectors
 * onto the other. So 180 BERT vectors of dimension 768 cost a 180 x 180 problem.
 */

/** Eigenvalues (descending) and eigenvectors (row i belongs to value i) of a symmetric n x n matrix. */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const evd = new EigenvalueDecomposition(Matrix.from1DArray(n, n, a), { assumeSymmetric: true });
  const raw = evd.realEigenvalues;
  const vecs = evd.eigenvectorMatrix;
  const order = raw.map((_, i) => i).sort((i, j) => raw[j] - raw[i] || i - j);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = raw[src];
    for (let k = 0; k < n; k++) vectors[dst * n + k] = vecs.get(k, src);
  });
  return { values, vectors };
}

/**
 * Eigenvalues only (descending) of a symmetric n x n matrix: Householder reduction to tridiagonal
 * form (Golub & Van Loan, alg. 8.3.1; about n^3 flops, no eigenvectors accumulated), then the
 * implicit QL iteration of EISPACK tql1 as in JAMA. Several times faster than the full decomposition
 * for the spectra that effective ranks need. `a` is overwritten.
 */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const v = new Float64Array(n);
  const w = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const m = n - k - 1;
    let norm = 0;
    for (let i = 0; i < m; i++) {
      const x = a[(k + 1 + i) * n + k];
      v[i] = x;
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    if (norm === 0) {
      e[k + 1] = 0;
      continue;
    }
    const alpha = v[0] > 0 ? -norm : norm;
    v[0] -= alpha;
    let vn = 0;
    for (let i = 0; i < m; i++) vn += v[i] * v[i];
    vn = Math.sqrt(vn);
    e[k + 1] = alpha;
    if (vn === 0) continue;
    for (let i = 0; i < m; i++) v[i] /= vn;
    // p = B v (B the trailing block), K = v.p, w = p - K v; B <- B - 2 v w^T - 2 w v^T.
    let K = 0;
    for (let i = 0; i < m; i++) {
      let s = 0;
      const row = (k + 1 + i) * n + k + 1;
      for (let j = 0; j < m; j++) s += a[row + j] * v[j];
      w[i] = s;
      K += v[i] * s;
    }
    for (let i = 0; i < m; i++) w[i] -= K * v[i];
    for (let i = 0; i < m; i++) {
      const row = (k + 1 + i) * n + k + 1;
      const vi = 2 * v[i];
      const wi = 2 * w[i];
      for (let j = 0; j < m; j++) a[row + j] -= vi * w[j] + wi * v[j];
    }
  }
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
  if (n >= 2) e[n - 1] = a[(n - 1) * n + n - 2];
  // tql1: e[i] is the subdiagonal T[i][i-1]; shift it to e[i-1] as JAMA's tql2 does.
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  if (n > 0) e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      do {
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  return d.sort((x, y) => y - x);
}

/** X X^T (n x n) of row-major X (n x d). */
function gram(x: Float64Array, n: number, d: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x[i * d + k] * x[j * d + k];
      g[i * n + j] = s;
      g[j * n + i] = s;
    }
  }
  return g;
}

/** X^T X (d x d) of row-major X (n x d). */
function scatter(x: Float64Array, n: number, d: number): Float64Array {
  const c = new Float64Array(d * d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let i = 0; i < d; i++) {
      const xi = x[o + i];
      if (xi === 0) continue;
      for (let j = i; j < d; j++) c[i * d + j] += xi * x[o + j];
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) c[i * d + j] = c[j * d + i];
  return c;
}

/** Eigenvalues of X^T X (= squared singular values of X), descending, min(n, d) of them. */
export function squaredSingularValues(x: Float64Array, n: number, d: number): Float64Array {
  const small = n <= d ? gram(x, n, d) : scatter(x, n, d);
  return symmetricEigenvalues(small, Math.min(n, d));
}

/**
 * The top `count` principal directions of rows X (already centered): unit vectors u_i (row-major,
 * count x d) with eigenvalues lambda_i of X^T X, descending. Each direction's sign is fixed so that
 * its largest-magnitude entry is positive, so results do not depend on the solver's convention.
 */
export function principalDirections(
  x: Float64Array,
  n: number,
  d: number,
  count: number,
): { values: Float64Array; directions: Float64Array } {
  const m = Math.min(count, n, d);
  const values = new Float64Array(m);
  const directions = new Float64Array(m * d);
  if (n <= d) {
    const e = symmetricEigen(gram(x, n, d), n);
    for (let c = 0; c < m; c++) {
      values[c] = e.values[c];
      const inv = e.values[c] > 0 ? 1 / Math.sqrt(e.values[c]) : 0;
      for (let r = 0; r < n; r++) {
        const w = e.vectors[c * n + r] * inv;
        if (w === 0) continue;
        for (let k = 0; k < d; k++) directions[c * d + k] += w * x[r * d + k];
      }
    }
  } else {
    const e = symmetricEigen(scatter(x, n, d), d);
    values.set(e.values.subarray(0, m));
    directions.set(e.vectors.subarray(0, m * d));
  }
  for (let c = 0; c < m; c++) {
    const u = directions.subarray(c * d, (c + 1) * d);
    let norm = 0;
    let best = 0;
    for (let k = 0; k < d; k++) {
      norm += u[k] * u[k];
      if (Math.abs(u[k]) > Math.abs(best)) best = u[k];
    }
    const scale = (best < 0 ? -1 : 1) / (norm > 0 ? Math.sqrt(norm) : 1);
    for (let k = 0; k < d; k++) u[k] *= scale;
  }
  return { values, directions };
}
