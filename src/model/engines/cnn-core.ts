import type { TokenSequences } from "../../concepts/vocabulary.js";
import type { CnnShape } from "../params.js";
import { SortedTokenTable } from "./sorted-table.js";
import type { SparseGrad } from "./sparse-grad.js";

/*
 * The concept CNN's forward and backward pass, hand-derived for THIS model only (no general autograd:
 * tfjs-node cannot install here and tfjs-wasm lacks conv/gather gradients; see the gradient checks in
 * test/model/gradcheck.test.ts).
 *
 * Everything works from per-branch TOKEN TABLES: for branch i with kernel k and F filters,
 * table[i][j][v][f] = E[v] . W_i[j, :, f] is the contribution of token v at kernel offset j to filter f.
 * A conv over token positions is then a gather: pre(s, f) = sum_j table[j][tok[s + j]][f]. This is the
 * same arithmetic as a Conv1d over embedded positions, computed once per distinct token instead of
 * once per position.
 *
 * Windows: an encounter's tokens t_0..t_{L-1} (its CSR row, in order; padding never stored) give
 * windows s = 0..L-k when L >= k. An encounter with 0 < L < k gets ONE window at s = 0 whose missing
 * tail is zero-embedding padding. An encounter with L = 0 pools to 0 (as the PyTorch peer's
 * where(isinf(h), 0, h)). For k = 1 this is exactly the peer: every token is a window and padding is
 * masked out of the max-pool.
 *
 * Pooling: h_f = relu(max_s pre(s, f) + b_f), which equals max_s relu(pre(s, f) + b_f). The gradient
 * flows to the first arg-max window only when max + b > 0 (torch's relu gradient at 0 is 0).
 */

/** Number of windows of an encounter of `len` tokens for kernel size k. */
export function windowCount(len: number, k: number): number {
  return len >= k ? len - k + 1 : len > 0 ? 1 : 0;
}

/** Inputs of poolForward. */
export interface PoolArgs {
  shape: CnnShape;
  tables: Float64Array[];
  rows: number;
  convB: Float64Array[];
  seqs: TokenSequences;
  idx: ArrayLike<number>;
  idxStart: number;
  nb: number;
  /** Out: nb x features, relu(max + b), 0 for empty encounters. */
  pooled: Float64Array;
  /**
   * Out (training): per cell the arg-max window start (kernel > 1) or the arg-max TOKEN id
   * (kernel 1) where a gradient flows: active (max + b > 0) and needed (need[cell] !== 0, e.g. not
   * dropped); -1 elsewhere. null in eval mode.
   */
  argWin: Int32Array | null;
  need: Float64Array | null;
  /** Exactly 2 x max filters. */
  scratch: Float64Array;
  /** Per branch, a ranking of the kernel-1 table (see sorted-table.ts), or null to scan. */
  sorted?: (SortedTokenTable | null)[] | null;
  /** tokenBitsets(seqs, rows) when `sorted` is given (computed per encounter otherwise). */
  bits?: Uint32Array | null;
}

/** Words of a token-set bitset over `rows` ids. */
export function bitsetWords(rows: number): number {
  return (rows + 31) >>> 5;
}

/**
 * Every encounter's token set as a bitset (count x bitsetWords(rows) words): the ranked max-pool
 * tests membership without marking and unmarking the encounter's tokens at every visit.
 */
export function tokenBitsets(seqs: TokenSequences, rows: number): Uint32Array {
  const W = bitsetWords(rows);
  const bits = new Uint32Array(seqs.count * W);
  for (let n = 0; n < seqs.count; n++) {
    const o = n * W;
    for (let t = seqs.offsets[n]; t < seqs.offsets[n + 1]; t++) {
      const v = seqs.tokens[t];
      bits[o + (v >>> 5)] |= 1 << (v & 31);
    }
  }
  return bits;
}

/** Memory tokenBitsets would take, in bytes. */
export function bitsetBytes(seqs: TokenSequences, rows: number): number {
  return seqs.count * bitsetWords(rows) * 4;
}

