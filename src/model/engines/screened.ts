import type { TokenSequences } from "../../concepts/vocabulary.js";
import { type CnnShape, cloneParams, cnnShape, type ModelParams } from "../params.js";
import { collectBatchTokens } from "./batch-tokens.js";
import { cnnProbs, computeTables, denseForward, rankingPays, rankTables, softmaxRows } from "./cnn-core.js";
import { CnnStepWork, cnnForwardBackward } from "./cnn-step.js";
import { type DirectCheckpoint, directCost } from "./direct.js";
import type { Engine, EngineInput, EngineSpec } from "./engine.js";
import { MAX_FACTORIZED_ROWS } from "./factorized.js";
import { SPARSE_E_DENSITY } from "./gram.js";
import { LazyRowSgd } from "./lazy-sgd.js";
import { Optimizer, type OptimizerConfig } from "./optimizer.js";
import { ScreenedTables } from "./screened-tables.js";
import { SparseGrad } from "./sparse-grad.js";
import { tableGradsToWeights } from "./table-grads.js";
import { type HelperThread, helperThread } from "./wasm/helper-thread.js";
import { createHeap, type Region, type WasmHeap } from "./wasm/kernels.js";

/*
 * The direct engine for a real site's vocabulary (tens of thousands of tokens, wide embeddings).
 * Same model, same steps, same draws; what changes is how the work is done:
 *  - the batch's token tables are screened in float32 with wasm SIMD and made exact only where the
 *    max-pool can look (screened-tables.ts): the max-pool picks the same windows with the same values
 *    as the direct engine's float64 tables;
 *  - the weight and embedding gradients and the validation pass's tables run as wasm kernels with the
 *    direct engine's operations in the same order (cnn-kernels.as); the validation pass's kernel-1
 *    max-pool reads the float64 table with SIMD (maxPoolRows: the same maxima, NaN aside, which falls
 *    back to the reference);
 *  - with a helper thread (wasm/helper-thread.ts) the screen and the validation tables are split in two;
 *  - a trained embedding with SGD is updated lazily (lazy-sgd.ts): a step moves only the batch's rows,
 *    the other rows' weight-decay and momentum steps are folded into one update when next read.
 * Frozen embedding, or a trained one with Adam: every number equals the direct engine's, bit for bit
 * (test/model/engines/screened.test.ts). A trained embedding with SGD: equal up to rounding (about
 * 1e-15 relative), from the lazy update alone. Without the wasm build every kernel runs its plain-JS
 * reference (the screen becomes exact tables): the same numbers, slower.
 */
export class ScreenedCnnEngine implements Engine<DirectCheckpoint> {
  readonly name = "screened";
  private readonly shape: CnnShape;
  private readonly params: ModelParams;
  private readonly rows: number;
  private readonly D: number;
  private readonly heap: WasmHeap | null;
  private readonly helper: HelperThread | null;
  private readonly E: Region<Float64Array>;
  private readonly convW: Region<Float64Array>[];
  private readonly tables: Region<Float64Array>[];
  private readonly grads: SparseGrad[][];
  private readonly work: CnnStepWork;
  private readonly seen: Uint8Array;
  private readonly distinct: Region<Int32Array>;
  private readonly pos: Int32Array;
  private readonly opt: Optimizer;
  private readonly optGrads: Float64Array[];
  private readonly gConvW: Float64Array[];
  private readonly gConvB: Float64Array[];
  private readonly gDenseW: Float64Array;
  private readonly gDenseB: Float64Array;
  /** Embedding gradient: all rows (eager update) or the batch's rows in panel order (lazy update). */
  private gE: Region<Float64Array> | null;
  private readonly lazy: LazyRowSgd | null;
  private readonly screen: ScreenedTables | null;
  /** Per branch: dL/dW transposed (taps x D). */
  private readonly gWt: Region<Float64Array>[];
  private cellBuf: Region<Float64Array> | null = null;
  private allRows: Region<Int32Array> | null = null;
  private readonly seqCopies = new WeakMap<
    TokenSequences,
    { tokens: Region<Uint32Array>; offsets: Region<Uint32Array> }
  >();

