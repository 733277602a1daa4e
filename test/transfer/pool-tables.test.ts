import assert from "node:assert/strict";
import { test } from "node:test";
import { concatLabeled, remapSequences } from "../../src/concepts/sequences.js";
import type { TokenSequences } from "../../src/concepts/vocabulary.js";
import type { EmbeddingMatrix } from "../../src/embed/types.js";
import { paperCnn } from "../../src/model/architecture.js";
import { predictProba } from "../../src/model/predict.js";
import { trainModel } from "../../src/model/train.js";
import { TrainSettings } from "../../src/model/train-settings.js";
import { poolTables } from "../../src/transfer/pool-tables.js";
import { runScenario } from "../../src/transfer/scenarios.js";
import { trainValidationSplit } from "../../src/transfer/training-data.js";
import { Rng } from "../../src/util/rng.js";
import { testSite, tokens } from "./site-fixture.js";

const D = 6;

function table(vectors: number[][]): EmbeddingMatrix {
  const data = new Float32Array((vectors.length + 1) * D);
  vectors.forEach((v, i) => {
    data.set(v, (i + 1) * D);
  });
  return { rows: vectors.length + 1, dim: D, data };
}

function seqs(lists: number[][]): TokenSequences {
  const offsets = new Uint32Array(lists.length + 1);
  lists.forEach((l, i) => {
    offsets[i + 1] = offsets[i] + l.length;
  });
  return { count: lists.length, offsets, tokens: Uint32Array.from(lists.flat()) };
}

const unit = (i: number, x = 1) => Array.from({ length: D }, (_, d) => (d === i ? x : 0));

test("poolTables: a token with the same key and vector shares the source's row; others are appended", () => {
  const source = {
    embedding: table([unit(0), unit(1), unit(2)]),
    vocabulary: ["a", "b", "c"].map((k) => ({ key: k, text: k })),
  };
  // Target: "c" (same vector), "b" (same key, another vector: kept apart), "z" (target only).
  const target = {
    embedding: table([unit(2), unit(1, 0.5), unit(5)]),
    vocabulary: ["c", "b", "z"].map((k) => ({ key: k, text: k })),
  };
  const p = poolTables(source, target);
  assert.deepEqual(Array.from(p.remap), [0, 3, 4, 5]);
  assert.equal(p.embedding.rows, 6);
  assert.deepEqual(
    p.vocabulary.map((v) => v.key),
    ["a", "b", "c", "b", "z"],
  );
  assert.deepEqual(Array.from(p.embedding.data.subarray(4 * D, 5 * D)), unit(1, 0.5));
  assert.deepEqual(Array.from(p.embedding.data.subarray(5 * D, 6 * D)), unit(5));
  const s = remapSequences(seqs([[1, 2], [], [3]]), p.remap);
  assert.deepEqual(Array.from(s.tokens), [3, 4, 5]);
  assert.deepEqual(Array.from(s.offsets), [0, 2, 2, 3]);
});

test("pooled training on the shared table equals training on both tables stacked (duplicate rows)", () => {
  const r = new Rng(11);
  const vec = () => Array.from({ length: D }, () => r.normal());
  const shared = [vec(), vec(), vec(), vec()];
  const sourceVocab = tokens(["s0", "s1", "s2", "s3"]);
  const targetVocab = tokens(["s1", "s3", "t0"]);
  const sourceE = table(shared);
  const targetE = table([shared[1], shared[3], vec()]);
  const draw = (n: number, vocab: number) => {
    const lists = Array.from({ length: n }, () =>
      Array.from({ length: 1 + r.int(3) }, () => 1 + r.int(vocab)),
    );
    const labels = Int32Array.from(lists, (l) => (l.includes(1) ? 1 : 0));
    return { seqs: seqs(lists), labels };
  };
  const test = draw(30, 3);
  const source = testSite("S", sourceE, sourceVocab, draw(75, sourceVocab.length), test);
  const target = testSite("T", targetE, targetVocab, draw(50, targetVocab.length), test);
  const split = { validationFraction: 0.2, seed: 3 };
  const parts = (pool: typeof source.pool) =>
    trainValidationSplit(pool, split.validationFraction, split.seed);
  const training = TrainSettings.parse({
    epochs: 3,
    itersPerEpoch: 20,
    batchSize: 8,
    engine: "direct",
    seed: 3,
  });
  const arch = paperCnn(D, 2);
  const pooled = runScenario({
    scenario: "pooled",
    architecture: arch,
    classes: ["0", "1"],
    target,
    source,
    training,
    finetuning: training,
    split,
  });
  // The naive way: every target row appended after the source's, ids shifted.
  const stacked = table([...shared, shared[1], shared[3], Array.from(targetE.data.subarray(3 * D, 4 * D))]);
  const naive = trainModel({
    architecture: arch,
    embedding: stacked,
    embeddingRef: { providerId: "test", dimension: D, trainable: false },
    classes: ["0", "1"],
    train: concatLabeled(parts(source.pool).train, parts(target.pool).train, 4),
    validation: concatLabeled(
      { seqs: seqs([]), labels: new Int32Array(0) },
      parts(target.pool).validation,
      4,
    ),
    settings: training,
    vocabulary: [...sourceVocab, ...targetVocab],
  });
  const expected = predictProba(naive.snapshot, targetE, test.seqs);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(expected[i] - pooled.testProbs[i]) < 1e-9);
  assert.equal(pooled.counts.train, 100);
});