/** Max-pool forward for a batch (see the comment at the top of this file). */
export function poolForward(a: PoolArgs): void {
  const { shape, tables, rows, convB, seqs, idx, idxStart, nb, pooled, argWin, need, scratch } = a;
  const { offsets, tokens } = seqs;
  const Ft = shape.features;
  const W = bitsetWords(rows);
  const shared = a.bits ?? null;
  const own = shared ? null : new Uint32Array(W);
  const maxF = scratch.length >> 1;
  const lo = scratch.subarray(0, maxF);
  const hi = scratch.subarray(maxF, 2 * maxF);
  for (let b = 0; b < nb; b++) {
    const n = idx[idxStart + b];
    const start = offsets[n];
    const len = offsets[n + 1] - start;
    let bits: Uint32Array | null = null;
    let bo = 0;
    for (let i = 0; i < shape.kernels.length; i++) {
      const k = shape.kernels[i];
      const F = shape.filters[i];
      const out = b * Ft + shape.offsets[i];
      const tab = tables[i];
      const bias = convB[i];
      const nw = windowCount(len, k);
      if (nw === 0) {
        for (let f = 0; f < F; f++) pooled[out + f] = 0;
        if (argWin) for (let f = 0; f < F; f++) argWin[out + f] = -1;
        continue;
      }
      if (k === 1) {
        const ranked = a.sorted?.[i] ?? null;
        const arg = hi;
        if (ranked) {
          if (bits === null) {
            if (shared) {
              bits = shared;
              bo = n * W;
            } else {
              bits = own!;
              bits.fill(0);
              for (let s = 0; s < len; s++) bits[tokens[start + s] >>> 5] |= 1 << (tokens[start + s] & 31);
            }
          }
          poolByRank(ranked, tab, tokens, start, len, F, bits, bo, bias, pooled, out, argWin, need);
          continue;
        }
        maxRows(tab, tokens, start, len, F, lo, argWin ? arg : null);
        for (let f = 0; f < F; f++) {
          const z = lo[f] + bias[f];
          const on = z > 0;
          pooled[out + f] = on ? z : 0;
          if (argWin) argWin[out + f] = on && (need === null || need[out + f] !== 0) ? arg[f] : -1;
        }
        continue;
      }
      const plane = rows * F;
      const mx = hi;
      for (let f = 0; f < F; f++) mx[f] = Number.NEGATIVE_INFINITY;
      if (argWin) for (let f = 0; f < F; f++) argWin[out + f] = 0;
      for (let s = 0; s < nw; s++) {
        for (let f = 0; f < F; f++) lo[f] = 0;
        for (let j = 0; j < k && s + j < len; j++) {
          const row = j * plane + tokens[start + s + j] * F;
          for (let f = 0; f < F; f++) lo[f] += tab[row + f];
        }
        for (let f = 0; f < F; f++) {
          if (lo[f] > mx[f]) {
            mx[f] = lo[f];
            if (argWin) argWin[out + f] = s;
          }
        }
      }
      for (let f = 0; f < F; f++) {
        const z = mx[f] + bias[f];
        pooled[out + f] = Math.max(z, 0);
        if (argWin && (z <= 0 || (need !== null && need[out + f] === 0))) argWin[out + f] = -1;
      }
    }
  }
}

/**
 * Kernel-1 max-pool by ranking: the max of filter f is the first token of its order that the
 * encounter holds (its bitset at bits[bo ..]); writes relu(max + b) and, in training, the arg-max
 * token where a gradient flows. The scan is capped at len ranks; past that a plain scan over the
 * encounter's tokens is cheaper.
 */