  constructor(
    private readonly input: EngineInput,
    config: OptimizerConfig,
    options: { wasm?: boolean } = {},
  ) {
    if (input.params.arch.kind !== "concept-cnn") throw new Error("ScreenedCnnEngine needs a concept-cnn");
    // L2-SP's anchor makes a row's zero-gradient step affine, not the linear map lazy-sgd.ts folds.
    if (config.decayToInitial)
      throw new Error("the screened engine decays towards 0 only (no decayTo: initial)");
    const s = cnnShape(input.params.arch);
    this.shape = s;
    const rows = input.rows;
    const D = s.dim;
    this.rows = rows;
    this.D = D;
    if (!input.trainEmbedding && sparseFrozen(input.embedding, rows, D))
      throw new Error(
        "the screened engine needs a dense embedding (a sparse frozen one uses the direct engine's CSR tables)",
      );
    this.heap = options.wasm === false ? null : createHeap(rows * D * 12 + (1 << 20));
    this.helper = this.heap ? helperThread() : null;
    const h = this.heap;
    const f64 = (n: number): Region<Float64Array> => (h ? h.f64(n) : { ptr: 0, view: new Float64Array(n) });
    this.E = f64(rows * D);
    this.E.view.set(input.embedding);
    const p = cloneParams(input.params);
    this.convW = p.convW.map((w) => {
      const r = f64(w.length);
      r.view.set(w);
      return r;
    });
    this.params = { ...p, convW: this.convW.map((r) => r.view) };
    this.tables = s.kernels.map((k, i) => f64(k * rows * s.filters[i]));
    this.grads = s.kernels.map((k, i) => Array.from({ length: k }, () => new SparseGrad(rows, s.filters[i])));
    this.work = new CnnStepWork(s, input.dropoutRng);
    this.seen = new Uint8Array(rows);
    this.distinct = h ? h.i32(rows) : { ptr: 0, view: new Int32Array(rows) };
    this.pos = new Int32Array(rows);
    this.gConvW = this.params.convW.map((w) => new Float64Array(w.length));
    this.gConvB = this.params.convB.map((b) => new Float64Array(b.length));
    this.gDenseW = new Float64Array(this.params.denseW.length);
    this.gDenseB = new Float64Array(this.params.denseB.length);
    this.lazy =
      input.trainEmbedding && config.kind === "sgd"
        ? new LazyRowSgd(this.E.view, rows, D, config, h ? { heap: h, E: this.E.ptr } : null)
        : null;
    // Eager updates need the whole gradient (the optimizer reads every row); the lazy one only the
    // batch's rows, listed in batch order when the wasm kernels write them (grown as batches need).
    this.gE = !input.trainEmbedding ? null : this.lazy && h ? h.f64(0) : f64(rows * D);
    const ps: Float64Array[] = [];
    const gs: Float64Array[] = [];
    if (this.gE && !this.lazy) {
      ps.push(this.E.view);
      gs.push(this.gE.view);
    }
    if (input.trainConv) {
      ps.push(...this.params.convW, ...this.params.convB);
      gs.push(...this.gConvW, ...this.gConvB);
    }
    if (input.trainDense) {
      ps.push(this.params.denseW, this.params.denseB);
      gs.push(this.gDenseW, this.gDenseB);
    }
    this.opt = new Optimizer(config, ps);
    this.optGrads = gs;
    this.gWt = h ? s.kernels.map((k, i) => h.f64(k * s.filters[i] * D)) : [];
    this.screen = h
      ? new ScreenedTables(h, this.helper, s, rows, this.E, this.convW, !input.trainEmbedding)
      : null;
  }

