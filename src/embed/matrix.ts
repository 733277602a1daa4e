import { InputError, type InputLocation } from "../util/errors.js";
import type { EmbeddingMatrix } from "./types.js";

/** An all-zero matrix of the given shape. */
export function zeroMatrix(rows: number, dim: number): EmbeddingMatrix {
  return { rows, dim, data: new Float32Array(rows * dim) };
}

/** Row i as a view (no copy). */
export function row(m: EmbeddingMatrix, i: number): Float32Array {
  return m.data.subarray(i * m.dim, (i + 1) * m.dim);
}

/**
 * The model's embedding table: row 0 is the zero vector for padding (token id 0), row i + 1 is
 * vocabulary token i. The model masks padding out of the max-pool, but a zero row also keeps a
 * padding id harmless anywhere it is not masked.
 */
export function withPaddingRow(m: EmbeddingMatrix): EmbeddingMatrix {
  const data = new Float32Array((m.rows + 1) * m.dim);
  data.set(m.data.subarray(0, m.rows * m.dim), m.dim);
  return { rows: m.rows + 1, dim: m.dim, data };
}

/** Stack matrices of equal dimension row-wise. */
export function concatRows(parts: readonly EmbeddingMatrix[], dim?: number): EmbeddingMatrix {
  const d = dim ?? parts[0]?.dim ?? 0;
  let rows = 0;
  for (const p of parts) {
    if (p.dim !== d) throw new Error(`concatRows: dimension ${p.dim} != ${d}`);
    rows += p.rows;
  }
  const data = new Float32Array(rows * d);
  let off = 0;
  for (const p of parts) {
    data.set(p.data.subarray(0, p.rows * d), off);
    off += p.rows * d;
  }
  return { rows, dim: d, data };
}

/** Scale a vector in place to unit Euclidean length (left as is when it is all zero). */
export function l2normalizeInPlace(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i] *= inv;
  }
  return v;
}

/** Normalise every row of a matrix in place. */
export function l2normalizeRows(m: EmbeddingMatrix): EmbeddingMatrix {
  for (let i = 0; i < m.rows; i++) l2normalizeInPlace(row(m, i));
  return m;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Cosine similarity; 0 when either vector is all zero. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

export interface VectorCheckOptions {
  /** Expected dimension (length); checked when given. */
  dim?: number;
  /** Reject vectors that are all zero (default true: a language model never returns one, a broken file may). */
  allowZero?: boolean;
}

/**
 * Validate one vector from outside (file, HTTP reply): finite values, the expected dimension and
 * not all zero. `what` names the vector in the message (e.g. the dataset key or text).
 */
export function checkVector(
  v: ArrayLike<number>,
  what: string,
  opts: VectorCheckOptions = {},
  where: InputLocation = {},
): void {
  if (opts.dim !== undefined && v.length !== opts.dim) {
    throw new InputError(`vector of ${what} has dimension ${v.length}, expected ${opts.dim}`, where);
  }
  if (v.length === 0) throw new InputError(`vector of ${what} is empty`, where);
  let nonZero = false;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) {
      throw new InputError(`vector of ${what} has a non-finite value (${x}) at position ${i}`, where);
    }
    if (x !== 0) nonZero = true;
  }
  if (!nonZero && !opts.allowZero) throw new InputError(`vector of ${what} is all zero`, where);
}

/** Validate every row of a matrix (see checkVector); `names[i]` names row i in messages. */
export function checkMatrix(
  m: EmbeddingMatrix,
  names: readonly string[],
  opts: VectorCheckOptions = {},
  where: InputLocation = {},
): void {
  if (opts.dim !== undefined && m.dim !== opts.dim) {
    throw new InputError(`embedding dimension ${m.dim}, expected ${opts.dim}`, where);
  }
  if (m.data.length < m.rows * m.dim)
    throw new Error(`matrix data too short: ${m.data.length} < ${m.rows}x${m.dim}`);
  for (let i = 0; i < m.rows; i++)
    checkVector(row(m, i), names[i] ?? `row ${i}`, { allowZero: opts.allowZero }, where);
}
