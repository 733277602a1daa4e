import type { TokenSequences } from "../../concepts/vocabulary.js";
import type { CnnShape } from "../params.js";
import { windowCount } from "./cnn-core.js";
import type { HelperThread } from "./wasm/helper-thread.js";
import type { Region, WasmHeap } from "./wasm/kernels.js";

/*
 * A training batch's token tables, exact where the max-pool can look and screened elsewhere.
 *
 * The forward pass needs table[j][v][f] = E[v] . W_j[:, f] for every distinct token of the batch
 * (distinct x D x taps multiply-adds: 150 M for 32 x 64 tokens of a 30,000 x 768 vocabulary), but the
 * max-pool keeps ONE window per encounter and filter: only the windows that can be the maximum need
 * exact values. So:
 *  1. every cell in float32 (wasm SIMD, `sgemm`, split with the helper thread), a screen t32;
 *  2. per encounter and filter, the windows whose screened sum comes within 3 W of the screened
 *     maximum M32 are candidates, W bounding the screen's error of a window (below);
 *  3. the cells of candidate windows get their exact float64 value, by the same operations as
 *     computeTables (`exactCells`), the others keep t32.
 * Why that is exact: |t32 - e.w| <= g ||e|| ||w|| with g = gamma_{D+3}(float32) + gamma_{D+3}(float64)
 * (inputs rounded to float32, D products summed in order; Higham's bound with Cauchy-Schwarz), so a
 * window's error is at most W = k (g + k 2^-51) max||e|| max_j ||w_jf|| (+ underflow slack), summing
 * the k offsets included. A non-candidate window's table sum is then below M32 - 2 W, while the best
 * screened window's exact sum is at least M32 - W: the max-pool over these tables picks the same
 * window, with the same value, as over computeTables' tables (a cell is exact wherever it is read as
 * a candidate, and ties are exact ties). Typically about one candidate per encounter and filter:
 * 3,200 exact cells per step instead of 200,000. Non-finite screens make every window a candidate.
 *
 * Kernel-1 branches only (the paper's CNN) take a shorter road: the screen and the candidate test
 * run in wasm (`screenKernel1`), and poolKernel1 writes the max-pool's outputs from the candidates'
 * exact values (the same maximum and first arg-max in sequence order as maxRows over exact tables),
 * so no table is written at all.
 */

const U32 = 2 ** -24;
const U64 = 2 ** -53;

function gamma(n: number, u: number): number {
  return (n * u) / (1 - n * u);
}

export class ScreenedTables {
  private readonly D: number;
  private readonly Fp: number[];
  /** Float32 copy of E (rows x D) and each row's norm. */
  private readonly E32: Region<Float32Array>;
  private readonly norms: Region<Float64Array>;
  private readonly W32: Region<Float32Array>[][];
  /** Every slice's W transposed (taps x D, float64): contiguous columns for the exact cells and dE. */
  readonly Wt: Region<Float64Array>;
  /** Row of Wt where each branch's taps start. */
  readonly tapBase: number[];
  /** E's values are float32 numbers (a frozen float32 table): kernels read E32, exactly, for E. */
  private readonly e32: boolean;
  /** Kernel-1 path: the batch's token list (T32 row of each), per-encounter offsets, candidates. */
  private readonly fastK1: boolean;
  private batchRows: Region<Int32Array>;
  private bOff: Region<Int32Array>;
  private readonly thr: Region<Float32Array>;
  private readonly margins: Region<Float64Array>[];
  private cand: Region<Int32Array>[];
  private candCount: number[];
  /** Per branch and candidate: index of its cell in the exact list. */
  private candCell: Int32Array[];
  private readonly cellIndex: Int32Array[][];
  private batchTokens = new Uint32Array(0);
  private nb = 0;
  private T32: Region<Float32Array>[][];
  private cap = 0;
  /** Panel row of each distinct token of the batch. */
  private readonly pos: Int32Array;
  /** Per slice: the step that last marked a cell for exact evaluation. */
  private readonly stamp: Int32Array[][];
  private stampId = 0;
  private cells: Region<Int32Array>;
  private exact: Region<Float64Array>;
  private readonly wn: Float64Array[];
  private scratch = new Float64Array(0);
  private readonly lists: Int32Array[][];
  private readonly counts: number[][];
  private readonly g: number;