  step(idx: Uint32Array, start: number, nb: number): number {
    const s = this.shape;
    const { seqs, labels } = this.input.train;
    const p = this.params;
    const ids = this.distinct.view;
    const nd = collectBatchTokens(seqs, idx, start, nb, this.seen, ids);
    this.lazy?.catchUp(ids, nd);
    const tables = this.tables.map((t) => t.view);
    if (this.screen)
      this.screen.build(this.distinct, nd, seqs, idx, start, nb, tables, this.input.trainEmbedding);
    else computeTables(s, p.convW, this.E.view, this.rows, tables, ids, nd);
    const needConvGrad = this.input.trainConv || this.input.trainEmbedding;
    const loss = cnnForwardBackward(this.work, {
      tables,
      rows: this.rows,
      convB: p.convB,
      denseW: p.denseW,
      denseB: p.denseB,
      seqs,
      labels,
      idx,
      start,
      nb,
      classWeights: this.input.classWeights,
      gDenseW: this.gDenseW,
      gDenseB: this.gDenseB,
      grads: needConvGrad ? this.grads : null,
      gConvB: this.gConvB,
      pool: this.screen?.poolsItself
        ? (pooled, argWin, need) => this.screen!.poolKernel1(pooled, argWin, need, p.convB)
        : undefined,
    });
    if (needConvGrad) this.weightGrads(nd);
    this.opt.step(this.optGrads);
    const gE = this.gE;
    if (this.lazy && gE)
      this.lazy.step(
        ids,
        nd,
        gE.view,
        this.heap !== null,
        this.heap ? { ids: this.distinct.ptr, g: gE.ptr } : undefined,
      );
    // The wasm path writes only the batch's rows of the eager gradient: leave it all zero again.
    else if (gE && this.heap)
      for (let r = 0; r < nd; r++) gE.view.fill(0, ids[r] * this.D, (ids[r] + 1) * this.D);
    return loss;
  }

  /** Table gradients to dL/dW and dL/dE: tableGradsToWeights' operations, in wasm when built. */
  private weightGrads(nd: number): void {
    const s = this.shape;
    const D = this.D;
    const ids = this.distinct.view;
    const h = this.heap;
    if (!h) {
      // Reference: the direct engine's loops (the lazy update then reads the rows it needs by token).
      tableGradsToWeights(
        s,
        this.grads,
        this.E.view,
        null,
        this.params.convW,
        this.gConvW,
        this.gE?.view ?? null,
      );
      return;
    }
    let cells = 0;
    for (const br of this.grads) for (const G of br) cells += G.count;
    // Two segments of `cap` cells: output rows below `split` and the rest, each keeping the cells'
    // order (an output row's additions stay in the reference's order), run on the two threads.
    const cap = Math.max(1024, cells);
    if (!this.cellBuf || this.cellBuf.view.length < 4 * cap) this.cellBuf = h.f64(4 * cap);
    const buf = this.cellBuf;
    const half = buf.view.length >> 1;
    const asInt = new Int32Array(buf.view.buffer, buf.ptr, buf.view.length * 2);
    const counts = [0, 0];
    const put = (row: number, col: number, g: number, second: boolean) => {
      const q = second ? half / 2 + counts[1]++ : counts[0]++;
      asInt[4 * q] = row;
      asInt[4 * q + 1] = col;
      buf.view[2 * q + 1] = g;
    };
    const run = (out: number, src: number, s32: number) => {
      const [a, b] = counts;
      if (b > 0 && this.helper)
        this.helper.start(h, "accumulateRows", [out, src, s32, D, buf.ptr + 8 * half, b]);
      h.k.accumulateRows(out, src, s32, D, buf.ptr, a);
      if (b > 0 && !this.helper) h.k.accumulateRows(out, src, s32, D, buf.ptr + 8 * half, b);
      this.helper?.finish();
      counts[0] = counts[1] = 0;
    };
    // dL/dW per branch: rows (j F + f) of gWt accumulate g E[v] in touched order, then transpose.
    for (let i = 0; i < s.kernels.length; i++) {
      const F = s.filters[i];
      const split = F >> 1;
      for (let j = 0; j < s.kernels[i]; j++) {
        const G = this.grads[i][j];
        for (let c = 0; c < G.count; c++) {
          const cell = G.touched[c];
          const v = (cell / F) | 0;
          const f = cell - v * F;
          put(j * F + f, v, G.data[cell], f >= split);
        }
      }
      const gWt = this.gWt[i];
      gWt.view.fill(0);
      const src = this.screen!.exactSource();
      run(gWt.ptr, src.ptr, src.f32);
      const gW = this.gConvW[i];
      for (let j = 0; j < s.kernels[i]; j++)
        for (let f = 0; f < F; f++) {
          const src = (j * F + f) * D;
          const dst = j * D * F + f;
          for (let d = 0; d < D; d++) gW[dst + d * F] = gWt.view[src + d];
        }
    }
    if (this.input.trainEmbedding) {
      // dL/dE: rows of E (by token, or by panel position for the lazy update) accumulate g W_ij[:, f]
      // over every branch, offset and touched cell in the reference's order (the screen's Wt holds
      // this step's W transposed).
      const Wt = this.screen!.Wt;
      const tapBase = this.screen!.tapBase;
      const lazy = this.lazy !== null;
      if (lazy) {
        if (this.gE!.view.length < nd * D) this.gE = h.f64(Math.min(this.rows, 2 * nd) * D);
        for (let r = 0; r < nd; r++) this.pos[ids[r]] = r;
        this.gE!.view.fill(0, 0, nd * D);
      }
      const split = lazy ? nd >> 1 : this.rows >> 1;
      for (let i = 0; i < s.kernels.length; i++) {
        const F = s.filters[i];
        for (let j = 0; j < s.kernels[i]; j++) {
          const G = this.grads[i][j];
          for (let c = 0; c < G.count; c++) {
            const cell = G.touched[c];
            const v = (cell / F) | 0;
            const row = lazy ? this.pos[v] : v;
            put(row, tapBase[i] + j * F + (cell - v * F), G.data[cell], row >= split);
          }
        }
      }
      run(this.gE!.ptr, Wt.ptr, 0);
    }
    for (const br of this.grads) for (const G of br) G.clear();
  }

