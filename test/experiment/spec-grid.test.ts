import assert from "node:assert/strict";
import { test } from "node:test";
import { countCells, expandGrid } from "../../src/experiment/grid.js";
import { parseSpec } from "../../src/experiment/spec.js";
import { InputError } from "../../src/util/errors.js";

const base = {
  version: 1,
  name: "t",
  sites: {
    A: { adapter: "synthetic", site: "A" },
    B: { adapter: "synthetic", site: "B" },
  },
  task: { type: "binary", name: "flu", positive: "influenza" },
  embeddings: { onehot: { provider: "onehot" }, hashing: { provider: "hashing" } },
  scenarios: ["local", "pooled", "source-only", "finetune-dense", "finetune-conv", "finetune-all"],
  directions: "all-pairs",
  targetSizes: [50, "all"],
  seeds: [1, 2],
  model: { kinds: ["cnn"] },
};

test("grid: every arm once, local cells shared by directions, source-only at one size", () => {
  const spec = parseSpec(base);
  const jobs = expandGrid(spec);
  // per (embedding, seed): 2 target-only jobs (A, B) + 2 transfer jobs (A->B, B->A)
  assert.equal(jobs.length, 2 * 2 * 4);
  // local: 2 sizes x 2 targets; per direction: pooled 2 + source-only 1 + 3 finetune x 2 sizes = 9
  assert.equal(countCells(jobs), 2 * 2 * (2 * 2 + 2 * 9));
  const ids = jobs.flatMap((j) => j.cells.map((c) => c.id));
  assert.equal(new Set(ids).size, ids.length, "cell ids are unique");
  const so = jobs.flatMap((j) => j.cells).filter((c) => c.scenario === "source-only");
  assert.ok(so.every((c) => c.targetSize === "all"));
});

test("grid: cell ids are stable and change when a setting that matters changes", () => {
  const a = expandGrid(parseSpec(base)).flatMap((j) => j.cells.map((c) => c.id));
  const b = expandGrid(parseSpec(base)).flatMap((j) => j.cells.map((c) => c.id));
  assert.deepEqual(a, b);
  const c = expandGrid(parseSpec({ ...base, training: { lr: 0.01 } })).flatMap((j) =>
    j.cells.map((x) => x.id),
  );
  assert.equal(
    a.filter((id) => c.includes(id)).length,
    0,
    "changing the training settings invalidates every cell",
  );
});

test("grid: the logistic baseline runs local, pooled and source-only only", () => {
  const spec = parseSpec({
    ...base,
    model: { kinds: ["logistic"] },
    seeds: [1],
    embeddings: { onehot: { provider: "onehot" } },
  });
  const scen = new Set(expandGrid(spec).flatMap((j) => j.cells.map((c) => c.scenario)));
  assert.deepEqual([...scen].sort(), ["local", "pooled", "source-only"]);
});

test("spec: bad references are rejected with the offending spec path", () => {
  const bad = { ...base, directions: [{ source: "A", target: "C" }] };
  assert.throws(
    () => parseSpec(bad, "x.yaml"),
    (e: unknown) =>
      e instanceof InputError && e.location.field === "directions.0.target" && /"C"/.test(e.message),
  );
  assert.throws(
    () => parseSpec({ ...base, scenarios: ["local", "magic"] }, "x.yaml"),
    (e: unknown) => e instanceof InputError && e.location.field === "scenarios.1",
  );
  assert.throws(
    () => parseSpec({ ...base, version: 2 }, "x.yaml"),
    (e: unknown) => e instanceof InputError && e.location.field === "version",
  );
});

test("spec: bad training settings are rejected with their spec path", () => {
  assert.throws(
    () => parseSpec({ ...base, training: { lr: -1 } }, "x.yaml"),
    (e: unknown) => e instanceof InputError && e.location.field === "training.lr",
  );
  assert.throws(
    () => parseSpec({ ...base, finetuning: { optimiser: "sgd" } }, "x.yaml"),
    (e: unknown) => e instanceof InputError && (e.location.field ?? "").startsWith("finetuning"),
  );
});

test("grid: `exclude` drops exactly the matching cells and keeps every other cell's id", () => {
  const all = expandGrid(parseSpec(base)).flatMap((j) => j.cells);
  const spec = parseSpec({
    ...base,
    exclude: [
      { scenario: "finetune-all", embedding: "onehot" },
      { target: "A", scenario: "pooled" },
    ],
  });
  const kept = expandGrid(spec).flatMap((j) => j.cells);
  const dropped = all.filter(
    (c) =>
      (c.scenario === "finetune-all" && c.embedding === "onehot") ||
      (c.target === "A" && c.scenario === "pooled"),
  );
  // finetune-all x onehot: 2 directions x 2 sizes x 2 seeds; pooled into A: 2 embeddings x 2 sizes x 2 seeds.
  assert.equal(dropped.length, 8 + 8);
  assert.equal(kept.length, all.length - dropped.length);
  assert.deepEqual(
    kept.map((c) => c.id),
    all.filter((c) => !dropped.includes(c)).map((c) => c.id),
  );
  assert.throws(
    () => parseSpec({ ...base, exclude: [{ embedding: "bert" }] }, "s.yaml"),
    (e: unknown) =>
      e instanceof InputError && /exclude\.0\.embedding/.test(e.message) && /bert/.test(e.message),
  );
  assert.throws(() => parseSpec({ ...base, exclude: [{}] }, "s.yaml"), InputError);
});
