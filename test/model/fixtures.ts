import type { TokenSequences } from "../../src/concepts/vocabulary.js";
import type { Engine, EngineInput } from "../../src/model/engines/engine.js";
import type { OptimizerConfig } from "../../src/model/engines/optimizer.js";
import type { ModelParams } from "../../src/model/params.js";
import { Rng } from "../../src/util/rng.js";

/** A small random problem: rows x D embedding (row 0 zero) and labelled token sequences. */
export interface Problem {
  rows: number;
  dim: number;
  embedding: Float64Array;
  seqs: TokenSequences;
  labels: Int32Array;
}

/**
 * Random sequences of 0..maxLen tokens (some empty, some shorter than 3, repeats allowed) over
 * vocabulary ids 1..rows-1, labels depending on the tokens so training has something to learn.
 */
export function randomProblem(
  seed: number,
  rows: number,
  dim: number,
  n: number,
  classes: number,
  maxLen = 6,
): Problem {
  const r = new Rng(seed);
  const embedding = new Float64Array(rows * dim);
  for (let i = dim; i < embedding.length; i++) embedding[i] = r.normal();
  const offsets = new Uint32Array(n + 1);
  const toks: number[] = [];
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const len = i === 0 ? 0 : i === 1 ? 1 : 1 + r.int(maxLen);
    const votes = new Float64Array(classes);
    for (let t = 0; t < len; t++) {
      const v = 1 + r.int(rows - 1);
      toks.push(v);
      votes[v % classes]++;
    }
    offsets[i + 1] = toks.length;
    // The class whose tokens are most frequent (ties and 10% of labels random).
    let y = r.int(classes);
    for (let c = 0; c < classes; c++) if (votes[c] > votes[y]) y = c;
    labels[i] = r.next() < 0.1 ? r.int(classes) : y;
  }
  return { rows, dim, embedding, seqs: { count: n, offsets, tokens: Uint32Array.from(toks) }, labels };
}

export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]), Math.abs(b[i]));
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return scale > 0 ? d / scale : d;
}

/** An SGD configuration for engine tests: momentum 0.9 with Nesterov and weight decay unless overridden. */
export function sgdConfig(o: Partial<OptimizerConfig> = {}): OptimizerConfig {
  return {
    kind: "sgd",
    lr: 0.05,
    momentum: 0.9,
    nesterov: true,
    weightDecay: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    ...o,
  };
}

/** An engine's input for a random problem: everything trained, no class weights, unless overridden. */
export function engineInput(prob: Problem, params: ModelParams, o: Partial<EngineInput> = {}): EngineInput {
  return {
    params,
    embedding: prob.embedding,
    rows: prob.rows,
    train: { seqs: prob.seqs, labels: prob.labels },
    classWeights: null,
    trainEmbedding: true,
    trainConv: true,
    trainDense: true,
    dropoutRng: new Rng(9),
    ...o,
  };
}

/** Each encounter's mean token vector (the mean-logistic model's input); zeros for an empty one. */
export function meanVectorsOf(prob: Problem): number[][] {
  const { offsets, tokens } = prob.seqs;
  const D = prob.dim;
  return Array.from({ length: prob.seqs.count }, (_, n) => {
    const v = new Array<number>(D).fill(0);
    const len = offsets[n + 1] - offsets[n];
    for (let t = offsets[n]; t < offsets[n + 1]; t++)
      for (let d = 0; d < D; d++) v[d] += prob.embedding[tokens[t] * D + d] / len;
    return v;
  });
}

/** Step two engines on the same random batches; their losses must agree to `tol` (relative). */
export function stepTogether(
  a: Pick<Engine<unknown>, "step">,
  b: Pick<Engine<unknown>, "step">,
  count: number,
  steps: number,
  batch: number,
  tol = 1e-9,
): void {
  const order = new Rng(4);
  for (let s = 0; s < steps; s++) {
    const idx = order.permutation(count).subarray(0, batch);
    const l1 = a.step(idx, 0, batch);
    const l2 = b.step(idx, 0, batch);
    if (!(Math.abs(l1 - l2) <= tol * Math.max(1, Math.abs(l1))))
      throw new Error(`loss at step ${s}: ${l1} vs ${l2}`);
  }
}
