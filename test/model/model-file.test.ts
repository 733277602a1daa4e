import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { kimCnn } from "../../src/model/architecture.js";
import { loadModel, saveModel } from "../../src/model/model-file.js";
import { initParams, paramsToWeights } from "../../src/model/params.js";
import type { ModelSnapshot } from "../../src/model/types.js";
import { InputError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";

function snapshot(): ModelSnapshot {
  const arch = kimCnn(5, 3);
  const weights = paramsToWeights(initParams(arch, new Rng(1)));
  weights.embedding = { shape: [4, 5], data: Float32Array.from({ length: 20 }, (_, i) => i / 7) };
  return {
    format: "conceptbridge.model",
    version: 1,
    architecture: arch,
    weights,
    embedding: { providerId: '{"provider":"hashing"}', dimension: 5, trainable: true },
    classes: ["I", "M", "P"],
    vocabulary: [
      { key: "C1=present", text: "cough" },
      { key: "C1=absent", text: "Not cough" },
      { key: "age=ls5", text: "age < 5" },
    ],
  };
}

const dir = tmpdir();

test("a model file round-trips exactly (float32 weights, vocabulary, embedding id)", async () => {
  const path = join(dir, `cb-model-${process.pid}.json`);
  const s = snapshot();
  await saveModel(path, s);
  const back = await loadModel(path);
  assert.deepEqual(back, s);
});

test("unknown versions, wrong shapes and broken files are InputErrors naming the field", async () => {
  const path = join(dir, `cb-model-bad-${process.pid}.json`);
  await saveModel(path, snapshot());
  const good = JSON.parse(await readFile(path, "utf8"));
  const variants: [
    string,
    (m: Record<string, unknown> & { weights: Record<string, { shape: number[] }> }) => void,
    RegExp,
  ][] = [
    ["version", (m) => (m.version = 2), /version 2 is not supported/],
    ["shape", (m) => (m.weights["conv0.bias"].shape = [99]), /conv0\.bias/],
    ["missing tensor", (m) => delete m.weights["dense.bias"], /dense\.bias/],
    ["classes", (m) => (m.classes = ["a", "b"]), /classes/],
    ["format", (m) => (m.format = "other"), /format/],
  ];
  for (const [name, mutate, pattern] of variants) {
    const m = structuredClone(good);
    mutate(m);
    await writeFile(path, JSON.stringify(m));
    await assert.rejects(
      loadModel(path),
      (e: unknown) => e instanceof InputError && pattern.test(e.message),
      name,
    );
  }
  await writeFile(path, "{not json");
  await assert.rejects(loadModel(path), InputError);
  await assert.rejects(loadModel(join(dir, "does-not-exist.json")), InputError);
});
