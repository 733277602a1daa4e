import type { TokenSequences } from "../concepts/vocabulary.js";
import type { Rng } from "../util/rng.js";

/**
 * Mini-batches as the PyTorch peer draws them: walk a random permutation of the training set in
 * steps of the batch size and draw a fresh permutation whenever fewer than a batch remain (the
 * remainder is skipped). With fewer encounters than the batch size, every batch is all of them.
 */
export class BatchSampler {
  private order: Uint32Array;
  private pos = 0;
  readonly batchSize: number;

  constructor(
    private readonly n: number,
    batchSize: number,
    private readonly rng: Rng,
  ) {
    this.batchSize = Math.min(batchSize, n);
    this.order = rng.permutation(n);
  }

  /** The next batch as (array, start): encounters array[start .. start + batchSize). */
  next(): { order: Uint32Array; start: number } {
    if (this.pos + this.batchSize > this.n) {
      this.order = this.rng.permutation(this.n);
      this.pos = 0;
    }
    const start = this.pos;
    this.pos += this.batchSize;
    return { order: this.order, start };
  }
}

/**
 * The distinct token ids of batch rows idx[start..start+nb) into `distinct`; returns how many. `seen`
 * (one byte per token id, all zero) is a scratch set and is left all zero again.
 */
export function collectBatchTokens(
  seqs: TokenSequences,
  idx: Uint32Array,
  start: number,
  nb: number,
  seen: Uint8Array,
  distinct: Int32Array,
): number {
  let nd = 0;
  for (let b = 0; b < nb; b++) {
    const n = idx[start + b];
    for (let t = seqs.offsets[n]; t < seqs.offsets[n + 1]; t++) {
      const v = seqs.tokens[t];
      if (seen[v] === 0) {
        seen[v] = 1;
        distinct[nd++] = v;
      }
    }
  }
  for (let r = 0; r < nd; r++) seen[distinct[r]] = 0;
  return nd;
}
