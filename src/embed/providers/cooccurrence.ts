import { createHash } from "node:crypto";
import { Matrix, QrDecomposition, SingularValueDecomposition } from "ml-matrix";
import { z } from "zod";
import type { TokenSequences, Vocabulary } from "../../concepts/vocabulary.js";
import { InputError } from "../../util/errors.js";
import { parseInput } from "../../util/parse-input.js";
import { Rng } from "../../util/rng.js";
import { normalizeText } from "../text-normalize.js";
import type { EmbeddingProvider, ProviderInfo } from "../types.js";

/**
 * Embeddings learned from one site's own unlabeled encounters, for users with no language model:
 * two tokens that occur in the same encounters get similar vectors. PPMI of within-encounter
 * co-occurrence (context-distribution smoothing, Levy, Goldberg & Dagan 2015) factorised by a
 * truncated SVD; vector = U * sqrt(S).
 *
 * These vectors are site-specific: another site's co-occurrences give a different, arbitrarily
 * rotated space, so vectors fitted at two sites are not comparable. For transfer, the provider fitted
 * at the source is applied to target tokens by *text*: a target token whose text equals a source
 * token's (after case/punctuation normalisation) gets that token's vector, and every other target
 * token gets the zero vector (or the fallback provider's vector, when its dimension matches). So the
 * bridge is exactly as good as the shared texts; it helps when sites share a terminology but differ
 * in code systems, not when they word things differently.
 */
export const CooccurrenceSettings = z
  .object({
    /** SVD rank = embedding dimension (capped at the number of fitted tokens). */
    dimension: z
      .number()
      .int()
      .min(1)
      .max(2048)
      .describe("SVD rank = the embedding dimension (capped at the number of fitted tokens).")
      .default(64),
    /** Context distribution smoothing exponent (0.75 in word2vec and Levy et al.). */
    alpha: z
      .number()
      .min(0)
      .max(1)
      .describe(
        "Context distribution smoothing exponent (0.75 as in word2vec and Levy et al.; 1 = no smoothing).",
      )
      .default(0.75),
    /** Tokens seen in fewer encounters than this get no vector (too few co-occurrences to place). */
    minCount: z
      .number()
      .int()
      .min(1)
      .describe("Tokens seen in fewer encounters than this get no vector (too few co-occurrences to place).")
      .default(1),
    /** Randomized SVD: oversampling columns and power iterations (Halko, Martinsson & Tropp 2011). */
    oversample: z
      .number()
      .int()
      .min(0)
      .describe("Randomized SVD: extra columns sampled beyond the rank (Halko, Martinsson & Tropp 2011).")
      .default(10),
    powerIterations: z
      .number()
      .int()
      .min(0)
      .max(20)
      .describe("Randomized SVD: power iterations, which sharpen the leading singular vectors.")
      .default(4),
    seed: z.number().int().describe("Seed of the randomized SVD's random projection.").default(0),
  })
  .strict();
export type CooccurrenceSettings = z.infer<typeof CooccurrenceSettings>;
export type CooccurrenceSettingsInput = z.input<typeof CooccurrenceSettings>;

export interface CooccurrenceProviderOptions {
  /** Embeds tokens whose text was not seen at fit time (must give the same dimension); default: zero vector. */
  fallback?: EmbeddingProvider;
}

/** Sparse square matrix in CSR form (float64 values). */
interface Csr {
  n: number;
  rowPtr: Uint32Array;
  cols: Uint32Array;
  vals: Float64Array;
}

/**
 * Co-occurrence counts: number of encounters in which tokens i and j (0-based, i != j) both occur.
 * Computed row by row through an inverted index with a dense scratch row, so memory stays O(nnz)
 * even for vocabularies of many thousand tokens.
 */
