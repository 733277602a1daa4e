import { helperThread } from "../../src/model/engines/wasm/helper-thread.js";
import { createHeap } from "../../src/model/engines/wasm/kernels.js";

/*
 * This machine's matrix-multiply peak as our kernels reach it: the screen's float32 SIMD kernel
 * (`sgemm`) on an L2-friendly shape (n x 768 times 768 x 100, rows gathered by index as the engine
 * does), on one thread and on two (the helper thread takes half the rows). GFLOP/s = 2 n D F / s.
 */
export function wasmMatmulPeak(): { oneThread: number; twoThreads: number } | null {
  const heap = createHeap();
  if (!heap) return null;
  const n = 4096;
  const D = 768;
  const F = 100;
  const A = heap.f32(n * D);
  for (let i = 0; i < A.view.length; i++) A.view[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  const W = heap.f32(D * F);
  for (let i = 0; i < W.view.length; i++) W.view[i] = ((i * 40503) % 997) / 997 - 0.5;
  const ids = heap.i32(n);
  for (let i = 0; i < n; i++) ids.view[i] = i;
  const T = heap.f32(n * F);
  const helper = helperThread();
  const run = (threads: number) => {
    const half = threads === 2 && helper ? n >> 1 : n;
    if (half < n)
      helper!.start(heap, "sgemm", [A.ptr, ids.ptr + 4 * half, n - half, D, W.ptr, F, T.ptr + 4 * half * F]);
    heap.k.sgemm(A.ptr, ids.ptr, half, D, W.ptr, F, T.ptr);
    helper?.finish();
  };
  const gflops = (threads: number) => {
    for (let i = 0; i < 5; i++) run(threads);
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) run(threads);
      best = Math.min(best, (performance.now() - t0) / 5);
    }
    return (2 * n * D * F) / best / 1e6;
  };
  return { oneThread: gflops(1), twoThreads: helper ? gflops(2) : Number.NaN };
}

/** The same kind of measurement for PyTorch (MKL / oneDNN sgemm, 2 threads, 2048^3): the machine's practical peak. */
export const TORCH_MATMUL_PEAK_PY = `
import json, time, torch
torch.set_num_threads(2)
a = torch.randn(2048, 2048); b = torch.randn(2048, 2048)
for _ in range(3): a @ b
best = 1e9
for _ in range(7):
    t = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t)
print(json.dumps({"gflops": 2 * 2048 ** 3 / best / 1e9, "threads": torch.get_num_threads()}))
`;
