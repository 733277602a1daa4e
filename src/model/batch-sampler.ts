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
