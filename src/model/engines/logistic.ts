import type { TokenSequences } from "../../concepts/vocabulary.js";
import { cloneParams, type ModelParams } from "../params.js";
import { collectBatchTokens } from "./batch-tokens.js";
import { crossEntropyGrad, identity, softmaxRows } from "./cnn-core.js";
import type { Engine, EngineInput, EngineSpec } from "./engine.js";
import { Optimizer, type OptimizerConfig } from "./optimizer.js";
import { createHeap, type Region, type WasmHeap } from "./wasm/kernels.js";

interface LogisticCheckpoint {
  params: ModelParams;
  embedding: Float64Array | null;
}

/**
 * The mean-logistic baseline: logits = mean_t E[t] W + b (an encounter without tokens gets b).
 * Like the CNN it works through a token table T = E W (rows x C) built for the batch's tokens, so a
 * step costs O(distinct tokens x D x C) rather than O(positions x D).
 */
export class LogisticEngine implements Engine<LogisticCheckpoint> {
  readonly name = "logistic";
  private readonly params: ModelParams;
  private E: Float64Array;
  /**
   * The token-table path of a frozen embedding with 2 or 4 classes runs its table and dL/dW loops as
   * wasm kernels (`logisticTable`, `logisticGradW`: the same operations in the same order, so the
   * same numbers) on these heap copies; null without the wasm build or in the other cases.
   */
  private readonly wasm: {
    heap: WasmHeap;
    E: Region<Float64Array>;
    W: Region<Float64Array>;
    T: Region<Float64Array>;
    G: Region<Float64Array>;
    gW: Region<Float64Array>;
    ids: Region<Int32Array>;
    all: Region<Int32Array>;
    /** Per row: 1 when it has no zero entry. */
    zeroFree: Region<Uint8Array>;
  } | null;
  private readonly rows: number;
  private readonly D: number;
  private readonly C: number;
  private readonly T: Float64Array;
  private readonly G: Float64Array;
  private readonly gW: Float64Array;
  private readonly gB: Float64Array;
  private readonly gE: Float64Array | null;
  private readonly opt: Optimizer;
  private readonly optGrads: Float64Array[];
  private readonly seen: Uint8Array;
  private readonly distinct: Int32Array;
  private logits = new Float64Array(0);
  /**
   * Frozen embedding: the mean token vector of every training encounter (N x D), so a step costs
   * batch x D x C instead of distinct tokens x D x C; with W kept transposed (C x D) for contiguous
   * dot products. null when the embedding trains or the matrix would exceed MAX_MEAN_CELLS.
   */
  private readonly means: Float64Array | null;
  private readonly Wt: Float64Array;
  private readonly gWt: Float64Array;

  constructor(
    private readonly input: EngineInput,
    config: OptimizerConfig,
    options: { wasm?: boolean } = {},
  ) {
    const arch = input.params.arch;
    if (arch.kind !== "mean-logistic") throw new Error("LogisticEngine needs a mean-logistic architecture");
    this.params = cloneParams(input.params);
    this.rows = input.rows;
    this.D = arch.embeddingDim;
    this.C = arch.numClasses;
    this.E = Float64Array.from(input.embedding);
    const N = input.train.seqs.count;
    const tablePath = input.trainEmbedding || N * this.D > MAX_MEAN_CELLS;
    this.wasm = null;
    const heap =
      options.wasm !== false && !input.trainEmbedding && tablePath && (this.C === 2 || this.C === 4)
        ? createHeap()
        : null;
    if (heap) {
      const E = heap.f64(this.E.length);
      E.view.set(this.E);
      const all = heap.i32(this.rows);
      for (let v = 0; v < this.rows; v++) all.view[v] = v;
      const zeroFree = heap.u8(this.rows);
      for (let v = 0; v < this.rows; v++) {
        let ok = 1;
        for (let d = 0; d < this.D && ok; d++) if (this.E[v * this.D + d] === 0) ok = 0;
        zeroFree.view[v] = ok;
      }
      this.wasm = {
        zeroFree,
        heap,
        E,
        W: heap.f64(this.D * this.C),
        T: heap.f64(this.rows * this.C),
        G: heap.f64(this.rows * this.C),
        gW: heap.f64(this.D * this.C),
        ids: heap.i32(this.rows),
        all,
      };
      this.E = E.view;
    }
    this.T = this.wasm ? this.wasm.T.view : new Float64Array(this.rows * this.C);
    this.G = this.wasm ? this.wasm.G.view : new Float64Array(this.rows * this.C);
    this.gW = this.wasm ? this.wasm.gW.view : new Float64Array(this.params.denseW.length);
    this.gB = new Float64Array(this.C);
    this.gE = input.trainEmbedding ? new Float64Array(this.E.length) : null;
    const ps: Float64Array[] = [];
    const gs: Float64Array[] = [];
    if (this.gE) {
      ps.push(this.E);
      gs.push(this.gE);
    }
    if (input.trainDense) {
      ps.push(this.params.denseW, this.params.denseB);
      gs.push(this.gW, this.gB);
    }
    this.opt = new Optimizer(config, ps);
    this.optGrads = gs;
    this.seen = new Uint8Array(this.rows);
    this.distinct = this.wasm ? this.wasm.ids.view : new Int32Array(this.rows);
    this.means = !tablePath ? meanVectors(input.train.seqs, this.E, this.D) : null;
    this.Wt = new Float64Array(this.means ? this.D * this.C : 0);
    this.gWt = new Float64Array(this.Wt.length);
  }

