import type { TokenSequences } from "../../src/concepts/vocabulary.js";
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
