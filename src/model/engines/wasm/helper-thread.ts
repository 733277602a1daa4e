import { availableParallelism } from "node:os";
import { isMainThread, MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import type { KernelName, WasmHeap } from "./kernels.js";

/*
 * A second thread for the wasm kernels: one process-wide worker, bound to one heap at a time (the
 * heap's shared memory and the compiled module are posted to it once per heap, and it instantiates
 * the same kernels on the same memory). A call splits a kernel's rows: the worker runs one part while
 * the calling thread runs the other, then the caller waits for it. Requests and completions go
 * through a small SharedArrayBuffer with Atomics.wait / notify (a few microseconds), so a training
 * step stays synchronous. The worker is unref'd: it never keeps the process alive.
 *
 * Used only on the main thread of a machine with more than one core: a training inside a worker pool
 * (src/experiment) already shares the cores with its sibling workers. Results never depend on it:
 * each output element is computed by one thread with the same operations.
 */

const SEQ = 0;
const DONE = 1;
const OP = 2;
/** Set by the worker when a kernel threw (a trap): the caller retires it and runs the kernel itself. */
const FAILED = 3;
/** A request unanswered this long retires the helper (it should take milliseconds). */
const HELPER_TIMEOUT_MS = 20_000;
/** Argument slots (float64: pointers and counts are exact). */
const ARGS = 12;

/** Worker source (plain JS, run with eval so it needs no loader under tsx or from dist/). */
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
const { ctl, port, names } = workerData;
const state = new Int32Array(ctl, 0, 8);
const args = new Float64Array(ctl, 64, ${ARGS});
let k = null;
let seen = 0;
for (;;) {
  // Timed: a missed wake-up costs at most 50 ms, never a hang.
  Atomics.wait(state, ${SEQ}, seen, 50);
  const seq = Atomics.load(state, ${SEQ});
  if (seq === seen) continue;
  seen = seq;
  const op = state[${OP}];
  if (op < 0) break;
  try {
    if (op === 0) {
      const msg = receiveMessageOnPort(port).message;
      k = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory } }).exports;
    } else {
      const a = args;
      k[names[op - 1]](a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]);
    }
  } catch (e) {
    state[${FAILED}] = 1;
  }
  Atomics.store(state, ${DONE}, seq);
  Atomics.notify(state, ${DONE});
}
`;

const NAMES: KernelName[] = [
  "sgemm",
  "tablesF64",
  "exactCells",
  "accumulateRows",
  "toF32Rows",
  "screenKernel1",
  "maxPoolRows",
];

class HelperThread {
  private readonly state: Int32Array;
  private readonly args: Float64Array;
  private readonly port: MessagePort;
  private bound: WasmHeap | null = null;
  private boundGrowth = -1;
  private seq = 0;
  private busy = false;
  /** Retired after a timeout or a failed kernel: everything then runs on the calling thread. */
  private dead = false;
  private pending: { heap: WasmHeap; name: KernelName; args: number[] } | null = null;

  constructor() {
    const ctl = new SharedArrayBuffer(64 + ARGS * 8);
    this.state = new Int32Array(ctl, 0, 8);
    this.args = new Float64Array(ctl, 64, ARGS);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ctl, port: port2, names: NAMES },
      transferList: [port2],
      // Plain JS: no loader hooks (tsx) needed in the worker.
      execArgv: [],
    });
    worker.unref();
    port1.unref();
  }

  private post(op: number): void {
    this.seq++;
    this.state[OP] = op;
    Atomics.store(this.state, SEQ, this.seq);
    Atomics.notify(this.state, SEQ);
  }

  /**
   * Wait for the worker's current request. Timed waits (a missed wake-up costs 50 ms); after
   * HELPER_TIMEOUT_MS without an answer, or when the worker reports a failed kernel, the helper is
   * retired and the pending kernel runs here instead: a result never depends on the thread.
   */
  private wait(): boolean {
    const t0 = Date.now();
    while (Atomics.load(this.state, DONE) !== this.seq) {
      Atomics.wait(this.state, DONE, this.state[DONE], 50);
      if (Date.now() - t0 > HELPER_TIMEOUT_MS) {
        this.dead = true;
        break;
      }
    }
    this.busy = false;
    if (Atomics.load(this.state, FAILED) !== 0) this.dead = true;
    if (this.dead && this.pending) {
      const { heap, name, args } = this.pending;
      this.pending = null;
      (heap.k[name] as (...a: number[]) => void)(...args);
    }
    this.pending = null;
    return !this.dead;
  }

  /** Start kernel `name` on the worker (for `heap`); finish() waits for it. */
  start(heap: WasmHeap, name: KernelName, args: number[]): void {
    if (this.busy) this.wait();
    if (this.dead) {
      (heap.k[name] as (...a: number[]) => void)(...args);
      return;
    }
    // A fresh instance after the memory grew: the worker's old one may still see the old size.
    if (this.bound !== heap || this.boundGrowth !== heap.grown) {
      this.port.postMessage({ module: heap.module, memory: heap.memory });
      this.post(0);
      if (!this.wait()) {
        (heap.k[name] as (...a: number[]) => void)(...args);
        return;
      }
      this.bound = heap;
      this.boundGrowth = heap.grown;
    }
    this.args.fill(0);
    for (let i = 0; i < args.length; i++) this.args[i] = args[i];
    this.pending = { heap, name, args };
    this.post(NAMES.indexOf(name) + 1);
    this.busy = true;
  }

  finish(): void {
    if (this.busy) this.wait();
  }
}

let helper: HelperThread | null | undefined;

/** The process's helper thread, or null where a second thread would not help (see above). */
export function helperThread(): HelperThread | null {
  if (helper !== undefined) return helper;
  helper = null;
  if (process.env.CONCEPTBRIDGE_THREADS === "1" || !isMainThread || availableParallelism() < 2) return null;
  try {
    helper = new HelperThread();
  } catch {
    helper = null;
  }
  return helper;
}

export type { HelperThread };
