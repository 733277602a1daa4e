import assert from "node:assert/strict";
import { test } from "node:test";
import { paperCnn } from "../../../src/model/architecture.js";
import { computeTables } from "../../../src/model/engines/cnn-core.js";
import { DirectCnnEngine } from "../../../src/model/engines/direct.js";
import type { EngineInput } from "../../../src/model/engines/engine.js";
import { LazyRowSgd } from "../../../src/model/engines/lazy-sgd.js";
import { type OptimizerConfig, sgdStep } from "../../../src/model/engines/optimizer.js";
import { ScreenedCnnEngine } from "../../../src/model/engines/screened.js";
import { kernelModule } from "../../../src/model/engines/wasm/kernels.js";
import { cnnShape, initParams } from "../../../src/model/params.js";
import { trainModel } from "../../../src/model/train.js";
import { trainSettings } from "../../../src/model/train-settings.js";
import type { ModelArchitecture } from "../../../src/model/types.js";
import { Rng } from "../../../src/util/rng.js";
import { engineInput, maxRelDiff, type Problem, randomProblem, sgdConfig } from "../fixtures.js";

/*
 * The screened engine against the reference (direct) engine: same draws, same batches. Frozen
 * embedding (and Adam on a trained one): every loss, weight and probability bit-identical, with the
 * wasm kernels (screen, helper thread) and with their plain-JS references. Trained embedding with
 * SGD (lazy row updates): equal to float32 rounding and far below it. Kernel sizes 1 and 3 (and the
 * Kim branches 2, 3, 4).
 */
const wasm = kernelModule() !== null;
const needsWasm = wasm ? {} : { skip: "wasm kernels not built (npm run build)" };

const cnn = (D: number, kernelSizes: number[], filters: number[], C = 2): ModelArchitecture => ({
  kind: "concept-cnn",
  embeddingDim: D,
  kernelSizes,
  filters,
  numClasses: C,
  dropout: 0.5,
});

/** A problem whose tokens 2 and 3 share one vector (exact ties in every table) with 80-token encounters. */
function problem(seed: number, rows: number, D: number, n: number, C: number, maxLen: number): Problem {
  const p = randomProblem(seed, rows, D, n, C, maxLen);
  for (let d = 0; d < D; d++) p.embedding[3 * D + d] = p.embedding[2 * D + d];
  return p;
}

interface Run {
  losses: number[];
  params: ReturnType<DirectCnnEngine["export"]>;
  probs: Float64Array;
}

function run(
  make: (
    ei: EngineInput,
    c: OptimizerConfig,
  ) => {
    step: DirectCnnEngine["step"];
    capture(): unknown;
    export(cp: never): ReturnType<DirectCnnEngine["export"]>;
    probs: DirectCnnEngine["probs"];
  },
  prob: Problem,
  arch: ModelArchitecture,
  o: Partial<EngineInput>,
  config: OptimizerConfig,
  steps: number,
  batch: number,
): Run {
  const params = initParams(arch, new Rng(5));
  const e = make(engineInput(prob, params, { trainEmbedding: false, ...o }), config);
  const order = new Rng(4);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const idx = order.permutation(prob.seqs.count).subarray(0, batch);
    losses.push(e.step(idx, 0, batch));
  }
  return { losses, params: e.export(e.capture() as never), probs: e.probs(prob.seqs) };
}

const direct = (ei: EngineInput, c: OptimizerConfig) => new DirectCnnEngine(ei, c);
const screened = (ei: EngineInput, c: OptimizerConfig) => new ScreenedCnnEngine(ei, c);
const screenedJs = (ei: EngineInput, c: OptimizerConfig) => new ScreenedCnnEngine(ei, c, { wasm: false });

function assertIdentical(a: Run, b: Run, what: string): void {
  assert.deepEqual(b.losses, a.losses, `${what}: losses`);
  assert.deepEqual(b.params.params.convW, a.params.params.convW, `${what}: conv weights`);
  assert.deepEqual(b.params.params.convB, a.params.params.convB, `${what}: conv biases`);
  assert.deepEqual(b.params.params.denseW, a.params.params.denseW, `${what}: dense weights`);
  assert.deepEqual(b.params.embedding, a.params.embedding, `${what}: embedding`);
  assert.deepEqual(b.probs, a.probs, `${what}: probabilities`);
}

const shapes: [string, ModelArchitecture][] = [
  ["kernel 1", cnn(24, [1], [20])],
  ["kernel 3", cnn(24, [3], [12], 3)],
  ["kernels 2, 3, 4", cnn(16, [2, 3, 4], [6, 5, 7], 3)],
];

