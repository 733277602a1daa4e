/**
 * A gradient with respect to a token table (rows = vocabulary ids, cols = filters) that is mostly
 * zero: the max-pool routes each (encounter, filter) gradient to ONE token, so a batch touches at most
 * batch x filters cells. Dense storage (cleared cell by cell) plus the list of touched cells, each
 * listed once.
 */
export class SparseGrad {
  readonly data: Float64Array;
  readonly touched: Int32Array;
  private readonly listed: Uint8Array;
  count = 0;

  constructor(
    readonly rows: number,
    readonly cols: number,
  ) {
    this.data = new Float64Array(rows * cols);
    this.touched = new Int32Array(rows * cols);
    this.listed = new Uint8Array(rows * cols);
  }

  add(cell: number, g: number): void {
    if (this.listed[cell] === 0) {
      this.listed[cell] = 1;
      this.touched[this.count++] = cell;
    }
    this.data[cell] += g;
  }

  clear(): void {
    const { data, touched, listed } = this;
    for (let i = 0; i < this.count; i++) {
      data[touched[i]] = 0;
      listed[touched[i]] = 0;
    }
    this.count = 0;
  }
}