  constructor(
    private readonly heap: WasmHeap,
    private readonly helper: HelperThread | null,
    private readonly shape: CnnShape,
    private readonly rows: number,
    private readonly E64: Region<Float64Array>,
    private readonly convW: Region<Float64Array>[],
    frozen: boolean,
  ) {
    const s = shape;
    const D = s.dim;
    this.D = D;
    this.Fp = s.filters.map((F) => Math.ceil(F / 4) * 4);
    this.E32 = heap.f32(rows * D);
    this.norms = heap.f64(rows);
    this.W32 = s.kernels.map((k, i) => Array.from({ length: k }, () => heap.f32(D * this.Fp[i])));
    this.T32 = s.kernels.map((k) => Array.from({ length: k }, () => heap.f32(0)));
    this.pos = new Int32Array(rows);
    this.stamp = s.kernels.map((k, i) =>
      Array.from({ length: k }, () => new Int32Array(rows * s.filters[i])),
    );
    this.lists = s.kernels.map((k) => Array.from({ length: k }, () => new Int32Array(0)));
    this.counts = s.kernels.map((k) => new Array<number>(k).fill(0));
    this.cells = heap.i32(0);
    this.exact = heap.f64(0);
    this.wn = s.filters.map((F) => new Float64Array(F));
    this.g = gamma(D + 3, U32) + gamma(D + 3, U64);
    this.tapBase = [];
    let taps = 0;
    for (let i = 0; i < s.kernels.length; i++) {
      this.tapBase.push(taps);
      taps += s.kernels[i] * s.filters[i];
    }
    this.Wt = heap.f64(taps * D);
    let e32 = false;
    if (frozen) {
      const all = heap.i32(rows);
      for (let v = 0; v < rows; v++) all.view[v] = v;
      heap.k.toF32Rows(E64.ptr, this.E32.ptr, all.ptr, rows, D, this.norms.ptr);
      e32 = true;
      const a = E64.view;
      const b = this.E32.view;
      for (let q = 0; q < a.length && e32; q++) e32 = a[q] === b[q];
    }
    this.e32 = e32;
    this.fastK1 = s.kernels.every((k) => k === 1);
    this.batchRows = heap.i32(0);
    this.bOff = heap.i32(0);
    this.thr = heap.f32(Math.max(...this.Fp));
    this.margins = s.filters.map((F) => heap.f64(F));
    this.cand = s.filters.map(() => heap.i32(0));
    this.candCount = s.filters.map(() => 0);
    this.candCell = s.filters.map(() => new Int32Array(0));
    this.cellIndex = s.kernels.map((k, i) =>
      Array.from({ length: k }, () => new Int32Array(rows * s.filters[i])),
    );
  }

  /** The embedding source the exact kernels read: E32 (exact float32 values) or E64, and its flag. */
  exactSource(): { ptr: number; f32: number } {
    return this.e32 ? { ptr: this.E32.ptr, f32: 1 } : { ptr: this.E64.ptr, f32: 0 };
  }

  /**
   * Tables (per branch [j][v][f], float64, as computeTables lays them out) for the batch's distinct
   * tokens distinct[0..nd): exact on every window the max-pool of encounters idx[start..start+nb)
   * can select. `fresh`: the rows changed since the last call (a trained embedding).
   */
  build(
    distinct: Region<Int32Array>,
    nd: number,
    seqs: TokenSequences,
    idx: ArrayLike<number>,
    start: number,
    nb: number,
    tables: Float64Array[],
    fresh: boolean,
  ): void {
    const { heap, shape: s, D, rows } = this;
    const k = heap.k;
    if (fresh) k.toF32Rows(this.E64.ptr, this.E32.ptr, distinct.ptr, nd, D, this.norms.ptr);
    this.ensure(nd);
    const ids = distinct.view;
    let maxNorm = 0;
    for (let r = 0; r < nd; r++) {
      this.pos[ids[r]] = r;
      maxNorm = Math.max(maxNorm, this.norms.view[ids[r]]);
    }
    for (let i = 0; i < s.kernels.length; i++) {
      const F = s.filters[i];
      const Fp = this.Fp[i];
      const W = this.convW[i].view;
      const wn = this.wn[i];
      wn.fill(0);
      for (let j = 0; j < s.kernels[i]; j++) {
        const w32 = this.W32[i][j].view;
        const off = j * D * F;
        if (Fp === F) w32.set(W.subarray(off, off + D * F));
        else for (let d = 0; d < D; d++) w32.set(W.subarray(off + d * F, off + (d + 1) * F), d * Fp);
        const norm2 = new Float64Array(F);
        for (let d = 0; d < D; d++) {
          const o = off + d * F;
          for (let f = 0; f < F; f++) norm2[f] += W[o + f] * W[o + f];
        }
        for (let f = 0; f < F; f++) wn[f] = Math.max(wn[f], Math.sqrt(norm2[f]));
        const Wt = this.Wt.view;
        for (let f = 0; f < F; f++) {
          const dst = (this.tapBase[i] + j * F + f) * D;
          for (let d = 0; d < D; d++) Wt[dst + d] = W[off + d * F + f];
        }
        this.screen(distinct.ptr, nd, this.W32[i][j].ptr, Fp, this.T32[i][j].ptr);
      }
    }
    this.stampId++;
    if (this.fastK1) {
      this.screenBatch(seqs, idx, start, nb, maxNorm);
      return;
    }
    for (let i = 0; i < s.kernels.length; i++) {
      const F = s.filters[i];
      const Fp = this.Fp[i];
      for (let j = 0; j < s.kernels[i]; j++) {
        // The screen as the table's default value.
        const t32 = this.T32[i][j].view;
        const tab = tables[i];
        const tOff = j * rows * F;
        for (let r = 0; r < nd; r++) {
          const o = tOff + ids[r] * F;
          const q = r * Fp;
          for (let f = 0; f < F; f++) tab[o + f] = t32[q + f];
        }
        this.counts[i][j] = 0;
      }
      this.markCandidates(i, maxNorm, seqs, idx, start, nb);
      for (let j = 0; j < s.kernels[i]; j++) this.refine(i, j, tables[i]);
    }
  }

