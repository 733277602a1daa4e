import type { OptimizerConfig } from "./optimizer.js";
import type { Region, WasmHeap } from "./wasm/kernels.js";

/*
 * SGD on the rows of a large embedding, applied lazily. A step touches only the batch's tokens, yet
 * torch's SGD moves EVERY row every step: weight decay shrinks it and momentum carries its buffer.
 * For a row with zero gradient one step is linear in (e, m) (row value, momentum buffer), the same
 * 2x2 map for every element:
 *   d = wd e;  m' = mu m + d;  e' = e - lr (d + mu m')      (Nesterov)
 *   => [e'; m'] = [[1 - lr wd (1 + mu), -lr mu^2], [wd, mu]] [e; m]
 *   plain momentum: e' = e - lr m' => [[1 - lr wd, -lr mu], [wd, mu]];  mu = 0: e' = (1 - lr wd) e.
 * So a row untouched for k steps needs A^k once, when it is next read (a batch, a validation pass, a
 * checkpoint), not k full passes over rows x D values: per step the work is the batch's rows only.
 * The buffer starting at 0 makes torch's first step (buffer = d) the same map. Exact in real
 * arithmetic; the rounding differs from stepwise updates (about 1e-16 per step, relative), which is
 * why the engine choice uses this only for vocabularies the reproduction never trains (screened.ts).
 * With a wasm heap (E in it) both passes run as kernels (lazyCatchUp, lazySgdStep) with these
 * operations: the same numbers.
 */
export class LazyRowSgd {
  /** Momentum buffer, rows x D (empty when momentum is 0). */
  private readonly buf: Float64Array;
  private readonly bufPtr: number;
  private coef: Region<Float64Array> | null = null;
  private rowsDue: Region<Int32Array> | null = null;
  /** Steps each row has had applied. */
  private readonly done: Int32Array;
  private t = 0;
  private readonly A: [number, number, number, number];
  private readonly powers = new Map<number, [number, number, number, number]>();

  constructor(
    private readonly E: Float64Array,
    private readonly rows: number,
    private readonly D: number,
    private readonly c: OptimizerConfig,
    /** E's place in this heap (E is its view), for the kernels. */
    private readonly wasm: { heap: WasmHeap; E: number } | null = null,
  ) {
    if (c.kind !== "sgd") throw new Error("LazyRowSgd needs SGD");
    const { lr, momentum: mu, weightDecay: wd, nesterov } = c;
    const buf = wasm && mu > 0 ? wasm.heap.f64(rows * D) : null;
    this.buf = buf ? buf.view : new Float64Array(mu > 0 ? rows * D : 0);
    this.bufPtr = buf ? buf.ptr : 0;
    this.done = new Int32Array(rows);
    this.A =
      mu === 0
        ? [1 - lr * wd, 0, 0, 0]
        : nesterov
          ? [1 - lr * wd * (1 + mu), -lr * mu * mu, wd, mu]
          : [1 - lr * wd, -lr * mu, wd, mu];
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.t;
  }

  /** Bring rows ids[0..n) up to the current step (their pending zero-gradient steps). */
  catchUp(ids: ArrayLike<number>, n: number): void {
    const w = this.wasm;
    if (!w) {
      for (let r = 0; r < n; r++) this.catchUpRow(ids[r]);
      return;
    }
    if (!this.rowsDue || this.rowsDue.view.length < n) {
      this.rowsDue = w.heap.i32(Math.max(n, 1024));
      this.coef = w.heap.f64(4 * Math.max(n, 1024));
    }
    const due = this.rowsDue.view;
    const coef = this.coef!.view;
    let m = 0;
    for (let r = 0; r < n; r++) {
      const v = ids[r];
      const k = this.t - this.done[v];
      if (k === 0) continue;
      this.done[v] = this.t;
      const p = this.power(k);
      due[m] = v;
      coef.set(p, 4 * m);
      m++;
    }
    w.heap.k.lazyCatchUp(w.E, this.bufPtr, this.rowsDue.ptr, this.coef!.ptr, m, this.D);
  }

  /** Bring every row up to the current step. */
  catchUpAll(): void {
    for (let v = 0; v < this.rows; v++) this.catchUpRow(v);
  }

  private catchUpRow(v: number): void {
    const k = this.t - this.done[v];
    if (k === 0) return;
    this.done[v] = this.t;
    const [a, b, c, d] = this.power(k);
    const { E, buf, D } = this;
    const o = v * D;
    if (buf.length === 0) {
      for (let q = o; q < o + D; q++) E[q] *= a;
      return;
    }
    for (let q = o; q < o + D; q++) {
      const e = E[q];
      const m = buf[q];
      E[q] = a * e + b * m;
      buf[q] = c * e + d * m;
    }
  }

  /** A^k (row-major 2x2) by repeated squaring, remembered per k. */
  private power(k: number): [number, number, number, number] {
    const hit = this.powers.get(k);
    if (hit) return hit;
    let r: [number, number, number, number] = [1, 0, 0, 1];
    let p = this.A;
    for (let e = k; e > 0; e >>>= 1) {
      if (e & 1) r = mul(r, p);
      p = mul(p, p);
    }
    if (this.powers.size < 4096) this.powers.set(k, r);
    return r;
  }

  /**
   * One step: every row of ids[0..n) (already caught up) gets torch's SGD update with its gradient
   * row of g (the r-th row when `listed`, else row ids[r]); every other row's step is left pending.
   */
  step(
    ids: ArrayLike<number>,
    n: number,
    g: Float64Array,
    listed: boolean,
    kernel?: { ids: number; g: number },
  ): void {
    const { lr, momentum: mu, weightDecay: wd, nesterov } = this.c;
    const first = this.t === 0;
    this.t++;
    const { E, buf, D } = this;
    const w = this.wasm;
    if (w && kernel) {
      for (let r = 0; r < n; r++) this.done[ids[r]] = this.t;
      w.heap.k.lazySgdStep(
        w.E,
        this.bufPtr,
        kernel.g,
        listed ? 1 : 0,
        kernel.ids,
        n,
        D,
        lr,
        mu,
        wd,
        nesterov ? 1 : 0,
        first ? 1 : 0,
      );
      return;
    }
    for (let r = 0; r < n; r++) {
      const v = ids[r];
      this.done[v] = this.t;
      const o = v * D;
      const go = listed ? r * D : o;
      if (mu === 0) {
        for (let q = 0; q < D; q++) E[o + q] -= lr * (g[go + q] + wd * E[o + q]);
        continue;
      }
      for (let q = 0; q < D; q++) {
        const dq = g[go + q] + wd * E[o + q];
        const m = first ? dq : mu * buf[o + q] + dq;
        buf[o + q] = m;
        E[o + q] -= lr * (nesterov ? dq + mu * m : m);
      }
    }
  }
}

function mul(
  x: [number, number, number, number],
  y: [number, number, number, number],
): [number, number, number, number] {
  return [
    x[0] * y[0] + x[1] * y[2],
    x[0] * y[1] + x[1] * y[3],
    x[2] * y[0] + x[3] * y[2],
    x[2] * y[1] + x[3] * y[3],
  ];
}