  private table(only: Int32Array | null, count: number): void {
    const { D, C, E, T } = this;
    const W = this.params.denseW;
    const n = only ? count : this.rows;
    const k = this.wasm;
    if (k) {
      k.W.view.set(W);
      k.heap.k.logisticTable(
        k.E.ptr,
        k.zeroFree.ptr,
        only ? k.ids.ptr : k.all.ptr,
        n,
        D,
        k.W.ptr,
        C,
        k.T.ptr,
      );
      return;
    }
    for (let r = 0; r < n; r++) {
      const v = only ? only[r] : r;
      for (let c = 0; c < C; c++) T[v * C + c] = 0;
      for (let d = 0; d < D; d++) {
        const x = E[v * D + d];
        if (x === 0) continue;
        for (let c = 0; c < C; c++) T[v * C + c] += x * W[d * C + c];
      }
    }
  }

  private meanLogits(
    seqs: TokenSequences,
    idx: ArrayLike<number>,
    start: number,
    nb: number,
    out: Float64Array,
  ) {
    const { C, T } = this;
    const bias = this.params.denseB;
    for (let b = 0; b < nb; b++) {
      const n = idx[start + b];
      const s0 = seqs.offsets[n];
      const len = seqs.offsets[n + 1] - s0;
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let t = 0; t < len; t++) s += T[seqs.tokens[s0 + t] * C + c];
        out[b * C + c] = (len > 0 ? s / len : 0) + bias[c];
      }
    }
  }

  step(idx: Uint32Array, start: number, nb: number): number {
    if (this.means) return this.meanStep(this.means, idx, start, nb);
    const { seqs, labels } = this.input.train;
    const { D, C, E, G } = this;
    const nd = collectBatchTokens(seqs, idx, start, nb, this.seen, this.distinct);
    this.table(this.distinct, nd);
    if (this.logits.length < nb * C) this.logits = new Float64Array(nb * C);
    const dl = this.logits;
    this.meanLogits(seqs, idx, start, nb, dl);
    const loss = crossEntropyGrad(dl, nb, C, labels, idx, start, this.input.classWeights);
    this.gB.fill(0);
    for (let b = 0; b < nb; b++) {
      const n = idx[start + b];
      const s0 = seqs.offsets[n];
      const len = seqs.offsets[n + 1] - s0;
      for (let c = 0; c < C; c++) this.gB[c] += dl[b * C + c];
      for (let t = 0; t < len; t++) {
        const v = seqs.tokens[s0 + t];
        for (let c = 0; c < C; c++) G[v * C + c] += dl[b * C + c] / len;
      }
    }
    const W = this.params.denseW;
    this.gW.fill(0);
    const k = this.wasm;
    if (k) {
      k.heap.k.logisticGradW(k.E.ptr, k.ids.ptr, nd, D, k.G.ptr, C, k.gW.ptr);
      for (let r = 0; r < nd; r++) G.fill(0, this.distinct[r] * C, (this.distinct[r] + 1) * C);
      this.opt.step(this.optGrads);
      return loss;
    }
    if (this.gE) this.gE.fill(0);
    for (let r = 0; r < nd; r++) {
      const v = this.distinct[r];
      for (let d = 0; d < D; d++) {
        const x = E[v * D + d];
        let ge = 0;
        for (let c = 0; c < C; c++) {
          this.gW[d * C + c] += x * G[v * C + c];
          ge += G[v * C + c] * W[d * C + c];
        }
        if (this.gE) this.gE[v * D + d] = ge;
      }
      for (let c = 0; c < C; c++) G[v * C + c] = 0;
    }
    this.opt.step(this.optGrads);
    return loss;
  }

  /** A step from the precomputed mean vectors: the same gradient as the token-table step. */
  private meanStep(X: Float64Array, idx: Uint32Array, start: number, nb: number): number {
    const { D, C, Wt, gWt } = this;
    const W = this.params.denseW;
    const bias = this.params.denseB;
    for (let d = 0; d < D; d++) for (let c = 0; c < C; c++) Wt[c * D + d] = W[d * C + c];
    if (this.logits.length < nb * C) this.logits = new Float64Array(nb * C);
    const dl = this.logits;
    for (let b = 0; b < nb; b++) {
      const x = idx[start + b] * D;
      for (let c = 0; c < C; c++) {
        const w = c * D;
        let z = 0;
        for (let d = 0; d < D; d++) z += X[x + d] * Wt[w + d];
        dl[b * C + c] = z + bias[c];
      }
    }
    const loss = crossEntropyGrad(dl, nb, C, this.input.train.labels, idx, start, this.input.classWeights);
    gWt.fill(0);
    this.gB.fill(0);
    for (let b = 0; b < nb; b++) {
      const x = idx[start + b] * D;
      for (let c = 0; c < C; c++) {
        const g = dl[b * C + c];
        this.gB[c] += g;
        const w = c * D;
        for (let d = 0; d < D; d++) gWt[w + d] += g * X[x + d];
      }
    }
    for (let d = 0; d < D; d++) for (let c = 0; c < C; c++) this.gW[d * C + c] = gWt[c * D + d];
    this.opt.step(this.optGrads);
    return loss;
  }

  probs(seqs: TokenSequences): Float64Array {
    this.table(null, 0);
    const N = seqs.count;
    const out = new Float64Array(N * this.C);
    this.meanLogits(seqs, identity(N), 0, N, out);
    softmaxRows(out, N, this.C);
    return out;
  }

  capture(): LogisticCheckpoint {
    return { params: cloneParams(this.params), embedding: this.gE ? this.E.slice() : null };
  }

  export(cp: LogisticCheckpoint): { params: ModelParams; embedding: Float64Array | null } {
    return { params: cloneParams(cp.params), embedding: cp.embedding ? cp.embedding.slice() : null };
  }
}

/** Largest mean-vector matrix (encounters x D) kept for a frozen embedding: 16 M values, 128 MB. */
export const MAX_MEAN_CELLS = 16_000_000;

/** Mean token vector of every encounter (an encounter without tokens gets the zero vector). */
function meanVectors(seqs: TokenSequences, E: Float64Array, D: number): Float64Array {
  const X = new Float64Array(seqs.count * D);
  for (let n = 0; n < seqs.count; n++) {
    const s0 = seqs.offsets[n];
    const len = seqs.offsets[n + 1] - s0;
    if (len === 0) continue;
    const o = n * D;
    for (let t = 0; t < len; t++) {
      const e = seqs.tokens[s0 + t] * D;
      for (let d = 0; d < D; d++) X[o + d] += E[e + d];
    }
    for (let d = 0; d < D; d++) X[o + d] /= len;
  }
  return X;
}

/** The mean-logistic baseline's one engine. */
export const LOGISTIC_ENGINE: EngineSpec = {
  name: "logistic",
  supports: (_settings, arch) =>
    arch.kind === "mean-logistic" ? true : "trains the mean-logistic baseline only",
  cost: () => 0,
  create: (input, config) => new LogisticEngine(input, config) as Engine<unknown>,
};