  /** T32 = E32[ids] W32 for nd rows, half of them on the helper thread when there is one. */
  private screen(ids: number, nd: number, W: number, Fp: number, T: number): void {
    const { heap, D } = this;
    const E = this.E32.ptr;
    const h = this.helper && nd >= 64 ? (nd >> 3) << 2 : nd;
    if (h < nd) this.helper!.start(heap, "sgemm", [E, ids + 4 * h, nd - h, D, W, Fp, T + 4 * h * Fp]);
    heap.k.sgemm(E, ids, h, D, W, Fp, T);
    this.helper?.finish();
  }

  /** Mark the cells of every window that may hold an encounter's maximum (branch i). */
  private markCandidates(
    i: number,
    maxNorm: number,
    seqs: TokenSequences,
    idx: ArrayLike<number>,
    start: number,
    nb: number,
  ): void {
    const s = this.shape;
    const k = s.kernels[i];
    const F = s.filters[i];
    const Fp = this.Fp[i];
    const { offsets, tokens } = seqs;
    const pos = this.pos;
    const t32 = this.T32[i].map((t) => t.view);
    const wn = this.wn[i];
    const margin = new Float64Array(F);
    const slack = k * this.D * 2 ** -149;
    for (let f = 0; f < F; f++)
      margin[f] = 3 * (k * (this.g + k * 2 ** -51) * maxNorm * wn[f] * (1 + 1e-6) + slack);
    const M = new Float64Array(F);
    const thr = new Float64Array(F);
    for (let b = 0; b < nb; b++) {
      const n = idx[start + b];
      const t0 = offsets[n];
      const len = offsets[n + 1] - t0;
      const nw = windowCount(len, k);
      if (nw === 0) continue;
      if (this.scratch.length < nw * F) this.scratch = new Float64Array(nw * F);
      const S = this.scratch;
      M.fill(Number.NEGATIVE_INFINITY);
      for (let w = 0; w < nw; w++) {
        const o = w * F;
        for (let f = 0; f < F; f++) S[o + f] = 0;
        for (let j = 0; j < k && w + j < len; j++) {
          const q = pos[tokens[t0 + w + j]] * Fp;
          const t = t32[j];
          for (let f = 0; f < F; f++) S[o + f] += t[q + f];
        }
        // Math.max keeps a NaN, which makes every window a candidate below.
        for (let f = 0; f < F; f++) M[f] = Math.max(M[f], S[o + f]);
      }
      for (let f = 0; f < F; f++) {
        const m = M[f];
        // Not finite (overflowed screen, diverged weights): every window is a candidate.
        thr[f] = Number.isFinite(m) && Number.isFinite(margin[f]) ? m - margin[f] : Number.NEGATIVE_INFINITY;
      }
      for (let w = 0; w < nw; w++) {
        const o = w * F;
        for (let f = 0; f < F; f++) {
          if (S[o + f] < thr[f]) continue;
          for (let j = 0; j < k && w + j < len; j++) this.mark(i, j, tokens[t0 + w + j], f);
        }
      }
    }
  }