function poolByRank(
  ranked: SortedTokenTable,
  tab: Float64Array,
  tokens: Uint32Array,
  start: number,
  len: number,
  F: number,
  bits: Uint32Array,
  bo: number,
  bias: Float64Array,
  pooled: Float64Array,
  out: number,
  argWin: Int32Array | null,
  need: Float64Array | null,
): void {
  const n = ranked.rows - 1;
  const { order, keys } = ranked;
  const cap = Math.min(n, len + 4);
  for (let f = 0; f < F; f++) {
    const o = f * n;
    let r = 0;
    let v = 0;
    for (; r < cap; r++) {
      v = order[o + r];
      if ((bits[bo + (v >>> 5)] >>> (v & 31)) & 1) break;
    }
    let best: number;
    if (r < cap) best = keys[o + r];
    else {
      best = Number.NEGATIVE_INFINITY;
      v = tokens[start];
      for (let s = 0; s < len; s++) {
        const t = tokens[start + s];
        const x = tab[t * F + f];
        if (x > best) {
          best = x;
          v = t;
        }
      }
    }
    const z = best + bias[f];
    if (z > 0) {
      pooled[out + f] = z;
      if (argWin) argWin[out + f] = need === null || need[out + f] !== 0 ? v : -1;
    } else {
      pooled[out + f] = 0;
      if (argWin) argWin[out + f] = -1;
    }
  }
}

/**
 * m[f] = max over the len token rows tokens[start..] of tab[row][f], four rows at a time so the
 * running maximum is read and written once per four gathers. With arg, also the first token holding
 * the max (found again by exact equality, cheaper than tracking it in the hot loop).
 */
function maxRows(
  tab: Float64Array,
  tokens: Uint32Array,
  start: number,
  len: number,
  F: number,
  m: Float64Array,
  arg: Float64Array | null,
): void {
  const r0 = tokens[start] * F;
  for (let f = 0; f < F; f++) m[f] = tab[r0 + f];
  let s = 1;
  for (; s + 3 < len; s += 4) {
    const a = tokens[start + s] * F;
    const b = tokens[start + s + 1] * F;
    const c = tokens[start + s + 2] * F;
    const d = tokens[start + s + 3] * F;
    for (let f = 0; f < F; f++) {
      const x = Math.max(tab[a + f], tab[b + f]);
      const y = Math.max(tab[c + f], tab[d + f]);
      m[f] = Math.max(m[f], Math.max(x, y));
    }
  }
  for (; s < len; s++) {
    const a = tokens[start + s] * F;
    for (let f = 0; f < F; f++) m[f] = Math.max(m[f], tab[a + f]);
  }
  if (!arg) return;
  for (let f = 0; f < F; f++) {
    const mf = m[f];
    let q = 0;
    while (q < len && tab[tokens[start + q] * F + f] !== mf) q++;
    // q === len only when the max is NaN (diverged weights): route nowhere.
    arg[f] = q < len ? tokens[start + q] : -1;
  }
}

/** logits (nb x C) = h (nb x Fin) W (Fin x C) + bias. */
export function denseForward(
  h: Float64Array,
  nb: number,
  fin: number,
  W: Float64Array,
  bias: Float64Array,
  C: number,
  logits: Float64Array,
): void {
  for (let b = 0; b < nb; b++) {
    const o = b * C;
    for (let c = 0; c < C; c++) logits[o + c] = bias[c];
    const hb = b * fin;
    for (let f = 0; f < fin; f++) {
      const x = h[hb + f];
      if (x === 0) continue;
      const w = f * C;
      for (let c = 0; c < C; c++) logits[o + c] += x * W[w + c];
    }
  }
}

/** In place: logits (nb x C) -> softmax probabilities. */
export function softmaxRows(logits: Float64Array, nb: number, C: number): void {
  for (let b = 0; b < nb; b++) {
    const o = b * C;
    let m = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) if (logits[o + c] > m) m = logits[o + c];
    let s = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(logits[o + c] - m);
      logits[o + c] = e;
      s += e;
    }
    for (let c = 0; c < C; c++) logits[o + c] /= s;
  }
}

/**
 * Cross-entropy as torch.nn.CrossEntropyLoss (mean over the batch, or with class weights
 * sum_b w_{y_b} nll_b / sum_b w_{y_b}). Turns `logits` into dLoss/dlogits in place; returns the loss.
 */