export function cooccurrenceCounts(
  V: number,
  seqs: TokenSequences,
): { counts: Csr; occurrences: Float64Array } {
  const occurrences = new Float64Array(V);
  const postingsLen = new Uint32Array(V + 1);
  for (let e = 0; e < seqs.count; e++) {
    for (let k = seqs.offsets[e]; k < seqs.offsets[e + 1]; k++) {
      const id = seqs.tokens[k];
      if (id === 0 || id > V)
        throw new InputError(`token id ${id} outside the vocabulary (1..${V})`, { row: e + 1 });
      postingsLen[id]++;
    }
  }
  const postStart = new Uint32Array(V + 1);
  for (let i = 0; i < V; i++) postStart[i + 1] = postStart[i] + postingsLen[i + 1];
  const postings = new Uint32Array(postStart[V]);
  const fill = postStart.slice(0, V);
  for (let e = 0; e < seqs.count; e++) {
    for (let k = seqs.offsets[e]; k < seqs.offsets[e + 1]; k++) postings[fill[seqs.tokens[k] - 1]++] = e;
  }
  for (let i = 0; i < V; i++) occurrences[i] = postStart[i + 1] - postStart[i];
  const scratch = new Float64Array(V);
  const touched: number[] = [];
  const rowPtr = new Uint32Array(V + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < V; i++) {
    touched.length = 0;
    for (let p = postStart[i]; p < postStart[i + 1]; p++) {
      const e = postings[p];
      for (let k = seqs.offsets[e]; k < seqs.offsets[e + 1]; k++) {
        const j = seqs.tokens[k] - 1;
        if (j === i) continue;
        if (scratch[j] === 0) touched.push(j);
        scratch[j]++;
      }
    }
    touched.sort((a, b) => a - b);
    for (const j of touched) {
      cols.push(j);
      vals.push(scratch[j]);
      scratch[j] = 0;
    }
    rowPtr[i + 1] = cols.length;
  }
  return {
    counts: { n: V, rowPtr, cols: Uint32Array.from(cols), vals: Float64Array.from(vals) },
    occurrences,
  };
}

/** PPMI with smoothed context distribution; rows/columns of tokens below minCount are dropped (zero). */
export function ppmi(c: Csr, occurrences: Float64Array, alpha: number, minCount: number): Csr {
  const n = c.n;
  const keep = (i: number) => occurrences[i] >= minCount;
  const rowSum = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (!keep(i)) continue;
    for (let p = c.rowPtr[i]; p < c.rowPtr[i + 1]; p++) {
      if (!keep(c.cols[p])) continue;
      rowSum[i] += c.vals[p];
      total += c.vals[p];
    }
  }
  let ctxTotal = 0;
  const ctx = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    ctx[j] = rowSum[j] ** alpha * (rowSum[j] > 0 ? 1 : 0);
    ctxTotal += ctx[j];
  }
  const rowPtr = new Uint32Array(n + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    if (keep(i) && rowSum[i] > 0) {
      for (let p = c.rowPtr[i]; p < c.rowPtr[i + 1]; p++) {
        const j = c.cols[p];
        if (!keep(j) || ctx[j] === 0) continue;
        // pmi = log P(i,j) / (P(i) P_alpha(j))
        const v = Math.log(c.vals[p] / total / ((rowSum[i] / total) * (ctx[j] / ctxTotal)));
        if (v > 0) {
          cols.push(j);
          vals.push(v);
        }
      }
    }
    rowPtr[i + 1] = cols.length;
  }
  return { n, rowPtr, cols: Uint32Array.from(cols), vals: Float64Array.from(vals) };
}

/** Y = A X for sparse A (n x n) and dense X (n x k). */
function spmm(a: Csr, x: Matrix): Matrix {
  const k = x.columns;
  const xr = x.to2DArray();
  const y: number[][] = [];
  for (let i = 0; i < a.n; i++) {
    const out = new Array<number>(k).fill(0);
    for (let p = a.rowPtr[i]; p < a.rowPtr[i + 1]; p++) {
      const v = a.vals[p];
      const row = xr[a.cols[p]];
      for (let c = 0; c < k; c++) out[c] += v * row[c];
    }
    y.push(out);
  }
  return new Matrix(y);
}

/** Y = A^T X for sparse A (n x n) and dense X (n x k). */
function spmmT(a: Csr, x: Matrix): Matrix {
  const k = x.columns;
  const xr = x.to2DArray();
  const y: number[][] = Array.from({ length: a.n }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < a.n; i++) {
    const xi = xr[i];
    for (let p = a.rowPtr[i]; p < a.rowPtr[i + 1]; p++) {
      const v = a.vals[p];
      const out = y[a.cols[p]];
      for (let c = 0; c < k; c++) out[c] += v * xi[c];
    }
  }
  return new Matrix(y);
}

/**
 * Truncated SVD of a sparse matrix by randomized range finding with power iterations (Halko et al.
 * 2011): cost O(nnz * (rank + oversample) * iterations) instead of a dense O(n^3) SVD, which matters
 * for vocabularies of a few thousand tokens. PPMI with a smoothed context distribution is not
 * symmetric, so both A and A^T products are used. Signs are fixed (largest-magnitude entry of each
 * left vector positive) so results do not depend on the solver's sign convention.
 */