  private mark(i: number, j: number, v: number, f: number): void {
    const F = this.shape.filters[i];
    const st = this.stamp[i][j];
    const cell = v * F + f;
    if (st[cell] === this.stampId) return;
    st[cell] = this.stampId;
    let list = this.lists[i][j];
    const c = this.counts[i][j];
    if (2 * c + 2 > list.length) {
      const grown = new Int32Array(Math.max(1024, 2 * list.length));
      grown.set(list);
      this.lists[i][j] = list = grown;
    }
    list[2 * c] = v;
    list[2 * c + 1] = f;
    this.counts[i][j] = c + 1;
  }

  /** Exact values (computeTables' operations) for the marked cells of slice (i, j). */
  private refine(i: number, j: number, tab: Float64Array): void {
    const n = this.counts[i][j];
    if (n === 0) return;
    const { rows } = this;
    const F = this.shape.filters[i];
    this.ensureCells(n);
    const list = this.lists[i][j];
    // Wt rows of this slice's filters: its taps start at tapBase + j F.
    const base = this.tapBase[i] + j * F;
    const cells = this.cells.view;
    for (let c = 0; c < n; c++) {
      cells[2 * c] = list[2 * c];
      cells[2 * c + 1] = base + list[2 * c + 1];
    }
    this.exactCells(n);
    const out = this.exact.view;
    const tOff = j * rows * F;
    for (let c = 0; c < n; c++) tab[tOff + list[2 * c] * F + list[2 * c + 1]] = out[c];
  }

  private ensureCells(n: number): void {
    if (this.exact.view.length >= n) return;
    const cap = Math.max(n, 2 * this.exact.view.length);
    this.cells = this.heap.i32(2 * cap);
    this.exact = this.heap.f64(cap);
  }

  /** exact[c] for the n (E row, Wt row) pairs in `cells`, half on the helper thread. */
  private exactCells(n: number): void {
    const { heap, D } = this;
    const src = this.exactSource();
    const h = this.helper && n >= 64 ? (n >> 3) << 2 : n;
    const cells = this.cells.ptr;
    const out = this.exact.ptr;
    if (h < n)
      this.helper!.start(heap, "exactCells", [
        src.ptr,
        src.f32,
        D,
        this.Wt.ptr,
        cells + 8 * h,
        n - h,
        out + 8 * h,
      ]);
    heap.k.exactCells(src.ptr, src.f32, D, this.Wt.ptr, cells, h, out);
    this.helper?.finish();
  }

  /**
   * Kernel-1 branches: the batch's token list, then per branch the wasm screen's candidates, their
   * distinct cells evaluated exactly once.
   */
  private screenBatch(
    seqs: TokenSequences,
    idx: ArrayLike<number>,
    start: number,
    nb: number,
    maxNorm: number,
  ): void {
    const { heap, shape: s } = this;
    const { offsets, tokens } = seqs;
    let total = 0;
    for (let b = 0; b < nb; b++) total += offsets[idx[start + b] + 1] - offsets[idx[start + b]];
    if (this.batchRows.view.length < total) {
      this.batchRows = heap.i32(Math.max(total, 2 * this.batchRows.view.length));
      this.batchTokens = new Uint32Array(this.batchRows.view.length);
    }
    if (this.bOff.view.length < nb + 1) this.bOff = heap.i32(2 * (nb + 1));
    const rowsOf = this.batchRows.view;
    const bOff = this.bOff.view;
    let t = 0;
    for (let b = 0; b < nb; b++) {
      bOff[b] = t;
      const n = idx[start + b];
      for (let q = offsets[n]; q < offsets[n + 1]; q++) {
        this.batchTokens[t] = tokens[q];
        rowsOf[t++] = this.pos[tokens[q]];
      }
    }
    bOff[nb] = t;
    this.nb = nb;
    for (let i = 0; i < s.kernels.length; i++) {
      const F = s.filters[i];
      const m = this.margins[i].view;
      const wn = this.wn[i];
      const slack = this.D * 2 ** -149;
      for (let f = 0; f < F; f++) m[f] = 3 * ((this.g + 2 ** -51) * maxNorm * wn[f] * (1 + 1e-6) + slack);
      let cap = this.cand[i].view.length >> 1;
      let count = -1;
      for (;;) {
        if (cap >= nb * F) {
          count = heap.k.screenKernel1(
            this.T32[i][0].ptr,
            this.Fp[i],
            F,
            this.batchRows.ptr,
            this.bOff.ptr,
            nb,
            this.margins[i].ptr,
            this.thr.ptr,
            this.cand[i].ptr,
            cap,
          );
          if (count >= 0) break;
        }
        cap = Math.max(2 * cap, 2 * nb * F, 1024);
        this.cand[i] = heap.i32(2 * cap);
      }
      this.candCount[i] = count;
      // Distinct cells of the candidates, each evaluated once.
      if (this.candCell[i].length < count) this.candCell[i] = new Int32Array(this.cand[i].view.length >> 1);
      const cand = this.cand[i].view;
      const st = this.stamp[i][0];
      const at = this.cellIndex[i][0];
      this.ensureCells(count);
      let cells = 0;
      const base = this.tapBase[i];
      for (let c = 0; c < count; c++) {
        const v = this.batchTokens[cand[2 * c]];
        const f = cand[2 * c + 1];
        const cell = v * F + f;
        if (st[cell] !== this.stampId) {
          st[cell] = this.stampId;
          at[cell] = cells;
          this.cells.view[2 * cells] = v;
          this.cells.view[2 * cells + 1] = base + f;
          cells++;
        }
        this.candCell[i][c] = at[cell];
      }
      this.exactCells(cells);
      // Keep the values: the next branch reuses the exact buffer.
      const vals = this.exact.view;
      const own = this.candValues(i, count);
      for (let c = 0; c < count; c++) own[c] = vals[this.candCell[i][c]];
    }
  }

