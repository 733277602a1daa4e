import type { TokenSequences } from "../../concepts/vocabulary.js";
import { type CnnShape, cloneParams, cnnShape, type ModelParams } from "../params.js";
import {
  bitsetBytes,
  cachedBitsets,
  cnnProbs,
  computeTables,
  denseForward,
  identity,
  MAX_BITSET_BYTES,
  poolForward,
  rankingPays,
  rankTables,
  softmaxRows,
} from "./cnn-core.js";
import { CnnStepWork, cnnForwardBackward } from "./cnn-step.js";
import { convTaps, trainingSteps } from "./direct.js";
import type { Engine, EngineInput, EngineSpec } from "./engine.js";
import { gram, SPARSE_E_DENSITY, type SparseRows, sparseRows } from "./gram.js";
import { Optimizer, type OptimizerConfig } from "./optimizer.js";
import type { SortedTokenTable } from "./sorted-table.js";
import { SparseGrad } from "./sparse-grad.js";

/*
 * Exact token-space training for FROZEN embeddings and SGD on the conv weights.
 *
 * The model only ever sees a conv weight slice W (D x F, one per branch and kernel offset) through
 * P = E W (rows x F): the token table. The gradient is dL/dW = E^T G with G (rows x F) the table
 * gradient, which the max-pool makes sparse (one token per encounter and filter). SGD with weight
 * decay, momentum and Nesterov is linear in (W, gradient), so multiplying each update by E gives the
 * same update for P with gradient E E^T G = K G:
 *   d = K G + wd P;  buf = d (first step) or mu buf + d;  P -= lr (d + mu buf)   [Nesterov]
 * which is the D-space trajectory of P up to float rounding, at a cost of O(|G| rows + rows F) per
 * step instead of O(distinct tokens x D x F): no D at all. K = E E^T is formed once.
 *
 * The weights themselves stay recoverable: every update lies in span(W0, rows of E), so
 * W = a W0 + E^T C where the scalar a and the rows x F matrix C follow the same SGD recursion with
 * gradients 0 (for a: weight decay only) and G (for C). Since P = a P0 + K C, C is the solution of
 * K C = P - a P0 when K (padding row left out) is well conditioned: then it is solved for from a
 * checkpoint's tables (Cholesky, once per export); otherwise (D < vocabulary, duplicate vectors) C
 * is tracked step by step. W is rebuilt only for a snapshot. Biases and the dense layer are trained
 * as usual (any optimiser). Kernel-1 tables also keep their max-pool ranking (sorted-table.ts) up
 * to date: the step writes the new values into the ranking's keys, the next forward re-sorts.
 */

interface Slice {
  /** P = E W: the token table this slice contributes (rows x F). */
  P: Float64Array;
  Pbuf: Float64Array;
  /** Tracked only when K is too ill-conditioned to recover C from P at export. */
  C: Float64Array;
  Cbuf: Float64Array;
  /** The initial table E W0 (kept when C is recovered by solving). */
  P0: Float64Array;
  W0: Float64Array;
  /** K G, transposed (F x rows) so the scatter of one gradient cell reads one row of K contiguously. */
  KGt: Float64Array;
}

interface FactorizedCheckpoint {
  tables: Float64Array[];
  C: Float64Array[][];
  a: number;
  convB: Float64Array[];
  denseW: Float64Array;
  denseB: Float64Array;
}

