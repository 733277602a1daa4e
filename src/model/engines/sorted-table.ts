/**
 * Max-pool by ranking (kernel size 1): for each filter, the vocabulary sorted by its table value,
 * highest first. The max over an encounter's tokens is then the first token in that order that the
 * encounter contains: with L of V tokens present that is found after about V / (L + 1) checks instead
 * of L comparisons (influenza-dtl: ~1 instead of 63). Training changes the table a little per step,
 * so the order is kept up to date by insertion sort, which is linear on an almost sorted list.
 * Callers cap the scan and fall back to a plain scan, so a bad fit costs at most twice a scan.
 */
export class SortedTokenTable {
  /** order[f * n + r] = token id (1 .. rows - 1) of rank r for filter f; n = rows - 1 (no padding). */
  readonly order: Int32Array;
  /** keys[f * n + r] = table value of that token. */
  readonly keys: Float64Array;
  /** rank[v * F + f] = position of token v in filter f's order (the inverse of `order`). */
  readonly rank: Int32Array;
  private initialized = false;

  constructor(
    readonly rows: number,
    readonly filters: number,
  ) {
    this.order = new Int32Array((rows - 1) * filters);
    this.keys = new Float64Array((rows - 1) * filters);
    this.rank = new Int32Array(rows * filters);
  }

  /** Re-rank from a rows x F table (row 0 = padding, left out). */
  update(table: Float64Array): void {
    const F = this.filters;
    const n = this.rows - 1;
    const { order, keys } = this;
    if (!this.initialized) {
      for (let f = 0; f < F; f++) {
        const ids = Array.from({ length: n }, (_, r) => r + 1);
        ids.sort((a, b) => table[b * F + f] - table[a * F + f] || a - b);
        for (let r = 0; r < n; r++) {
          order[f * n + r] = ids[r];
          this.rank[ids[r] * F + f] = r;
        }
      }
      this.initialized = true;
    }
    for (let f = 0; f < F; f++) {
      const o = f * n;
      for (let r = 0; r < n; r++) keys[o + r] = table[order[o + r] * F + f];
    }
    this.resort();
  }

  /**
   * Restore the order after `keys` were changed in place (keys[f * n + rank[v * F + f]] = new value
   * of token v, as the token-space SGD step writes them): insertion sort, descending, stable.
   */
  resort(): void {
    const F = this.filters;
    const n = this.rows - 1;
    const { order, keys, rank } = this;
    for (let f = 0; f < F; f++) {
      const o = f * n;
      for (let r = 1; r < n; r++) {
        const kv = keys[o + r];
        if (!(keys[o + r - 1] < kv)) continue;
        const tv = order[o + r];
        let q = r - 1;
        while (q >= 0 && keys[o + q] < kv) {
          keys[o + q + 1] = keys[o + q];
          const moved = order[o + q];
          order[o + q + 1] = moved;
          rank[moved * F + f] = q + 1;
          q--;
        }
        keys[o + q + 1] = kv;
        order[o + q + 1] = tv;
        rank[tv * F + f] = q + 1;
      }
    }
  }
}