  private values: Float64Array[] = [];
  private candValues(i: number, n: number): Float64Array {
    if (!this.values[i] || this.values[i].length < n) this.values[i] = new Float64Array(Math.max(n, 1024));
    return this.values[i];
  }

  /**
   * The max-pool of the last kernel-1 batch, as poolForward writes it (see PoolArgs): per encounter
   * and filter the maximum of its exact candidate values (a NaN wins, as in Math.max), the first
   * token in sequence order holding it, relu(max + b), and the arg-max token where a gradient flows.
   */
  poolKernel1(
    pooled: Float64Array,
    argWin: Int32Array | null,
    need: Float64Array,
    convB: Float64Array[],
  ): void {
    const s = this.shape;
    const Ft = s.features;
    const bOff = this.bOff.view;
    const nb = this.nb;
    for (let i = 0; i < s.kernels.length; i++) {
      const F = s.filters[i];
      const cand = this.cand[i].view;
      const vals = this.values[i];
      const count = this.candCount[i];
      const bias = convB[i];
      const m = new Float64Array(F);
      const arg = new Int32Array(F);
      let c = 0;
      for (let b = 0; b < nb; b++) {
        const out = b * Ft + s.offsets[i];
        const tEnd = bOff[b + 1];
        if (tEnd === bOff[b]) {
          for (let f = 0; f < F; f++) pooled[out + f] = 0;
          if (argWin) for (let f = 0; f < F; f++) argWin[out + f] = -1;
          continue;
        }
        const c0 = c;
        while (c < count && cand[2 * c] < tEnd) c++;
        m.fill(Number.NEGATIVE_INFINITY);
        for (let q = c0; q < c; q++) {
          const f = cand[2 * q + 1];
          m[f] = Math.max(m[f], vals[q]);
        }
        arg.fill(-1);
        for (let q = c0; q < c; q++) {
          const f = cand[2 * q + 1];
          if (arg[f] < 0 && vals[q] === m[f]) arg[f] = this.batchTokens[cand[2 * q]];
        }
        for (let f = 0; f < F; f++) {
          const z = m[f] + bias[f];
          const on = z > 0;
          pooled[out + f] = on ? z : 0;
          if (argWin) argWin[out + f] = on && need[out + f] !== 0 ? arg[f] : -1;
        }
      }
    }
  }

  /** Whether build() left the kernel-1 pool to poolKernel1 (no tables written). */
  get poolsItself(): boolean {
    return this.fastK1;
  }

  private ensure(nd: number): void {
    if (nd <= this.cap) return;
    const cap = Math.max(nd, Math.min(this.rows, 2 * this.cap));
    this.T32 = this.shape.kernels.map((k, i) =>
      Array.from({ length: k }, () => this.heap.f32(cap * this.Fp[i])),
    );
    this.cap = cap;
  }
}