export class FactorizedCnnEngine implements Engine<FactorizedCheckpoint> {
  readonly name = "factorized";
  private readonly shape: CnnShape;
  private readonly params: ModelParams;
  private readonly E: Float64Array;
  private readonly rows: number;
  private readonly K: Float64Array | null;
  /** K's rows in CSR form when K is mostly zero (one-hot, hashed n-grams): a sparse per-step scatter. */
  private readonly Ksparse: SparseRows | null;
  /** Cholesky factor of K without the padding row (see choleskyWithoutPadding), or null. */
  private readonly chol: Float64Array | null;
  /** Per branch: the full token table [j][v][f]; slice j's P is a view into it. */
  private readonly tables: Float64Array[];
  private readonly slices: Slice[][];
  private readonly grads: SparseGrad[][];
  private readonly opt: Optimizer;
  private readonly optGrads: Float64Array[];
  private readonly gConvB: Float64Array[];
  private readonly gDenseW: Float64Array;
  private readonly gDenseB: Float64Array;
  /** Rankings of kernel-1 tables when they pay (see sorted-table.ts); rebuilt lazily after a step. */
  private readonly sorted: (SortedTokenTable | null)[] | null;
  private readonly bits: Uint32Array | null;
  private dirty = true;
  /** Frozen conv: pooled features of the training encounters, and of the last scored set. */
  private readonly frozenTrain: Float64Array | null;
  private frozenEval: { seqs: TokenSequences; pooled: Float64Array } | null = null;
  private a = 1;
  private aBuf = 0;
  private convSteps = 0;
  private readonly work: CnnStepWork;

  constructor(
    private readonly input: EngineInput,
    private readonly config: OptimizerConfig,
  ) {
    if (input.params.arch.kind !== "concept-cnn") throw new Error("FactorizedCnnEngine needs a concept-cnn");
    if (input.trainEmbedding) throw new Error("the factorized engine needs a frozen embedding");
    if (input.trainConv && config.kind !== "sgd")
      throw new Error("the factorized engine trains conv weights with SGD only");
    this.shape = cnnShape(input.params.arch);
    this.params = cloneParams(input.params);
    this.rows = input.rows;
    this.E = Float64Array.from(input.embedding);
    const s = this.shape;
    const rows = this.rows;
    this.tables = s.kernels.map((k, i) => new Float64Array(k * rows * s.filters[i]));
    computeTables(s, this.params.convW, this.E, rows, this.tables, null, 0);
    this.K = input.trainConv ? gram(this.E, rows, s.dim) : null;
    this.Ksparse = this.K ? sparseRows(this.K, rows) : null;
    // When K (without the padding row) is well conditioned, C need not be tracked: it is the solution
    // of K C = P - a P0, recovered from the checkpoint's tables when weights are exported.
    this.chol = this.K && rows <= MAX_SOLVE_ROWS ? choleskyWithoutPadding(this.K, rows) : null;
    const trackC = input.trainConv && this.chol === null;
    this.slices = s.kernels.map((k, i) => {
      const F = s.filters[i];
      const D = s.dim;
      return Array.from({ length: k }, (_, j) => {
        const n = rows * F;
        const train = input.trainConv;
        return {
          P: this.tables[i].subarray(j * n, (j + 1) * n),
          Pbuf: new Float64Array(train ? n : 0),
          C: new Float64Array(trackC ? n : 0),
          Cbuf: new Float64Array(trackC ? n : 0),
          // P0 also anchors the L2-SP decay (decayToInitial): towards E W0 in token space.
          P0:
            this.chol || config.decayToInitial
              ? this.tables[i].slice(j * n, (j + 1) * n)
              : new Float64Array(0),
          W0: this.params.convW[i].slice(j * D * F, (j + 1) * D * F),
          KGt: new Float64Array(train ? n : 0),
        };
      });
    });
    this.grads = s.kernels.map((k, i) => Array.from({ length: k }, () => new SparseGrad(rows, s.filters[i])));
    this.gConvB = this.params.convB.map((b) => new Float64Array(b.length));
    this.gDenseW = new Float64Array(this.params.denseW.length);
    this.gDenseB = new Float64Array(this.params.denseB.length);
    const ps: Float64Array[] = [];
    const gs: Float64Array[] = [];
    if (input.trainConv) {
      ps.push(...this.params.convB);
      gs.push(...this.gConvB);
    }
    if (input.trainDense) {
      ps.push(this.params.denseW, this.params.denseB);
      gs.push(this.gDenseW, this.gDenseB);
    }
    this.opt = new Optimizer(config, ps);
    this.optGrads = gs;
    this.work = new CnnStepWork(s, input.dropoutRng);
    this.sorted = rankingPays(rows, input.train.seqs) ? rankTables(s, this.tables, rows) : null;
    this.bits =
      this.sorted && bitsetBytes(input.train.seqs, rows) <= MAX_BITSET_BYTES
        ? cachedBitsets(input.train.seqs, rows)
        : null;
    this.dirty = false;
    this.frozenTrain = input.trainConv ? null : this.frozenFeatures(input.train.seqs);
  }