for (const [name, arch] of shapes) {
  test(
    `frozen embedding, ${name}: the screened engine equals the direct one bit for bit (forward, gradients, 25 steps)`,
    needsWasm,
    () => {
      const prob = problem(11, 300, arch.embeddingDim, 400, arch.numClasses, 80);
      const ref = run(direct, prob, arch, {}, sgdConfig(), 25, 48);
      assertIdentical(ref, run(screened, prob, arch, {}, sgdConfig(), 25, 48), "wasm");
      // One step: the weights after it are the gradients' image.
      assertIdentical(
        run(direct, prob, arch, {}, sgdConfig(), 1, 48),
        run(screened, prob, arch, {}, sgdConfig(), 1, 48),
        "1 step",
      );
    },
  );

  test(`frozen embedding, ${name}: the plain-JS fallback equals the direct engine bit for bit`, () => {
    const prob = problem(12, 120, arch.embeddingDim, 200, arch.numClasses, 12);
    assertIdentical(
      run(direct, prob, arch, {}, sgdConfig(), 12, 32),
      run(screenedJs, prob, arch, {}, sgdConfig(), 12, 32),
      "js",
    );
  });

  test(`trained embedding with Adam, ${name}: bit-identical (eager updates)`, needsWasm, () => {
    const prob = problem(13, 150, arch.embeddingDim, 300, arch.numClasses, 20);
    const adam: OptimizerConfig = { ...sgdConfig(), kind: "adam", lr: 0.01 };
    const o = { trainEmbedding: true };
    assertIdentical(
      run(direct, prob, arch, o, adam, 10, 32),
      run(screened, prob, arch, o, adam, 10, 32),
      "adam",
    );
  });

  test(`trained embedding with SGD, ${name}: lazy updates equal the direct engine to rounding`, () => {
    const prob = problem(14, 200, arch.embeddingDim, 300, arch.numClasses, 20);
    const o = { trainEmbedding: true };
    const ref = run(direct, prob, arch, o, sgdConfig(), 20, 32);
    // The lazy update's wasm kernels and its JS reference: the same numbers.
    if (wasm)
      assertIdentical(
        run(screenedJs, prob, arch, o, sgdConfig(), 20, 32),
        run(screened, prob, arch, o, sgdConfig(), 20, 32),
        "lazy wasm vs js",
      );
    for (const [how, make] of wasm
      ? ([
          ["wasm", screened],
          ["js", screenedJs],
        ] as const)
      : ([["js", screenedJs]] as const)) {
      const got = run(make, prob, arch, o, sgdConfig(), 20, 32);
      for (let s = 0; s < ref.losses.length; s++)
        assert.ok(Math.abs(got.losses[s] - ref.losses[s]) <= 1e-12, `${how} loss ${s}`);
      const rel = (a: Float64Array[], b: Float64Array[]) => Math.max(...a.map((x, i) => maxRelDiff(x, b[i])));
      assert.ok(rel(got.params.params.convW, ref.params.params.convW) < 1e-12, `${how} conv weights`);
      assert.ok(maxRelDiff(got.params.params.denseW, ref.params.params.denseW) < 1e-12, `${how} dense`);
      assert.ok(maxRelDiff(got.params.embedding!, ref.params.embedding!) < 1e-12, `${how} embedding`);
      assert.ok(maxRelDiff(got.probs, ref.probs) < 1e-12, `${how} probabilities`);
    }
  });
}

test(
  "a large-vocabulary step (2,000 tokens, 64-token encounters, D = 96): bit-identical, helper thread included",
  needsWasm,
  () => {
    const arch = cnn(96, [1], [100]);
    const prob = randomProblem(21, 2001, 96, 300, 2, 64);
    assertIdentical(
      run(direct, prob, arch, {}, sgdConfig({ lr: 0.01 }), 6, 32),
      run(screened, prob, arch, {}, sgdConfig({ lr: 0.01 }), 6, 32),
      "large",
    );
  },
);

test("the wasm validation tables are computeTables' values bit for bit", needsWasm, () => {
  const arch = cnn(37, [1, 3], [9, 10]);
  const prob = problem(15, 90, 37, 150, 2, 10);
  const params = initParams(arch, new Rng(6));
  const e = new ScreenedCnnEngine(engineInput(prob, params, { trainEmbedding: false }), sgdConfig());
  const p = e.probs(prob.seqs);
  const ref = new DirectCnnEngine(engineInput(prob, params, { trainEmbedding: false }), sgdConfig()).probs(
    prob.seqs,
  );
  assert.deepEqual(p, ref);
  const s = cnnShape(arch as Extract<ModelArchitecture, { kind: "concept-cnn" }>);
  const tables = s.kernels.map((k, i) => new Float64Array(k * prob.rows * s.filters[i]));
  computeTables(s, params.convW, prob.embedding, prob.rows, tables, null, 0);
  const got = (e as unknown as { tables: { view: Float64Array }[] }).tables.map((t) => t.view);
  for (let i = 0; i < tables.length; i++) assert.deepEqual(Array.from(got[i]), Array.from(tables[i]));
});

