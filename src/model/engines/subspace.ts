import type { TokenSequences } from "../../concepts/vocabulary.js";
import { cnnShape, type ModelParams } from "../params.js";
import { type DirectCheckpoint, DirectCnnEngine, directCost } from "./direct.js";
import type { Engine, EngineInput, EngineSpec } from "./engine.js";
import type { OptimizerConfig } from "./optimizer.js";
import { orthonormalBasis } from "./orthonormal-basis.js";

/*
 * Exact training of a TRAINABLE embedding with SGD in a smaller space.
 *
 * With the embedding E (rows x D) and the conv weights W (per slice D x F) both trained, the model
 * sees them only through products E W. Their SGD gradients are G W^T (for E: rows of E move along
 * columns of W) and E^T G (for W: columns of W move along rows of E), so every iterate stays in
 * S = span(rows of E0, columns of W0), of dimension r <= rows + sum(k F). With Q (D x r) an
 * orthonormal basis of S, E = Ê Q^T and W = Q Ŵ hold at every step, E W = Ê Ŵ, and SGD with
 * momentum, Nesterov and weight decay (linear, the same scalar on every coordinate) maps the
 * r-space trajectory to the D-space one exactly (up to rounding). So the direct engine runs on
 * (Ê0 = E0 Q, Ŵ0 = Q^T W0) at r / D of its cost: for 129 BERT tokens (D = 768) and 100 filters,
 * r = 229. Adam is not rotation-invariant (per-coordinate scaling): it stays in D-space.
 */

export class SubspaceCnnEngine implements Engine<DirectCheckpoint> {
  readonly name = "subspace";
  private readonly inner: DirectCnnEngine;
  /** D x r, row-major. */
  private readonly Q: Float64Array;
  readonly r: number;
  private readonly D: number;

  constructor(
    private readonly input: EngineInput,
    config: OptimizerConfig,
  ) {
    const arch = input.params.arch;
    if (arch.kind !== "concept-cnn") throw new Error("SubspaceCnnEngine needs a concept-cnn");
    if (config.kind !== "sgd")
      throw new Error("the subspace engine needs SGD (Adam is not rotation-invariant)");
    const s = cnnShape(arch);
    const D = s.dim;
    const rows = input.rows;
    const E = input.embedding;
    const p = input.params;
    const { Q, r } = orthonormalBasis(spanningVectors(E, rows, p, s.kernels, s.filters, D), D);
    this.Q = Q;
    this.r = r;
    this.D = D;
    const Ehat = new Float64Array(rows * r);
    for (let v = 0; v < rows; v++) multiplyRow(E, v * D, Q, D, r, Ehat, v * r);
    const convW = p.convW.map((W, i) => {
      const F = s.filters[i];
      const out = new Float64Array(s.kernels[i] * r * F);
      for (let j = 0; j < s.kernels[i]; j++) projectSlice(W, j * D * F, Q, D, r, F, out, j * r * F);
      return out;
    });
    const params: ModelParams = { ...p, arch: { ...arch, embeddingDim: r }, convW };
    this.inner = new DirectCnnEngine({ ...input, params, embedding: Ehat }, config);
  }

  step(idx: Uint32Array, start: number, nb: number): number {
    return this.inner.step(idx, start, nb);
  }

  probs(seqs: TokenSequences): Float64Array {
    return this.inner.probs(seqs);
  }

  capture(): DirectCheckpoint {
    return this.inner.capture();
  }