  /** Pooled features of every encounter of `seqs` when they fit in MAX_FROZEN_CELLS, else null. */
  private frozenFeatures(seqs: TokenSequences): Float64Array | null {
    const Ft = this.shape.features;
    if (seqs.count * Ft > MAX_FROZEN_CELLS) return null;
    const p = this.params;
    const out = new Float64Array(seqs.count * Ft);
    poolForward({
      shape: this.shape,
      tables: this.tables,
      rows: this.rows,
      convB: p.convB,
      seqs,
      idx: identity(seqs.count),
      idxStart: 0,
      nb: seqs.count,
      pooled: out,
      argWin: null,
      need: null,
      scratch: new Float64Array(2 * Math.max(...this.shape.filters)),
      sorted: this.sorted,
      bits:
        this.sorted && bitsetBytes(seqs, this.rows) <= MAX_BITSET_BYTES
          ? cachedBitsets(seqs, this.rows)
          : null,
    });
    return out;
  }

  step(idx: Uint32Array, start: number, nb: number): number {
    const { seqs, labels } = this.input.train;
    const p = this.params;
    this.rerank();
    const trainConv = this.input.trainConv;
    const loss = cnnForwardBackward(this.work, {
      tables: this.tables,
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
      sorted: this.sorted,
      bits: this.bits,
      gDenseW: this.gDenseW,
      gDenseB: this.gDenseB,
      grads: trainConv ? this.grads : null,
      gConvB: this.gConvB,
      pooledCache: this.frozenTrain,
    });
    if (trainConv) {
      this.convStep();
      this.dirty = true;
    }
    this.opt.step(this.optGrads);
    return loss;
  }

  /** The SGD step in token space for every conv slice (see the comment at the top). */
  private convStep(): void {
    const { lr, momentum: mu, weightDecay: wd, nesterov } = this.config;
    const first = this.convSteps === 0;
    this.convSteps++;
    const rows = this.rows;
    const K = this.K!;
    const s = this.shape;
    for (let i = 0; i < s.kernels.length; i++) {
      const F = s.filters[i];
      for (let j = 0; j < s.kernels[i]; j++) {
        const G = this.grads[i][j];
        const sl = this.slices[i][j];
        const { P, Pbuf, C, Cbuf, KGt } = sl;
        const gd = G.data;
        const ranked = s.kernels[i] === 1 ? (this.sorted?.[i] ?? null) : null;
        KGt.fill(0);
        const touched = G.touched;
        const count = G.count;
        const Ks = this.Ksparse;
        for (let c = 0; c < count; c++) {
          const cell = touched[c];
          const g = gd[cell];
          const v = (cell / F) | 0;
          const o = (cell - v * F) * rows;
          if (Ks === null) scatterRow(KGt, o, K, v * rows, g, rows);
          else for (let p = Ks.rowPtr[v]; p < Ks.rowPtr[v + 1]; p++) KGt[o + Ks.cols[p]] += g * Ks.vals[p];
        }
        tokenSpaceSgd(
          P,
          Pbuf,
          KGt,
          rows,
          F,
          true,
          first,
          this.config,
          this.config.decayToInitial ? sl.P0 : null,
        );
        if (ranked) writeKeys(ranked, P, rows, F);
        if (this.chol === null) tokenSpaceSgd(C, Cbuf, gd, rows, F, false, first, this.config);
        G.clear();
      }
    }
    // The W0 coefficient: gradient 0, weight decay only (towards 1 under L2-SP: W - W0 = (a - 1) W0 +
    // E^T C decays to 0, so P - P0 does, which is what the anchored table step above does).
    const dA = wd * (this.config.decayToInitial ? this.a - 1 : this.a);
    if (mu === 0) this.a -= lr * dA;
    else {
      const mA = first ? dA : mu * this.aBuf + dA;
      this.aBuf = mA;
      this.a -= lr * (nesterov ? dA + mu * mA : mA);
    }
  }

