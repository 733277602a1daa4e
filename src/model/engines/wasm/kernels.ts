import { existsSync, readFileSync } from "node:fs";
import { KERNELS_WASM } from "./kernels-path.js";

/*
 * The JS side of the WebAssembly kernels (cnn-kernels.as): the compiled module (loaded once, null
 * when `npm run build` has not built it or CONCEPTBRIDGE_WASM=0), and a heap per engine: a shared
 * WebAssembly.Memory with a bump allocator, whose typed views the engine's JS code reads and writes
 * directly. Shared memory keeps every view valid when the memory grows (a SharedArrayBuffer is never
 * detached), and lets a helper thread (helper-thread.ts) run the same kernels on the same data.
 * Each kernel's plain-JS reference is named in cnn-kernels.as; engines fall back to it without wasm.
 */

/** The kernels' exports, pointers being byte offsets into the heap. */
export interface KernelExports {
  sgemm(A: number, ids: number, n: number, D: number, W: number, Fp: number, T: number): void;
  tablesF64(E: number, ids: number, n: number, D: number, W: number, F: number, T: number): void;
  exactCells(E: number, e32: number, D: number, Wt: number, cells: number, n: number, out: number): void;
  screenKernel1(
    T32: number,
    Fp: number,
    F: number,
    rowOf: number,
    bOff: number,
    nb: number,
    margin: number,
    thr: number,
    out: number,
    cap: number,
  ): number;
  maxPoolRows(
    T: number,
    F: number,
    tokens: number,
    offsets: number,
    start: number,
    nb: number,
    out: number,
  ): void;
  accumulateRows(out: number, src: number, s32: number, D: number, cells: number, n: number): void;
  toF32Rows(E: number, A: number, ids: number, n: number, D: number, norms: number): void;
  lazyCatchUp(E: number, buf: number, ids: number, coef: number, n: number, D: number): void;
  lazySgdStep(
    E: number,
    buf: number,
    g: number,
    listed: number,
    ids: number,
    n: number,
    D: number,
    lr: number,
    mu: number,
    wd: number,
    nesterov: number,
    first: number,
  ): void;
  logisticTable(
    E: number,
    zf: number,
    ids: number,
    n: number,
    D: number,
    W: number,
    C: number,
    T: number,
  ): void;
  logisticGradW(E: number, ids: number, n: number, D: number, G: number, C: number, gW: number): void;
}

export type KernelName = keyof KernelExports;

/*
 * The few WebAssembly JS-API types used here: the project compiles against lib ES2022 without DOM,
 * whose declarations are where TypeScript keeps them.
 */
/** A compiled module (opaque here). */
export interface WasmModule {
  readonly __wasmModule?: never;
}
/** A (shared) linear memory. */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let cached: WasmModule | null | undefined;

/** The compiled kernels, or null (not built, disabled, or this runtime lacks SIMD / shared memory). */
export function kernelModule(): WasmModule | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.env.CONCEPTBRIDGE_WASM === "0" || !existsSync(KERNELS_WASM)) return null;
  try {
    cached = new WA.Module(readFileSync(KERNELS_WASM));
  } catch {
    cached = null;
  }
  return cached;
}

const PAGE = 65536;
/** The module's declared maximum (asc --maximumMemory): 4 GiB. */
const MAX_PAGES = 65536;

/** A typed region of the heap. */
export interface Region<T> {
  ptr: number;
  view: T;
}

/**
 * One engine's wasm memory and kernel instance. Regions are never freed one by one: the heap lives
 * as long as its engine.
 */
export class WasmHeap {
  readonly memory: WasmMemory;
  readonly k: KernelExports;
  readonly module: WasmModule;
  private top = 64;
  /** How often the memory grew: a helper thread's instance is remade after growth (helper-thread.ts). */
  grown = 0;

  constructor(module: WasmModule, initialBytes = PAGE) {
    this.module = module;
    this.memory = new WA.Memory({
      initial: Math.max(1, Math.ceil(initialBytes / PAGE)),
      maximum: MAX_PAGES,
      shared: true,
    });
    const instance = new WA.Instance(module, { env: { memory: this.memory } });
    this.k = instance.exports as unknown as KernelExports;
  }

  /** Bytes allocated so far. */
  get bytes(): number {
    return this.top;
  }

  private alloc(bytes: number): number {
    // Arithmetic, not bit operations: offsets pass 2^31 in heaps over 2 GB.
    const ptr = Math.ceil(this.top / 16) * 16;
    const end = ptr + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES)
        throw new RangeError(`wasm heap would exceed ${MAX_PAGES * PAGE} bytes`);
      this.memory.grow(pages);
      this.grown++;
    }
    this.top = end;
    return ptr;
  }

  f64(n: number): Region<Float64Array> {
    const ptr = this.alloc(n * 8);
    return { ptr, view: new Float64Array(this.memory.buffer, ptr, n) };
  }

  f32(n: number): Region<Float32Array> {
    const ptr = this.alloc(n * 4);
    return { ptr, view: new Float32Array(this.memory.buffer, ptr, n) };
  }

  i32(n: number): Region<Int32Array> {
    const ptr = this.alloc(n * 4);
    return { ptr, view: new Int32Array(this.memory.buffer, ptr, n) };
  }

  u8(n: number): Region<Uint8Array> {
    const ptr = this.alloc(n);
    return { ptr, view: new Uint8Array(this.memory.buffer, ptr, n) };
  }

  u32(n: number): Region<Uint32Array> {
    const ptr = this.alloc(n * 4);
    return { ptr, view: new Uint32Array(this.memory.buffer, ptr, n) };
  }
}

/** A heap for an engine, or null when the kernels are not available. */
export function createHeap(initialBytes?: number): WasmHeap | null {
  const m = kernelModule();
  if (!m) return null;
  try {
    return new WasmHeap(m, initialBytes);
  } catch {
    // No shared wasm memory here (or no room for it): the engine runs its JS reference.
    return null;
  }
}
