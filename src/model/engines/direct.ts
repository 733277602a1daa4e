import type { TokenSequences } from "../../concepts/vocabulary.js";
import { type CnnShape, cloneParams, cnnShape, type ModelParams } from "../params.js";
import type { TrainSettings } from "../train-settings.js";
import type { ModelArchitecture } from "../types.js";
import { collectBatchTokens } from "./batch-tokens.js";
import { cnnProbs, computeTables, rankingPays, rankTables } from "./cnn-core.js";
import { CnnStepWork, cnnForwardBackward } from "./cnn-step.js";
import type { Engine, EngineInput, EngineProblem, EngineSpec } from "./engine.js";
import { type SparseRows, sparseMatrixRows } from "./gram.js";
import { Optimizer, type OptimizerConfig } from "./optimizer.js";
import { SparseGrad } from "./sparse-grad.js";
import { tableGradsToWeights } from "./table-grads.js";

export interface DirectCheckpoint {
  params: ModelParams;
  embedding: Float64Array | null;
}

/**
 * The reference engine: plain gradient descent on W (D-space) and, when trainable, on the embedding.
 * Each step forms the token table only for the tokens of the batch (the same dot products a Conv1d
 * over the batch's positions computes, once per distinct token), so any setting is supported: SGD or
 * Adam, every freezing mode.
 */
export class DirectCnnEngine implements Engine<DirectCheckpoint> {
  readonly name = "direct";
  private readonly shape: CnnShape;
  private readonly params: ModelParams;
  private readonly E: Float64Array;
  private readonly rows: number;
  private readonly tables: Float64Array[];
  private readonly grads: SparseGrad[][];
  private readonly opt: Optimizer;
  private readonly gConvW: Float64Array[];
  private readonly gConvB: Float64Array[];
  private readonly gDenseW: Float64Array;
  private readonly gDenseB: Float64Array;
  private readonly gE: Float64Array | null;
  private readonly optGrads: Float64Array[];
  private readonly seen: Uint8Array;
  private readonly distinct: Int32Array;
  private readonly work: CnnStepWork;
  /** A frozen, mostly-zero embedding (one-hot, hashed n-grams) in CSR form; null otherwise. */
  private readonly sparseE: SparseRows | null;

  constructor(
    private readonly input: EngineInput,
    config: OptimizerConfig,
  ) {
    if (input.params.arch.kind !== "concept-cnn") throw new Error("DirectCnnEngine needs a concept-cnn");
    this.shape = cnnShape(input.params.arch);
    this.params = cloneParams(input.params);
    this.rows = input.rows;
    this.E = Float64Array.from(input.embedding);
    const s = this.shape;
    this.tables = s.kernels.map((k, i) => new Float64Array(k * this.rows * s.filters[i]));
    this.grads = s.kernels.map((k, i) =>
      Array.from({ length: k }, () => new SparseGrad(this.rows, s.filters[i])),
    );
    this.gConvW = this.params.convW.map((w) => new Float64Array(w.length));
    this.gConvB = this.params.convB.map((b) => new Float64Array(b.length));
    this.gDenseW = new Float64Array(this.params.denseW.length);
    this.gDenseB = new Float64Array(this.params.denseB.length);
    this.gE = input.trainEmbedding ? new Float64Array(this.E.length) : null;
    const ps: Float64Array[] = [];
    const gs: Float64Array[] = [];
    if (this.gE) {
      ps.push(this.E);
      gs.push(this.gE);
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
    this.seen = new Uint8Array(this.rows);
    this.work = new CnnStepWork(this.shape, input.dropoutRng);
    this.distinct = new Int32Array(this.rows);
    this.sparseE = input.trainEmbedding ? null : sparseMatrixRows(this.E, this.rows, s.dim);
  }

  step(idx: Uint32Array, start: number, nb: number): number {
    const s = this.shape;
    const { seqs, labels } = this.input.train;
    const p = this.params;
    // Token tables for the batch's distinct tokens only.
    const nd = collectBatchTokens(seqs, idx, start, nb, this.seen, this.distinct);
    if (this.sparseE) sparseTables(s, p.convW, this.sparseE, this.rows, this.tables, this.distinct, nd);
    else computeTables(s, p.convW, this.E, this.rows, this.tables, this.distinct, nd);
    const needConvGrad = this.input.trainConv || this.gE !== null;
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
      gDenseW: this.gDenseW,
      gDenseB: this.gDenseB,
      grads: needConvGrad ? this.grads : null,
      gConvB: this.gConvB,
    });
    if (needConvGrad) this.tableGradsToWeights();
    this.opt.step(this.optGrads);
    return loss;
  }

  /** dL/dW_ij = E^T G_ij and dL/dE = sum_ij G_ij W_ij^T, over the touched cells only. */
  private tableGradsToWeights(): void {
    tableGradsToWeights(
      this.shape,
      this.grads,
      this.E,
      this.sparseE,
      this.params.convW,
      this.gConvW,
      this.gE,
    );
  }

  probs(seqs: TokenSequences): Float64Array {
    const p = this.params;
    computeTables(this.shape, p.convW, this.E, this.rows, this.tables, null, 0);
    // Rank the tables once per scoring when that beats scanning every token of every encounter
    // (validation after each epoch: thousands of encounters against one ranking).
    const sorted = rankingPays(this.rows, seqs) ? rankTables(this.shape, this.tables, this.rows) : null;
    return cnnProbs(this.shape, this.tables, this.rows, p.convB, p.denseW, p.denseB, seqs, null, sorted);
  }

  capture(): DirectCheckpoint {
    return { params: cloneParams(this.params), embedding: this.gE ? this.E.slice() : null };
  }

  export(cp: DirectCheckpoint): { params: ModelParams; embedding: Float64Array | null } {
    return { params: cloneParams(cp.params), embedding: cp.embedding ? cp.embedding.slice() : null };
  }
}

