import { InputError } from "../util/errors.js";
import type { Rng } from "../util/rng.js";
import type { CnnArchitecture, LogisticArchitecture } from "./architecture.js";
import type { ModelArchitecture, Tensor } from "./types.js";

/**
 * Trainable weights in float64 (training accumulates thousands of small updates; float32 is only
 * the storage format of model files).
 *
 * concept-cnn: per branch i, `convW[i]` has layout [j][d][f] (kernel offset j, embedding dim d,
 * filter f), `convB[i]` [f]; `denseW` [sum(F)][C], `denseB` [C]. mean-logistic: no conv, `denseW` [D][C].
 */
export interface ModelParams {
  arch: ModelArchitecture;
  convW: Float64Array[];
  convB: Float64Array[];
  denseW: Float64Array;
  denseB: Float64Array;
}

/** Derived sizes of a CNN: branch offsets into the concatenated pooled feature vector. */
export interface CnnShape {
  dim: number;
  kernels: number[];
  filters: number[];
  offsets: number[];
  features: number;
  classes: number;
  dropout: number;
}

export function cnnShape(a: CnnArchitecture): CnnShape {
  const offsets: number[] = [];
  let features = 0;
  for (const f of a.filters) {
    offsets.push(features);
    features += f;
  }
  return {
    dim: a.embeddingDim,
    kernels: [...a.kernelSizes],
    filters: [...a.filters],
    offsets,
    features,
    classes: a.numClasses,
    dropout: a.dropout,
  };
}

/** Input width of the dense layer. */
export function denseInputs(a: ModelArchitecture): number {
  return a.kind === "concept-cnn" ? a.filters.reduce((s, f) => s + f, 0) : a.embeddingDim;
}

/**
 * PyTorch's default initialisation (kaiming_uniform with a = sqrt(5) for weights, which is
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for biases): fan_in = D * k for a Conv1d
 * branch, the input width for Linear.
 */
export function initParams(arch: ModelArchitecture, rng: Rng): ModelParams {
  const convW: Float64Array[] = [];
  const convB: Float64Array[] = [];
  const uniform = (n: number, bound: number): Float64Array => {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.uniform(-bound, bound);
    return a;
  };
  if (arch.kind === "concept-cnn") {
    arch.kernelSizes.forEach((k, i) => {
      const F = arch.filters[i];
      const bound = 1 / Math.sqrt(arch.embeddingDim * k);
      convW.push(uniform(k * arch.embeddingDim * F, bound));
      convB.push(uniform(F, bound));
    });
  }
  const fin = denseInputs(arch);
  const bound = 1 / Math.sqrt(fin);
  const denseW = uniform(fin * arch.numClasses, bound);
  const denseB = uniform(arch.numClasses, bound);
  return { arch, convW, convB, denseW, denseB };
}

export function cloneParams(p: ModelParams): ModelParams {
  return {
    arch: p.arch,
    convW: p.convW.map((w) => w.slice()),
    convB: p.convB.map((b) => b.slice()),
    denseW: p.denseW.slice(),
    denseB: p.denseB.slice(),
  };
}

function tensor(shape: number[], data: Float64Array): Tensor {
  return { shape, data: Float32Array.from(data) };
}

/** Weight names and shapes as documented on ModelSnapshot.weights (conv branches by 0-based index). */
export function expectedWeightShapes(arch: ModelArchitecture): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  const C = arch.numClasses;
  if (arch.kind === "concept-cnn") {
    arch.kernelSizes.forEach((k, i) => {
      shapes[`conv${i}.weight`] = [k, arch.embeddingDim, arch.filters[i]];
      shapes[`conv${i}.bias`] = [arch.filters[i]];
    });
  }
  shapes["dense.weight"] = [denseInputs(arch), C];
  shapes["dense.bias"] = [C];
  return shapes;
}

export function paramsToWeights(p: ModelParams): Record<string, Tensor> {
  const shapes = expectedWeightShapes(p.arch);
  const w: Record<string, Tensor> = {};
  p.convW.forEach((cw, i) => {
    w[`conv${i}.weight`] = tensor(shapes[`conv${i}.weight`], cw);
    w[`conv${i}.bias`] = tensor(shapes[`conv${i}.bias`], p.convB[i]);
  });
  w["dense.weight"] = tensor(shapes["dense.weight"], p.denseW);
  w["dense.bias"] = tensor(shapes["dense.bias"], p.denseB);
  return w;
}

/** Check that `weights` has exactly the tensors `arch` needs, with matching shapes and sizes. */
export function checkWeights(arch: ModelArchitecture, weights: Record<string, Tensor>, file?: string): void {
  const shapes = expectedWeightShapes(arch);
  for (const [name, shape] of Object.entries(shapes)) {
    const t = weights[name];
    if (!t) throw new InputError(`missing weight tensor`, { file, field: `weights.${name}` });
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))
      throw new InputError(`shape [${t.shape}] does not match the architecture's [${shape}]`, {
        file,
        field: `weights.${name}`,
      });
    const n = shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n)
      throw new InputError(`has ${t.data.length} values, shape needs ${n}`, {
        file,
        field: `weights.${name}`,
      });
    for (let i = 0; i < n; i++)
      if (!Number.isFinite(t.data[i]))
        throw new InputError(`value ${i} is not finite`, { file, field: `weights.${name}` });
  }
}

export function paramsFromWeights(arch: ModelArchitecture, weights: Record<string, Tensor>): ModelParams {
  checkWeights(arch, weights);
  const f64 = (name: string): Float64Array => Float64Array.from(weights[name].data);
  const convW: Float64Array[] = [];
  const convB: Float64Array[] = [];
  if (arch.kind === "concept-cnn") {
    arch.kernelSizes.forEach((_, i) => {
      convW.push(f64(`conv${i}.weight`));
      convB.push(f64(`conv${i}.bias`));
    });
  }
  return { arch, convW, convB, denseW: f64("dense.weight"), denseB: f64("dense.bias") };
}

export type { CnnArchitecture, LogisticArchitecture };
