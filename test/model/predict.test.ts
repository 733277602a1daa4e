import assert from "node:assert/strict";
import { test } from "node:test";
import { cnnProbs, computeTables, rankTables } from "../../src/model/engines/cnn-core.js";
import { cnnShape, initParams, paramsToWeights } from "../../src/model/params.js";
import { predictProba } from "../../src/model/predict.js";
import type { ModelArchitecture, ModelSnapshot } from "../../src/model/types.js";
import { InputError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { randomProblem } from "./fixtures.js";

const f32 = (shape: number[], v: number[]) => ({ shape, data: Float32Array.from(v) });

test("kernel-1 CNN forward equals the PyTorch peer's (padding masked out of the max-pool, empty -> 0)", () => {
  // Reference: torch float64, the CNN.forward of ../shared/bench/torch_reference.py with
  // emb = [[0,0,0],[.5,-1,.2],[.3,.8,-.6],[-.7,.1,.9],[1.2,.4,-.3]], conv W (F x D) = [[.4,-.2,.7],[-.5,.6,.1]],
  // b = [.05,-.3], fc W (C x F) = [[.9,-.4],[-.6,.8]], fc b = [.1,-.1],
  // ids = [[1,0,3,0],[0,0,0,0],[2,4,0,0],[4,0,0,0]], eval mode, softmax.
  const snapshot: ModelSnapshot = {
    format: "conceptbridge.model",
    version: 1,
    architecture: {
      kind: "concept-cnn",
      embeddingDim: 3,
      kernelSizes: [1],
      filters: [2],
      numClasses: 2,
      dropout: 0.5,
    },
    weights: {
      "conv0.weight": f32([1, 3, 2], [0.4, -0.5, -0.2, 0.6, 0.7, 0.1]),
      "conv0.bias": f32([2], [0.05, -0.3]),
      "dense.weight": f32([2, 2], [0.9, -0.6, -0.4, 0.8]),
      "dense.bias": f32([2], [0.1, -0.1]),
    },
    embedding: { providerId: "t", dimension: 3, trainable: false },
    classes: ["no", "yes"],
    vocabulary: [],
  };
  const emb = [0, 0, 0, 0.5, -1, 0.2, 0.3, 0.8, -0.6, -0.7, 0.1, 0.9, 1.2, 0.4, -0.3];
  const seqs = {
    count: 4,
    offsets: Uint32Array.from([0, 2, 2, 4, 5]),
    tokens: Uint32Array.from([1, 3, 2, 4, 4]),
  };
  const p = predictProba(snapshot, { rows: 5, dim: 3, data: Float32Array.from(emb) }, seqs);
  const torch = [
    0.6995172276624275, 0.30048277233757253, 0.549833997312478, 0.4501660026875221, 0.6364525402815664,
    0.36354745971843366, 0.6364525402815664, 0.36354745971843366,
  ];
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(p[i] - torch[i]) < 1e-6, `${i}: ${p[i]} vs ${torch[i]}`);
  assert.throws(
    () => predictProba(snapshot, { rows: 4, dim: 3, data: new Float32Array(12) }, seqs),
    InputError,
  );
});

test("max-pool by ranking gives exactly the scanned max-pool", () => {
  for (const [rows, maxLen] of [
    [12, 20],
    [40, 3],
  ]) {
    const arch: ModelArchitecture = {
      kind: "concept-cnn",
      embeddingDim: 6,
      kernelSizes: [1, 2],
      filters: [7, 4],
      numClasses: 3,
      dropout: 0.5,
    };
    const prob = randomProblem(rows, rows, 6, 200, 3, maxLen);
    const params = initParams(arch, new Rng(rows));
    const shape = cnnShape(arch);
    const tables = shape.kernels.map((k, i) => new Float64Array(k * rows * shape.filters[i]));
    computeTables(shape, params.convW, prob.embedding, rows, tables, null, 0);
    const args = [shape, tables, rows, params.convB, params.denseW, params.denseB, prob.seqs, null] as const;
    const scanned = cnnProbs(...args);
    const ranked = cnnProbs(...args, rankTables(shape, tables, rows));
    assert.deepEqual(ranked, scanned);
  }
});

test("predictProba of a snapshot equals the mean-logistic formula", () => {
  const arch: ModelArchitecture = { kind: "mean-logistic", embeddingDim: 2, numClasses: 2 };
  const params = initParams(arch, new Rng(1));
  const snapshot: ModelSnapshot = {
    format: "conceptbridge.model",
    version: 1,
    architecture: arch,
    weights: paramsToWeights(params),
    embedding: { providerId: "t", dimension: 2, trainable: false },
    classes: ["a", "b"],
    vocabulary: [],
  };
  const E = Float32Array.from([0, 0, 1, 2, -1, 0.5]);
  const p = predictProba(
    snapshot,
    { rows: 3, dim: 2, data: E },
    {
      count: 2,
      offsets: Uint32Array.from([0, 2, 2]),
      tokens: Uint32Array.from([1, 2]),
    },
  );
  const W = snapshot.weights["dense.weight"].data;
  const b = snapshot.weights["dense.bias"].data;
  const x = [0, 1.25]; // mean of (1, 2) and (-1, 0.5)
  const l0 = x[0] * W[0] + x[1] * W[2] + b[0];
  const l1 = x[0] * W[1] + x[1] * W[3] + b[1];
  assert.ok(Math.abs(p[1] - 1 / (1 + Math.exp(l0 - l1))) < 1e-12);
  // No tokens: the bias alone.
  assert.ok(Math.abs(p[3] - 1 / (1 + Math.exp(b[0] - b[1]))) < 1e-12);
});