  probs(seqs: TokenSequences): Float64Array {
    const p = this.params;
    if (!this.input.trainConv) {
      // The conv layer never changes: pool each scored set (the validation set, every epoch) once.
      if (this.frozenEval?.seqs !== seqs) {
        const pooled = this.frozenFeatures(seqs);
        this.frozenEval = pooled ? { seqs, pooled } : null;
      }
      if (this.frozenEval)
        return denseProbs(this.frozenEval.pooled, seqs.count, this.shape, p.denseW, p.denseB);
    }
    this.rerank();
    const sorted =
      this.sorted ?? (rankingPays(this.rows, seqs) ? rankTables(this.shape, this.tables, this.rows) : null);
    return cnnProbs(this.shape, this.tables, this.rows, p.convB, p.denseW, p.denseB, seqs, null, sorted);
  }

  /** Bring the rankings up to date with the tables (after conv steps, which rewrote their keys). */
  private rerank(): void {
    if (!this.sorted || !this.dirty) return;
    for (let i = 0; i < this.sorted.length; i++) this.sorted[i]?.resort();
    this.dirty = false;
  }

  capture(): FactorizedCheckpoint {
    return {
      tables: this.tables.map((t) => t.slice()),
      C: this.chol ? [] : this.slices.map((br) => br.map((sl) => sl.C.slice())),
      a: this.a,
      convB: this.params.convB.map((b) => b.slice()),
      denseW: this.params.denseW.slice(),
      denseB: this.params.denseB.slice(),
    };
  }

  /** Rebuild W = a W0 + E^T C for every slice (W0 itself when the conv layer is frozen). */
  export(cp: FactorizedCheckpoint): { params: ModelParams; embedding: Float64Array | null } {
    const s = this.shape;
    const D = s.dim;
    const rows = this.rows;
    const E = this.E;
    const convW = s.kernels.map((k, i) => {
      const F = s.filters[i];
      const W = new Float64Array(k * D * F);
      for (let j = 0; j < k; j++) {
        const sl = this.slices[i][j];
        const off = j * D * F;
        for (let q = 0; q < D * F; q++) W[off + q] = cp.a * sl.W0[q];
        if (!this.input.trainConv) continue;
        const C = this.chol ? this.solveC(cp, i, j) : cp.C[i][j];
        for (let v = 0; v < rows; v++) {
          const e = v * D;
          const c = v * F;
          for (let d = 0; d < D; d++) {
            const x = E[e + d];
            if (x === 0) continue;
            const w = off + d * F;
            for (let f = 0; f < F; f++) W[w + f] += x * C[c + f];
          }
        }
      }
      return W;
    });
    return {
      params: {
        arch: this.params.arch,
        convW,
        convB: cp.convB.map((b) => b.slice()),
        denseW: cp.denseW.slice(),
        denseB: cp.denseB.slice(),
      },
      embedding: null,
    };
  }

  /** C of slice (i, j) from a checkpoint: solve K C = P - a P0 (row 0, padding, stays 0). */
  private solveC(cp: FactorizedCheckpoint, i: number, j: number): Float64Array {
    const F = this.shape.filters[i];
    const rows = this.rows;
    const n = rows * F;
    const P = cp.tables[i].subarray(j * n, (j + 1) * n);
    const P0 = this.slices[i][j].P0;
    const R = new Float64Array(n);
    for (let q = 0; q < n; q++) R[q] = P[q] - cp.a * P0[q];
    choleskySolve(this.chol!, rows, R, F);
    return R;
  }

  /** Whether C is tracked step by step (K ill-conditioned) rather than solved for at export. */
  get tracksC(): boolean {
    return this.input.trainConv && this.chol === null;
  }

  /** Current token tables (for tests comparing engines). */
  currentTables(): Float64Array[] {
    return this.tables;
  }
}

/**
 * One SGD step (torch semantics, see optimizer.ts sgdStep) on a rows x F token-space matrix X with
 * gradient g, given transposed (F x rows) or not. Branches hoisted out of the loops: this runs every
 * step over the whole table.
 */