export function crossEntropyGrad(
  logits: Float64Array,
  nb: number,
  C: number,
  labels: Int32Array,
  idx: ArrayLike<number>,
  idxStart: number,
  classWeights: Float64Array | null,
): number {
  softmaxRows(logits, nb, C);
  let wsum = 0;
  for (let b = 0; b < nb; b++) wsum += classWeights ? classWeights[labels[idx[idxStart + b]]] : 1;
  let loss = 0;
  for (let b = 0; b < nb; b++) {
    const y = labels[idx[idxStart + b]];
    const w = (classWeights ? classWeights[y] : 1) / wsum;
    const o = b * C;
    loss -= w * Math.log(Math.max(logits[o + y], 1e-300));
    for (let c = 0; c < C; c++) logits[o + c] *= w;
    logits[o + y] -= w;
  }
  return loss;
}

/**
 * Route the pre-pooling gradient dz (nb x features; 0 where dropped or inactive) to the token tables:
 * grads[i][j] gets dz at (token at window start + j, filter) and gConvB[i] the bias gradient.
 */
export function routeConvGrad(
  shape: CnnShape,
  seqs: TokenSequences,
  idx: ArrayLike<number>,
  idxStart: number,
  nb: number,
  dz: Float64Array,
  argWin: Int32Array,
  grads: SparseGrad[][],
  gConvB: Float64Array[] | null,
): void {
  const { offsets, tokens } = seqs;
  const Ft = shape.features;
  if (gConvB) for (const g of gConvB) g.fill(0);
  for (let b = 0; b < nb; b++) {
    const n = idx[idxStart + b];
    const start = offsets[n];
    const len = offsets[n + 1] - start;
    for (let i = 0; i < shape.kernels.length; i++) {
      const k = shape.kernels[i];
      const F = shape.filters[i];
      const o = b * Ft + shape.offsets[i];
      const gb = gConvB ? gConvB[i] : null;
      const gi = grads[i];
      for (let f = 0; f < F; f++) {
        const s = argWin[o + f];
        const g = dz[o + f];
        if (s < 0 || g === 0) continue;
        if (gb) gb[f] += g;
        if (k === 1) gi[0].add(s * F + f, g);
        else for (let j = 0; j < k && s + j < len; j++) gi[j].add(tokens[start + s + j] * F + f, g);
      }
    }
  }
}

/**
 * Token tables for the given rows (all rows when `only` is null): table[i][j][v][f] = E[v] . W_i[j,:,f].
 * E is rows x D (float64 or float32), W_i [j][d][f].
 */
export function computeTables(
  shape: CnnShape,
  convW: Float64Array[],
  E: Float64Array | Float32Array,
  rows: number,
  tables: Float64Array[],
  only: Int32Array | null,
  onlyCount: number,
): void {
  const D = shape.dim;
  for (let i = 0; i < shape.kernels.length; i++) {
    const k = shape.kernels[i];
    const F = shape.filters[i];
    const W = convW[i];
    const T = tables[i];
    const n = only ? onlyCount : rows;
    for (let j = 0; j < k; j++) {
      const tOff = j * rows * F;
      const wOff = j * D * F;
      for (let r = 0; r < n; r++) {
        const v = only ? only[r] : r;
        const o = tOff + v * F;
        for (let f = 0; f < F; f++) T[o + f] = 0;
        const e = v * D;
        // Four embedding dimensions per pass over the row: a quarter of the loads and stores of T
        // (about 3x faster in V8, which does not vectorise); all-zero groups (one-hot) are skipped.
        let d = 0;
        for (; d + 3 < D; d += 4) {
          const x0 = E[e + d];
          const x1 = E[e + d + 1];
          const x2 = E[e + d + 2];
          const x3 = E[e + d + 3];
          if (x0 === 0 && x1 === 0 && x2 === 0 && x3 === 0) continue;
          axpy4(T, o, W, wOff + d * F, F, x0, x1, x2, x3);
        }
        for (; d < D; d++) {
          const x = E[e + d];
          if (x === 0) continue;
          const w = wOff + d * F;
          for (let f = 0; f < F; f++) T[o + f] += x * W[w + f];
        }
      }
    }
  }
}

