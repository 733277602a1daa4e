import type { TokenSequences } from "../../concepts/vocabulary.js";
import type { Rng } from "../../util/rng.js";
import type { CnnShape } from "../params.js";
import { crossEntropyGrad, poolForward, routeConvGrad } from "./cnn-core.js";
import type { SortedTokenTable } from "./sorted-table.js";
import type { SparseGrad } from "./sparse-grad.js";

/**
 * Dropout masks from a small xorshift128 generator seeded from the run's dropout Rng: its state
 * lives in an Int32Array, so drawing thousands of masks per step allocates nothing. Each 32-bit draw
 * decides two units (16 bits each: p is honoured to 1/65536, exactly for the paper's 0.5).
 */
export class MaskStream {
  private readonly s = new Int32Array(4);

  constructor(rng: Rng) {
    for (let i = 0; i < 4; i++) this.s[i] = rng.nextU32() | 0;
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Inverted dropout: mask[i] = 0 with probability p, else 1 / (1 - p). */
  fill(mask: Float64Array, n: number, p: number): void {
    if (p === 0) {
      mask.fill(1, 0, n);
      return;
    }
    const threshold = Math.round(p * 65536);
    const keep = 1 / (1 - p);
    const st = this.s;
    let a = st[0];
    let b = st[1];
    let c = st[2];
    let d = st[3];
    for (let i = 0; i < n; i += 2) {
      const t = a ^ (a << 11);
      a = b;
      b = c;
      c = d;
      d = d ^ (d >>> 19) ^ t ^ (t >>> 8);
      mask[i] = (d & 0xffff) < threshold ? 0 : keep;
      if (i + 1 < n) mask[i + 1] = d >>> 16 < threshold ? 0 : keep;
    }
    st[0] = a;
    st[1] = b;
    st[2] = c;
    st[3] = d;
  }
}

/** Per-batch buffers of a CNN training step. */
export class CnnStepWork {
  pooled: Float64Array;
  h: Float64Array;
  mask: Float64Array;
  argWin: Int32Array;
  logits: Float64Array;
  dz: Float64Array;
  readonly scratch: Float64Array;
  readonly masks: MaskStream;

  constructor(
    readonly shape: CnnShape,
    dropoutRng: Rng,
  ) {
    this.masks = new MaskStream(dropoutRng);
    this.scratch = new Float64Array(2 * Math.max(...shape.filters));
    this.pooled = this.h = this.mask = this.dz = this.logits = new Float64Array(0);
    this.argWin = new Int32Array(0);
  }

  ensure(nb: number): void {
    const n = nb * this.shape.features;
    if (this.mask.length >= n) return;
    this.pooled = new Float64Array(n);
    this.h = new Float64Array(n);
    this.mask = new Float64Array(n);
    this.argWin = new Int32Array(n);
    this.dz = new Float64Array(n);
    this.logits = new Float64Array(nb * this.shape.classes);
  }
}

export interface CnnStepArgs {
  tables: Float64Array[];
  rows: number;
  convB: Float64Array[];
  denseW: Float64Array;
  denseB: Float64Array;
  seqs: TokenSequences;
  labels: Int32Array;
  idx: ArrayLike<number>;
  start: number;
  nb: number;
  classWeights: Float64Array | null;
  sorted?: (SortedTokenTable | null)[] | null;
  bits?: Uint32Array | null;
  /** Dense gradients (overwritten). */
  gDenseW: Float64Array;
  gDenseB: Float64Array;
  /** Table gradients and conv bias gradients, or null when nothing below the dense layer trains. */
  grads: SparseGrad[][] | null;
  gConvB: Float64Array[] | null;
  /**
   * Pooled features of every training encounter (N x features), when nothing below the dense layer
   * trains: they never change, so the max-pool runs once per training instead of once per step.
   */
  pooledCache?: Float64Array | null;
  /**
   * Writes what poolForward would (pooled, and argWin when not null, given the dropout mask `need`)
   * by other means (the screened engine's kernel-1 pool); poolForward when absent.
   */
  pool?: (pooled: Float64Array, argWin: Int32Array | null, need: Float64Array) => void;
}

/**
 * Forward and backward pass of one training batch, shared by both CNN engines: dropout mask, max-pool,
 * dense layer, cross-entropy; gradients of the dense layer, then (when `grads`) the pre-pooling
 * gradient routed to the token tables. Returns the loss.
 */
export function cnnForwardBackward(w: CnnStepWork, a: CnnStepArgs): number {
  const s = w.shape;
  const { nb, denseW: W, denseB, gDenseW: gW, gDenseB: gB } = a;
  w.ensure(nb);
  const Ft = s.features;
  const C = s.classes;
  const n = nb * Ft;
  const { pooled, h, mask, argWin, logits, dz } = w;
  w.masks.fill(mask, n, s.dropout);
  const needConv = a.grads !== null;
  if (a.pooledCache && !needConv) {
    const cache = a.pooledCache;
    for (let b = 0; b < nb; b++) {
      const from = a.idx[a.start + b] * Ft;
      pooled.set(cache.subarray(from, from + Ft), b * Ft);
    }
  } else if (a.pool) a.pool(pooled, needConv ? argWin : null, mask);
  else
    poolForward({
      shape: s,
      tables: a.tables,
      rows: a.rows,
      convB: a.convB,
      seqs: a.seqs,
      idx: a.idx,
      idxStart: a.start,
      nb,
      pooled,
      argWin: needConv ? argWin : null,
      need: mask,
      scratch: w.scratch,
      sorted: a.sorted,
      bits: a.bits,
    });
  // Dense forward (dropped and inactive units are exact zeros and skipped).
  for (let b = 0; b < nb; b++) {
    const o = b * C;
    for (let c = 0; c < C; c++) logits[o + c] = denseB[c];
    const hb = b * Ft;
    for (let f = 0; f < Ft; f++) {
      const x = pooled[hb + f] * mask[hb + f];
      h[hb + f] = x;
      if (x === 0) continue;
      const wf = f * C;
      if (C === 2) {
        logits[o] += x * W[wf];
        logits[o + 1] += x * W[wf + 1];
      } else for (let c = 0; c < C; c++) logits[o + c] += x * W[wf + c];
    }
  }
  const loss = crossEntropyGrad(logits, nb, C, a.labels, a.idx, a.start, a.classWeights);
  // Dense backward; dz only where a gradient flows to the conv layer (argWin >= 0).
  gW.fill(0);
  gB.fill(0);
  for (let b = 0; b < nb; b++) {
    const o = b * C;
    const hb = b * Ft;
    for (let c = 0; c < C; c++) gB[c] += logits[o + c];
    for (let f = 0; f < Ft; f++) {
      const x = h[hb + f];
      if (x === 0) {
        dz[hb + f] = 0;
        continue;
      }
      const wf = f * C;
      let g = 0;
      if (C === 2) {
        const l0 = logits[o];
        const l1 = logits[o + 1];
        gW[wf] += x * l0;
        gW[wf + 1] += x * l1;
        g = W[wf] * l0 + W[wf + 1] * l1;
      } else
        for (let c = 0; c < C; c++) {
          gW[wf + c] += x * logits[o + c];
          g += W[wf + c] * logits[o + c];
        }
      dz[hb + f] = needConv && argWin[hb + f] >= 0 ? g * mask[hb + f] : 0;
    }
  }
  if (a.grads) routeConvGrad(s, a.seqs, a.idx, a.start, nb, dz, argWin, a.grads, a.gConvB);
  return loss;
}