  probs(seqs: TokenSequences): Float64Array {
    this.lazy?.catchUpAll();
    const s = this.shape;
    const p = this.params;
    const tables = this.tables.map((t) => t.view);
    const h = this.heap;
    if (!h) {
      computeTables(s, p.convW, this.E.view, this.rows, tables, null, 0);
    } else {
      for (let i = 0; i < s.kernels.length; i++) {
        const F = s.filters[i];
        for (let j = 0; j < s.kernels[i]; j++)
          this.splitRows(
            this.rows,
            (r0, n) => [
              this.E.ptr,
              this.rowIds().ptr + 4 * r0,
              n,
              this.D,
              this.convW[i].ptr + 8 * j * this.D * F,
              F,
              this.tables[i].ptr + 8 * j * this.rows * F,
            ],
            "tablesF64",
          );
      }
      const one = s.kernels.length === 1 && s.kernels[0] === 1 ? this.kernelOneProbs(seqs) : null;
      if (one) return one;
    }
    const sorted = rankingPays(this.rows, seqs) ? rankTables(s, tables, this.rows) : null;
    return cnnProbs(s, tables, this.rows, p.convB, p.denseW, p.denseB, seqs, null, sorted);
  }

  /**
   * cnnProbs for one kernel-1 branch, its max-pool in wasm on the float64 table (maxPoolRows: the same
   * values), or null when the table holds a NaN (the kernel's pmax would skip it; the reference keeps it).
   */
  private kernelOneProbs(seqs: TokenSequences): Float64Array | null {
    const T = this.tables[0];
    const t = T.view;
    for (let q = 0; q < t.length; q++) if (Number.isNaN(t[q])) return null;
    const s = this.shape;
    const F = s.filters[0];
    const C = s.classes;
    const p = this.params;
    const { tokens, offsets } = this.copied(seqs);
    const N = seqs.count;
    const out = new Float64Array(N * C);
    const chunk = 4096;
    const m = this.poolBuffer(chunk * F);
    const pooled = new Float64Array(chunk * F);
    const logits = new Float64Array(chunk * C);
    const bias = p.convB[0];
    for (let c0 = 0; c0 < N; c0 += chunk) {
      const nb = Math.min(chunk, N - c0);
      this.splitRows(
        nb,
        (b0, n) => [T.ptr, F, tokens.ptr, offsets.ptr, c0 + b0, n, m.ptr + 8 * b0 * F],
        "maxPoolRows",
      );
      for (let b = 0; b < nb; b++)
        for (let f = 0; f < F; f++) {
          const z = m.view[b * F + f] + bias[f];
          // poolForward's kernel-1 rule, NaN included (Math.max would keep a NaN).
          // biome-ignore lint/complexity/useMathMinMax: not the same for NaN
          pooled[b * F + f] = z > 0 ? z : 0;
        }
      denseForward(pooled, nb, F, p.denseW, p.denseB, C, logits);
      softmaxRows(logits, nb, C);
      out.set(logits.subarray(0, nb * C), c0 * C);
    }
    return out;
  }