/** Class probabilities (N x C) for encounters `idx` (all when null), in eval mode (no dropout). */
/** T[o + f] += x0 W[w + f] + x1 W[w + F + f] + x2 W[w + 2F + f] + x3 W[w + 3F + f], f < F. */
function axpy4(
  T: Float64Array,
  o: number,
  W: Float64Array,
  w: number,
  F: number,
  x0: number,
  x1: number,
  x2: number,
  x3: number,
): void {
  const w1 = w + F;
  const w2 = w1 + F;
  const w3 = w2 + F;
  for (let f = 0; f < F; f++) T[o + f] += x0 * W[w + f] + x1 * W[w1 + f] + x2 * W[w2 + f] + x3 * W[w3 + f];
}

export function cnnProbs(
  shape: CnnShape,
  tables: Float64Array[],
  rows: number,
  convB: Float64Array[],
  denseW: Float64Array,
  denseB: Float64Array,
  seqs: TokenSequences,
  idx: ArrayLike<number> | null,
  sorted: (SortedTokenTable | null)[] | null = null,
): Float64Array {
  const N = idx ? idx.length : seqs.count;
  const bits = sorted && bitsetBytes(seqs, rows) <= MAX_BITSET_BYTES ? cachedBitsets(seqs, rows) : null;
  const ids = idx ?? identity(N);
  const C = shape.classes;
  const out = new Float64Array(N * C);
  const chunk = 256;
  const pooled = new Float64Array(chunk * shape.features);
  const scratch = new Float64Array(2 * Math.max(...shape.filters));
  const logits = new Float64Array(chunk * C);
  for (let s = 0; s < N; s += chunk) {
    const nb = Math.min(chunk, N - s);
    poolForward({
      shape,
      tables,
      rows,
      convB,
      seqs,
      idx: ids,
      idxStart: s,
      nb,
      pooled,
      argWin: null,
      need: null,
      scratch,
      sorted,
      bits,
    });
    denseForward(pooled, nb, shape.features, denseW, denseB, C, logits);
    softmaxRows(logits, nb, C);
    out.set(logits.subarray(0, nb * C), s * C);
  }
  return out;
}

export function identity(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/**
 * Whether ranking (sorted-table.ts) beats scanning for kernel-1 branches: a query checks about
 * rows / (L + 1) ranks where a scan reads L rows, so it pays when rows < L^2 / 2.
 */
export function rankingPays(rows: number, seqs: TokenSequences): boolean {
  const L = seqs.count > 0 ? seqs.offsets[seqs.count] / seqs.count : 0;
  return rows > 1 && rows < (L * L) / 2;
}

/** Rankings of every kernel-1 branch (null for wider kernels). */
export function rankTables(
  shape: CnnShape,
  tables: Float64Array[],
  rows: number,
): (SortedTokenTable | null)[] {
  return shape.kernels.map((k, i) => {
    if (k !== 1) return null;
    const r = new SortedTokenTable(rows, shape.filters[i]);
    r.update(tables[i]);
    return r;
  });
}

/** Bitsets are kept for token sequences up to this size (the 1M x 1,000-token case takes 128 MB). */
export const MAX_BITSET_BYTES = 256 * 1024 * 1024;

const bitsetCache = new WeakMap<TokenSequences, { rows: number; bits: Uint32Array }>();

/** tokenBitsets, remembered per sequences object (validation is scored after every epoch). */
export function cachedBitsets(seqs: TokenSequences, rows: number): Uint32Array {
  const hit = bitsetCache.get(seqs);
  if (hit && hit.rows === rows) return hit.bits;
  const bits = tokenBitsets(seqs, rows);
  bitsetCache.set(seqs, { rows, bits });
  return bits;
}