  /** Back to D-space: W = Q Ŵ, E = Ê Q^T. */
  export(cp: DirectCheckpoint): { params: ModelParams; embedding: Float64Array | null } {
    const { params, embedding } = this.inner.export(cp);
    const { Q, r, D } = this;
    const arch = this.input.params.arch;
    if (arch.kind !== "concept-cnn") throw new Error("unreachable");
    const convW = params.convW.map((Wh, i) => {
      const F = arch.filters[i];
      const W = new Float64Array(arch.kernelSizes[i] * D * F);
      for (let j = 0; j < arch.kernelSizes[i]; j++) {
        for (let d = 0; d < D; d++) {
          const w = j * D * F + d * F;
          for (let c = 0; c < r; c++) {
            const q = Q[d * r + c];
            if (q === 0) continue;
            const h = j * r * F + c * F;
            for (let f = 0; f < F; f++) W[w + f] += q * Wh[h + f];
          }
        }
      }
      return W;
    });
    let E: Float64Array | null = null;
    if (embedding) {
      const rows = this.input.rows;
      E = new Float64Array(rows * D);
      for (let v = 0; v < rows; v++)
        for (let d = 0; d < D; d++) {
          let sum = 0;
          for (let c = 0; c < r; c++) sum += embedding[v * r + c] * Q[d * r + c];
          E[v * D + d] = sum;
        }
    }
    return { params: { ...params, arch, convW }, embedding: E };
  }
}

/** Rows of E0 (token vectors) then columns of every conv slice: the vectors S is spanned by. */
function* spanningVectors(
  E: ArrayLike<number>,
  rows: number,
  p: ModelParams,
  kernels: number[],
  filters: number[],
  D: number,
): Generator<{ data: ArrayLike<number>; offset: number; stride: number }> {
  for (let v = 1; v < rows; v++) yield { data: E, offset: v * D, stride: 1 };
  for (let i = 0; i < kernels.length; i++) {
    const F = filters[i];
    for (let j = 0; j < kernels[i]; j++)
      for (let f = 0; f < F; f++) yield { data: p.convW[i], offset: j * D * F + f, stride: F };
  }
}

/** out[o + c] = sum_d x[xo + d] Q[d, c]. */
function multiplyRow(
  x: ArrayLike<number>,
  xo: number,
  Q: Float64Array,
  D: number,
  r: number,
  out: Float64Array,
  o: number,
): void {
  for (let d = 0; d < D; d++) {
    const a = x[xo + d];
    if (a === 0) continue;
    const q = d * r;
    for (let c = 0; c < r; c++) out[o + c] += a * Q[q + c];
  }
}

/** Ŵ slice (r x F) = Q^T W slice (D x F). */
function projectSlice(
  W: Float64Array,
  wo: number,
  Q: Float64Array,
  D: number,
  r: number,
  F: number,
  out: Float64Array,
  o: number,
): void {
  for (let d = 0; d < D; d++) {
    const w = wo + d * F;
    for (let c = 0; c < r; c++) {
      const q = Q[d * r + c];
      if (q === 0) continue;
      const h = o + c * F;
      for (let f = 0; f < F; f++) out[h + f] += q * W[w + f];
    }
  }
}

/** Dimension of S before orthogonalisation (an upper bound on r), for the engine choice. */
export function subspaceBound(rows: number, kernels: number[], filters: number[]): number {
  return rows - 1 + kernels.reduce((s, k, i) => s + k * filters[i], 0);
}

/**
 * The subspace engine runs the direct one in r <= bound dimensions; orthogonalising its basis eats
 * about a fifth of D's worth, so it pays when bound < 0.8 D. Its cost is the direct engine's scaled by
 * bound / (0.8 D), clamped so that a ratio rounding to 1 stays on the side that the comparison
 * bound < 0.8 D puts it (the choice ranks ties in favour of the direct engine).
 */
export const SUBSPACE_ENGINE: EngineSpec = {
  name: "subspace",
  supports: (settings, arch) =>
    arch.kind === "concept-cnn" && !settings.freeze.embedding && settings.optimizer === "sgd"
      ? true
      : "needs a trained embedding and SGD",
  cost: (settings, arch, problem) => {
    if (arch.kind !== "concept-cnn") return Number.POSITIVE_INFINITY;
    const direct = directCost(settings, arch, problem);
    const bound = subspaceBound(problem.rows, arch.kernelSizes, arch.filters);
    const limit = 0.8 * arch.embeddingDim;
    const scaled = direct * (bound / limit);
    // direct * (1 - 2^-52) is the largest double below `direct` (direct > 0).
    return bound < limit ? Math.min(scaled, direct * (1 - 2 ** -52)) : Math.max(scaled, direct);
  },
  create: (input, config) => new SubspaceCnnEngine(input, config) as Engine<unknown>,
};
