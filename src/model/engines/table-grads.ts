import type { CnnShape } from "../params.js";
import type { SparseRows } from "./gram.js";
import type { SparseGrad } from "./sparse-grad.js";

/**
 * Table gradients to weight gradients (the reference; engines/screened.ts runs the same operations
 * in wasm): dL/dW_ij = E^T G_ij and, when gE is given, dL/dE = sum_ij G_ij W_ij^T, over the touched
 * cells of each G_ij in the order they were touched. gConvW and gE are overwritten; every G is
 * cleared. With a CSR embedding (a frozen, mostly-zero one), only its non-zeros are visited.
 */
export function tableGradsToWeights(
  s: CnnShape,
  grads: SparseGrad[][],
  E: Float64Array,
  sparseE: SparseRows | null,
  convW: Float64Array[],
  gConvW: Float64Array[],
  gE: Float64Array | null,
): void {
  const D = s.dim;
  if (gE) gE.fill(0);
  for (let i = 0; i < s.kernels.length; i++) {
    const F = s.filters[i];
    const gW = gConvW[i];
    const W = convW[i];
    gW.fill(0);
    for (let j = 0; j < s.kernels[i]; j++) {
      const G = grads[i][j];
      const off = j * D * F;
      for (let c = 0; c < G.count; c++) {
        const cell = G.touched[c];
        const g = G.data[cell];
        const v = (cell / F) | 0;
        const f = cell - v * F;
        const e = v * D;
        const sp = sparseE;
        if (sp)
          for (let q = sp.rowPtr[v]; q < sp.rowPtr[v + 1]; q++)
            gW[off + sp.cols[q] * F + f] += g * sp.vals[q];
        else for (let d = 0; d < D; d++) gW[off + d * F + f] += g * E[e + d];
        if (gE) for (let d = 0; d < D; d++) gE[e + d] += g * W[off + d * F + f];
      }
      G.clear();
    }
  }
}