/** computeTables for the listed tokens from a CSR embedding: non-zeros x F per token instead of D x F. */
function sparseTables(
  shape: CnnShape,
  convW: Float64Array[],
  E: SparseRows,
  rows: number,
  tables: Float64Array[],
  only: Int32Array,
  onlyCount: number,
): void {
  const D = shape.dim;
  for (let i = 0; i < shape.kernels.length; i++) {
    const F = shape.filters[i];
    const W = convW[i];
    const T = tables[i];
    for (let j = 0; j < shape.kernels[i]; j++) {
      const tOff = j * rows * F;
      const wOff = j * D * F;
      for (let r = 0; r < onlyCount; r++) {
        const v = only[r];
        const o = tOff + v * F;
        for (let f = 0; f < F; f++) T[o + f] = 0;
        for (let q = E.rowPtr[v]; q < E.rowPtr[v + 1]; q++) {
          const x = E.vals[q];
          const w = wOff + E.cols[q] * F;
          for (let f = 0; f < F; f++) T[o + f] += x * W[w + f];
        }
      }
    }
  }
}

/** Training steps of a run: epochs x iterations. */
export function trainingSteps(settings: TrainSettings): number {
  return settings.epochs * settings.itersPerEpoch;
}

/** Conv taps: sum over branches of filters x kernel size (0 for the logistic baseline). */
export function convTaps(arch: ModelArchitecture): number {
  return arch.kind === "concept-cnn" ? arch.filters.reduce((s, f, i) => s + f * arch.kernelSizes[i], 0) : 0;
}

/**
 * Multiply-adds of the direct engine's run: every step builds the token tables of the batch's
 * distinct tokens (non-zeros per row x taps, twice for the backward) and pools every token (about 3
 * operations per token and tap).
 */
export function directCost(settings: TrainSettings, arch: ModelArchitecture, problem: EngineProblem): number {
  const { rows, meanTokens, density } = problem;
  const FK = convTaps(arch);
  const perRow = Math.max(1, density * arch.embeddingDim);
  const distinct = Math.min(rows, settings.batchSize * Math.max(1, meanTokens));
  return (
    trainingSteps(settings) *
    (distinct * perRow * FK * 2 + settings.batchSize * Math.max(1, meanTokens) * FK * 3)
  );
}

/** The reference engine: any setting of the concept CNN. */
export const DIRECT_ENGINE: EngineSpec = {
  name: "direct",
  supports: (_settings, arch) => (arch.kind === "concept-cnn" ? true : "trains the concept CNN only"),
  cost: directCost,
  create: (input, config) => new DirectCnnEngine(input, config) as Engine<unknown>,
};