test(
  "the kernel-1 validation max-pool (maxPoolRows) equals the reference: odd filter counts, empty encounters, zero rows, NaN",
  needsWasm,
  () => {
    type Pooling = { kernelOneProbs(seqs: Problem["seqs"]): Float64Array | null };
    // 21 filters: one 16-wide block, two pairs, one odd filter; 37: two blocks, two pairs, one odd.
    for (const F of [21, 37, 100]) {
      const arch = cnn(13, [1], [F]);
      const prob = problem(40 + F, 120, 13, 200, 2, 30);
      // A zero token row: its table row is 0, the max wherever every other token is negative.
      for (let d = 0; d < 13; d++) prob.embedding[5 * 13 + d] = 0;
      const params = initParams(arch, new Rng(F));
      const ref = new DirectCnnEngine(
        engineInput(prob, params, { trainEmbedding: false }),
        sgdConfig(),
      ).probs(prob.seqs);
      const e = new ScreenedCnnEngine(engineInput(prob, params, { trainEmbedding: false }), sgdConfig());
      assert.deepEqual(e.probs(prob.seqs), ref, `F = ${F}`);
      // The wasm pooling really ran (it declines only for a table holding NaN).
      assert.ok((e as unknown as Pooling).kernelOneProbs(prob.seqs) !== null, `F = ${F}: wasm pooling used`);
    }
    // A NaN in the embedding makes NaN table rows: the reference's max keeps them, pmax would not, so
    // the engine takes the reference pooling, and the probabilities are the direct engine's.
    const arch = cnn(13, [1], [21]);
    const prob = problem(7, 120, 13, 200, 2, 30);
    prob.embedding[9 * 13 + 4] = Number.NaN;
    const params = initParams(arch, new Rng(3));
    const ref = new DirectCnnEngine(engineInput(prob, params, { trainEmbedding: false }), sgdConfig()).probs(
      prob.seqs,
    );
    const e = new ScreenedCnnEngine(engineInput(prob, params, { trainEmbedding: false }), sgdConfig());
    assert.deepEqual(e.probs(prob.seqs), ref);
    assert.equal((e as unknown as Pooling).kernelOneProbs(prob.seqs), null);
  },
);

test("lazy row SGD equals step-by-step SGD on every row (Nesterov, plain momentum, none)", () => {
  for (const c of [sgdConfig(), sgdConfig({ nesterov: false }), sgdConfig({ momentum: 0 })]) {
    const rows = 30;
    const D = 5;
    const rng = new Rng(8);
    const E0 = Float64Array.from({ length: rows * D }, () => rng.normal());
    const eager = E0.slice();
    const buf = new Float64Array(rows * D);
    const lazyE = E0.slice();
    const lazy = new LazyRowSgd(lazyE, rows, D, c);
    for (let t = 0; t < 40; t++) {
      const ids = Array.from(new Set(Array.from({ length: 4 }, () => rng.int(rows))));
      const g = new Float64Array(rows * D);
      const gl = new Float64Array(ids.length * D);
      ids.forEach((v, r) => {
        for (let d = 0; d < D; d++) g[v * D + d] = gl[r * D + d] = rng.normal();
      });
      sgdStep(eager, g, c.momentum > 0 ? buf : null, t === 0, c as OptimizerConfig);
      lazy.catchUp(ids, ids.length);
      lazy.step(ids, ids.length, gl, true);
    }
    lazy.catchUpAll();
    assert.ok(maxRelDiff(lazyE, eager) < 1e-13, JSON.stringify(c));
  }
});

test("trainModel with engine: screened trains the same model as the direct engine (frozen embedding)", () => {
  const prob = randomProblem(31, 60, 16, 300, 2, 30);
  const sub = (from: number, to: number) => ({
    seqs: {
      count: to - from,
      offsets: prob.seqs.offsets.slice(from, to + 1).map((o) => o - prob.seqs.offsets[from]),
      tokens: prob.seqs.tokens.slice(prob.seqs.offsets[from], prob.seqs.offsets[to]),
    },
    labels: prob.labels.slice(from, to),
  });
  const train = (engine: "direct" | "screened") =>
    trainModel({
      architecture: paperCnn(16, 2),
      embedding: { rows: prob.rows, dim: 16, data: Float32Array.from(prob.embedding) },
      embeddingRef: { providerId: "test", dimension: 16, trainable: false },
      classes: ["a", "b"],
      train: sub(0, 240),
      validation: sub(240, 300),
      settings: trainSettings({ epochs: 3, itersPerEpoch: 20, lr: 0.05, engine }),
      vocabulary: Array.from({ length: prob.rows - 1 }, (_, i) => ({ key: `k${i}`, text: `t${i}` })),
    });
  const a = train("direct");
  const b = train("screened");
  assert.equal(b.engine, "screened");
  assert.deepEqual(b.history, a.history);
  assert.equal(b.bestEpoch, a.bestEpoch);
  assert.deepEqual(b.snapshot.weights, a.snapshot.weights);
});