  private poolRegion: Region<Float64Array> | null = null;
  private poolBuffer(n: number): Region<Float64Array> {
    if (!this.poolRegion || this.poolRegion.view.length < n) this.poolRegion = this.heap!.f64(n);
    return this.poolRegion;
  }

  /** Row ids 0..rows-1 in the heap (the validation tables' row list). */
  private rowIds(): Region<Int32Array> {
    if (!this.allRows) {
      this.allRows = this.heap!.i32(this.rows);
      for (let v = 0; v < this.rows; v++) this.allRows.view[v] = v;
    }
    return this.allRows;
  }

  /** A scored set's tokens and offsets in the heap (once per sequences object). */
  private copied(seqs: TokenSequences): { tokens: Region<Uint32Array>; offsets: Region<Uint32Array> } {
    const hit = this.seqCopies.get(seqs);
    if (hit) return hit;
    const h = this.heap!;
    const end = seqs.offsets[seqs.count];
    const tokens = h.u32(Math.max(1, end));
    tokens.view.set(seqs.tokens.subarray(0, end));
    const offsets = h.u32(seqs.count + 1);
    offsets.view.set(seqs.offsets.subarray(0, seqs.count + 1));
    const c = { tokens, offsets };
    this.seqCopies.set(seqs, c);
    return c;
  }

  /** Run kernel `name` over n rows, the second half on the helper thread when there is one. */
  private splitRows(
    n: number,
    args: (r0: number, count: number) => number[],
    name: "tablesF64" | "maxPoolRows",
  ): void {
    const h = this.heap!;
    const half = this.helper && n >= 64 ? n >> 1 : n;
    if (half < n) this.helper!.start(h, name, args(half, n - half));
    const a = args(0, half);
    if (name === "tablesF64") h.k.tablesF64(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    else h.k.maxPoolRows(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    this.helper?.finish();
  }

  capture(): DirectCheckpoint {
    this.lazy?.catchUpAll();
    return {
      params: cloneParams(this.params),
      embedding: this.input.trainEmbedding ? this.E.view.slice() : null,
    };
  }

  export(cp: DirectCheckpoint): { params: ModelParams; embedding: Float64Array | null } {
    return { params: cloneParams(cp.params), embedding: cp.embedding ? cp.embedding.slice() : null };
  }
}

/** Whether the direct engine would keep this frozen embedding in CSR form (gram.ts's rule). */
function sparseFrozen(E: ArrayLike<number>, rows: number, D: number): boolean {
  let nnz = 0;
  for (let q = 0; q < rows * D; q++) if (E[q] !== 0) nnz++;
  return nnz <= SPARSE_E_DENSITY * rows * D;
}

/**
 * Any concept-CNN setting with a dense embedding (a frozen sparse one is the direct engine's CSR
 * case). Chosen automatically only above MAX_FACTORIZED_ROWS tokens, a size the reproduction never
 * trains (its vocabularies have at most a few thousand tokens), since the lazy embedding update rounds
 * differently; there its screen does the direct engine's table work in float32 SIMD, counted at an
 * eighth of the direct engine's cost.
 */
export const SCREENED_ENGINE: EngineSpec = {
  name: "screened",
  supports: (settings, arch, problem) =>
    arch.kind !== "concept-cnn"
      ? "trains the concept CNN only"
      : settings.freeze.embedding && problem.density <= SPARSE_E_DENSITY
        ? "needs a dense embedding (a sparse frozen one is cheapest in the direct engine's CSR form)"
        : true,
  cost: (settings, arch, problem) =>
    problem.rows <= MAX_FACTORIZED_ROWS ? Number.POSITIVE_INFINITY : directCost(settings, arch, problem) / 8,
  create: (input, config) => new ScreenedCnnEngine(input, config) as Engine<unknown>,
};