function tokenSpaceSgd(
  X: Float64Array,
  buf: Float64Array,
  g: Float64Array,
  rows: number,
  F: number,
  transposed: boolean,
  first: boolean,
  c: OptimizerConfig,
  anchor: Float64Array | null = null,
): void {
  const { lr, momentum: mu, weightDecay: wd, nesterov } = c;
  const gs = transposed ? rows : 1;
  const gf = transposed ? 1 : F;
  if (anchor) {
    // L2-SP: the decay pulls X towards the anchor; same recursion with X - anchor in the decay term.
    for (let u = 0; u < rows; u++) {
      const r = u * F;
      const gr = u * gf;
      for (let f = 0; f < F; f++) {
        const q = r + f;
        const d = g[gr + f * gs] + wd * (X[q] - anchor[q]);
        if (mu === 0) {
          X[q] -= lr * d;
          continue;
        }
        const m = first ? d : mu * buf[q] + d;
        buf[q] = m;
        X[q] -= lr * (nesterov ? d + mu * m : m);
      }
    }
    return;
  }
  for (let u = 0; u < rows; u++) {
    const r = u * F;
    const gr = u * gf;
    if (mu === 0) {
      for (let f = 0; f < F; f++) X[r + f] -= lr * (g[gr + f * gs] + wd * X[r + f]);
    } else if (first) {
      for (let f = 0; f < F; f++) {
        const d = g[gr + f * gs] + wd * X[r + f];
        buf[r + f] = d;
        X[r + f] -= lr * (nesterov ? d + mu * d : d);
      }
    } else if (nesterov) {
      for (let f = 0; f < F; f++) {
        const q = r + f;
        const d = g[gr + f * gs] + wd * X[q];
        const m = mu * buf[q] + d;
        buf[q] = m;
        X[q] -= lr * (d + mu * m);
      }
    } else {
      for (let f = 0; f < F; f++) {
        const q = r + f;
        const m = mu * buf[q] + g[gr + f * gs] + wd * X[q];
        buf[q] = m;
        X[q] -= lr * m;
      }
    }
  }
}

/** Copy the new table values into the ranking's keys, in rank order, ready for resort(). */
function writeKeys(ranked: SortedTokenTable, P: Float64Array, rows: number, F: number): void {
  const { keys, rank } = ranked;
  const n = rows - 1;
  for (let u = 1; u < rows; u++) {
    const r = u * F;
    for (let f = 0; f < F; f++) keys[f * n + rank[r + f]] = P[r + f];
  }
}

/** out[o ..o + n) += g * K[k .. k + n): one gradient cell's contribution to K G. */
function scatterRow(out: Float64Array, o: number, K: Float64Array, k: number, g: number, n: number): void {
  let u = 0;
  for (; u + 3 < n; u += 4) {
    out[o + u] += g * K[k + u];
    out[o + u + 1] += g * K[k + u + 1];
    out[o + u + 2] += g * K[k + u + 2];
    out[o + u + 3] += g * K[k + u + 3];
  }
  for (; u < n; u++) out[o + u] += g * K[k + u];
}

/** Largest cached feature matrix (encounters x filters) of a frozen conv layer: 64 MB. */
export const MAX_FROZEN_CELLS = 8_000_000;

/** Class probabilities from pooled features (eval mode: no dropout). */
function denseProbs(
  pooled: Float64Array,
  N: number,
  shape: CnnShape,
  denseW: Float64Array,
  denseB: Float64Array,
): Float64Array {
  const C = shape.classes;
  const out = new Float64Array(N * C);
  denseForward(pooled, N, shape.features, denseW, denseB, C, out);
  softmaxRows(out, N, C);
  return out;
}

/** Solving for C costs rows^3 / 6 once; beyond this many rows tracking C per step is cheaper. */
export const MAX_SOLVE_ROWS = 600;

/** Largest ratio of Cholesky pivots for which C is recovered by solving (about K's condition number). */
export const MAX_SOLVE_CONDITION = 1e8;