export function truncatedSvd(
  a: Csr,
  rank: number,
  oversample: number,
  iterations: number,
  seed: number,
): { u: Matrix; s: number[] } {
  const n = a.n;
  const l = Math.min(n, rank + oversample);
  const rng = new Rng(seed);
  const omega = new Matrix(n, l);
  for (let i = 0; i < n; i++) for (let c = 0; c < l; c++) omega.set(i, c, rng.normal());
  let q = new QrDecomposition(spmm(a, omega)).orthogonalMatrix;
  for (let it = 0; it < iterations; it++) {
    q = new QrDecomposition(spmm(a, new QrDecomposition(spmmT(a, q)).orthogonalMatrix)).orthogonalMatrix;
  }
  // B = Q^T A (l x n); SVD of B^T = A^T Q = V_b S U_b^T, and A ~ Q B = (Q U_b) S V_b^T.
  const bt = spmmT(a, q);
  const svd = new SingularValueDecomposition(bt, { autoTranspose: true });
  const u = q.mmul(svd.rightSingularVectors);
  const s = svd.diagonal;
  const r = Math.min(rank, s.length);
  const out = new Matrix(n, r);
  for (let c = 0; c < r; c++) {
    let best = 0;
    for (let i = 0; i < n; i++) if (Math.abs(u.get(i, c)) > Math.abs(best)) best = u.get(i, c);
    const sign = best < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) out.set(i, c, sign * u.get(i, c));
  }
  return { u: out, s: s.slice(0, r) };
}

export interface CooccurrenceProvider extends EmbeddingProvider {
  /** Fitted vectors of the fitting site's tokens (row i = vocabulary token i; zero when unplaceable). */
  readonly fitted: { keys: string[]; texts: string[]; dim: number; data: Float32Array };
}

export function fitCooccurrenceProvider(
  vocab: Vocabulary,
  seqs: TokenSequences,
  settings: CooccurrenceSettingsInput = {},
  opts: CooccurrenceProviderOptions = {},
): CooccurrenceProvider {
  const s = parseInput(CooccurrenceSettings, settings, { field: "embedding", what: "cooccurrence settings" });
  const V = vocab.tokens.length;
  if (V === 0 || seqs.count === 0)
    throw new InputError("cooccurrence needs a vocabulary and encounters to fit on");
  const { counts, occurrences } = cooccurrenceCounts(V, seqs);
  const m = ppmi(counts, occurrences, s.alpha, s.minCount);
  const dim = Math.min(s.dimension, V);
  const data = new Float32Array(V * dim);
  if (m.vals.length > 0) {
    const { u, s: sv } = truncatedSvd(m, dim, s.oversample, s.powerIterations, s.seed);
    for (let c = 0; c < u.columns; c++) {
      const w = Math.sqrt(sv[c]);
      for (let i = 0; i < V; i++) data[i * dim + c] = u.get(i, c) * w;
    }
  }
  const rowByText = new Map<string, number>();
  vocab.tokens.forEach((t, i) => {
    let nz = false;
    for (let c = 0; c < dim && !nz; c++) nz = data[i * dim + c] !== 0;
    // A token with no co-occurrences cannot be placed; treat it as unseen.
    const k = normalizeText(t.text);
    if (nz && !rowByText.has(k)) rowByText.set(k, i);
  });
  if (opts.fallback?.info.dimension !== undefined && opts.fallback.info.dimension !== dim) {
    throw new InputError(
      `fallback provider dimension ${opts.fallback.info.dimension} differs from the cooccurrence dimension ${dim}`,
    );
  }
  const info: ProviderInfo = {
    provider: "cooccurrence",
    model: vocab.site,
    // The vectors depend on the site's encounters: identify them by their content.
    revision: `sha256:${createHash("sha256").update(new Uint8Array(data.buffer)).digest("hex")}`,
    dimension: dim,
    params: {
      alpha: s.alpha,
      minCount: s.minCount,
      oversample: s.oversample,
      powerIterations: s.powerIterations,
      seed: s.seed,
      ...(opts.fallback ? { fallback: JSON.stringify(opts.fallback.info) } : {}),
    },
  };
  const fallback = opts.fallback;
  return {
    info,
    fitted: { keys: vocab.tokens.map((t) => t.key), texts: vocab.tokens.map((t) => t.text), dim, data },
    async embed(tokens, eopts) {
      const out = new Float32Array(tokens.length * dim);
      const unseen: number[] = [];
      tokens.forEach((t, i) => {
        const r = rowByText.get(normalizeText(t.text));
        if (r === undefined) unseen.push(i);
        else out.set(data.subarray(r * dim, (r + 1) * dim), i * dim);
      });
      if (fallback && unseen.length > 0) {
        const extra = await fallback.embed(
          unseen.map((i) => tokens[i]),
          eopts,
        );
        if (extra.dim !== dim) {
          throw new InputError(`fallback provider gives dimension ${extra.dim}, cooccurrence has ${dim}`);
        }
        unseen.forEach((i, k) => {
          out.set(extra.data.subarray(k * dim, (k + 1) * dim), i * dim);
        });
      }
      eopts?.onProgress?.(tokens.length, tokens.length);
      return { rows: tokens.length, dim, data: out };
    },
  };
}