/**
 * Lower Cholesky factor L (rows x rows, row/column 0 unused) of K restricted to rows 1.., or null
 * when K is singular or its pivots spread over more than MAX_SOLVE_CONDITION (then solving would
 * lose accuracy and C is tracked instead).
 */
export function choleskyWithoutPadding(K: Float64Array, rows: number): Float64Array | null {
  const L = new Float64Array(rows * rows);
  let maxPivot = 0;
  let minPivot = Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j <= i; j++) {
      let sum = K[i * rows + j];
      for (let k = 1; k < j; k++) sum -= L[i * rows + k] * L[j * rows + k];
      if (i === j) {
        if (!(sum > 0)) return null;
        maxPivot = Math.max(maxPivot, sum);
        minPivot = Math.min(minPivot, sum);
        L[i * rows + i] = Math.sqrt(sum);
      } else L[i * rows + j] = sum / L[j * rows + j];
    }
  }
  if (rows > 1 && maxPivot / minPivot > MAX_SOLVE_CONDITION) return null;
  return L;
}

/** In place: X (rows x F) <- K^-1 X on rows 1.. (row 0 set to 0), with K = L L^T. */
export function choleskySolve(L: Float64Array, rows: number, X: Float64Array, F: number): void {
  for (let f = 0; f < F; f++) X[f] = 0;
  // Forward: L y = x.
  for (let i = 1; i < rows; i++) {
    const xi = i * F;
    for (let k = 1; k < i; k++) {
      const l = L[i * rows + k];
      if (l === 0) continue;
      const xk = k * F;
      for (let f = 0; f < F; f++) X[xi + f] -= l * X[xk + f];
    }
    const d = L[i * rows + i];
    for (let f = 0; f < F; f++) X[xi + f] /= d;
  }
  // Backward: L^T c = y.
  for (let i = rows - 1; i >= 1; i--) {
    const xi = i * F;
    for (let k = i + 1; k < rows; k++) {
      const l = L[k * rows + i];
      if (l === 0) continue;
      const xk = k * F;
      for (let f = 0; f < F; f++) X[xi + f] -= l * X[xk + f];
    }
    const d = L[i * rows + i];
    for (let f = 0; f < F; f++) X[xi + f] /= d;
  }
}

/** Largest vocabulary (+1) for the factorized engine: its Gram matrix takes rows^2 x 8 bytes (<= 256 MB). */
export const MAX_FACTORIZED_ROWS = 5792;

/**
 * Exact for a frozen embedding with SGD on the conv weights (or a frozen conv layer), up to
 * MAX_FACTORIZED_ROWS tokens. Cost: the Gram matrix (only pairs sharing a column when E is sparse),
 * the initial tables, then per step the scatter of the gradient cells through K's rows (its
 * non-zeros) and the token-space SGD over every table. A frozen conv layer pools every encounter
 * once and then trains the dense layer alone: no step touches the conv layer, counted as free.
 */
export const FACTORIZED_ENGINE: EngineSpec = {
  name: "factorized",
  supports: (settings, arch, problem) =>
    arch.kind === "concept-cnn" &&
    settings.freeze.embedding &&
    (settings.freeze.conv || settings.optimizer === "sgd") &&
    problem.rows <= MAX_FACTORIZED_ROWS
      ? true
      : `needs a frozen embedding, SGD for the conv layer and at most ${MAX_FACTORIZED_ROWS} tokens`,
  cost: (settings, arch, problem) => {
    if (settings.freeze.conv) return 0;
    const { rows, density } = problem;
    const D = arch.embeddingDim;
    const FK = convTaps(arch);
    const perRow = Math.max(1, density * D);
    // Two rows share a column with probability about perRow^2 / D: the non-zeros of a row of K.
    const kRow = Math.min(rows, 1 + (rows * perRow * perRow) / D);
    const gramCost = density < SPARSE_E_DENSITY ? D * (rows * density) ** 2 : rows * rows * D;
    return (
      gramCost +
      rows * perRow * FK +
      trainingSteps(settings) * (settings.batchSize * FK * (kRow + 5) + 8 * rows * FK)
    );
  },
  create: (input, config) => new FactorizedCnnEngine(input, config) as Engine<unknown>,
};
