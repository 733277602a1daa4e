import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createJobRunner, type JobRunner } from "../../src/experiment/pool.js";
import { runExperiment } from "../../src/experiment/runner.js";
import { type LoadedSpec, parseSpec } from "../../src/experiment/spec.js";
import { InputError } from "../../src/util/errors.js";

const RAW = {
  version: 1,
  name: "runner-test",
  sites: {
    A: { adapter: "synthetic", site: 0, world: { encountersPerSite: 800, seed: 7, signal: 1.5 } },
    B: { adapter: "synthetic", site: 1, world: { encountersPerSite: 800, seed: 7, signal: 1.5 } },
  },
  task: { type: "binary", name: "flu", positive: "influenza" },
  embeddings: { onehot: { provider: "onehot" }, hashing: { provider: "hashing" } },
  scenarios: ["local", "pooled", "source-only", "finetune-dense"],
  directions: [{ source: "A", target: "B" }],
  targetSizes: [100, "all"],
  seeds: [1],
  model: { kinds: ["cnn"], filters: [16] },
  training: { lr: 0.01, epochs: 6, itersPerEpoch: 40 },
  finetuning: { epochs: 2, itersPerEpoch: 20 },
  recalibration: ["none", "intercept"],
};

function loaded(raw: unknown = RAW): LoadedSpec {
  return { spec: parseSpec(raw, "runner-test.yaml"), path: "runner-test.yaml", dir: process.cwd() };
}

const quiet = { quiet: true, log: () => {} };

/** What must be identical between two runs of the same spec: everything but timestamps and timings. */
function comparable(path: string): unknown[] {
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .map(({ finishedAt: _f, trainSeconds: _t, ...rest }) => rest)
    .sort((a, b) => (a.key.id < b.key.id ? -1 : 1));
}

test("runner: every cell runs, results are real, and a resumed run equals an uninterrupted one", async () => {
  const full = mkdtempSync(join(tmpdir(), "cb-run-"));
  const s1 = await runExperiment(loaded(), { out: full, workers: 1, ...quiet });
  // local 2 sizes + pooled 2 + source-only 1 (x2 recal) + finetune-dense 2 (x2 recal) = 2+2+2+4, per embedding
  assert.equal(s1.cells, 2 * 10);
  assert.equal(s1.failed, 0, JSON.stringify(s1.results.find((r) => r.status === "error")));
  for (const r of s1.results) {
    assert.ok(
      r.metrics && r.metrics.auroc >= 0 && r.metrics.auroc <= 1,
      `${r.key.scenario} AUROC ${r.metrics?.auroc}`,
    );
    assert.ok(
      r.metrics?.aurocCI && r.metrics.aurocCI[0] < r.metrics.auroc && r.metrics.auroc < r.metrics.aurocCI[1],
    );
  }
  // Models trained at the target beat chance on average (one-hot source-only need not: that is its handicap).
  const local = s1.results.filter((r) => r.key.scenario === "local").map((r) => r.metrics!.auroc);
  assert.ok(local.reduce((a, b) => a + b, 0) / local.length > 0.6, `local AUROCs ${local}`);
  const recal = s1.results.filter((r) => r.key.recalibration === "intercept");
  assert.ok(recal.length > 0 && recal.every((r) => r.metricsBeforeRecalibration !== undefined));

  // A run killed mid-way: keep the first 7 cells and a torn line, then resume.
  const resumed = mkdtempSync(join(tmpdir(), "cb-run-"));
  const lines = readFileSync(join(full, "results.jsonl"), "utf8").trim().split("\n");
  writeFileSync(join(resumed, "results.jsonl"), `${lines.slice(0, 7).join("\n")}\n`);
  appendFileSync(join(resumed, "results.jsonl"), lines[7].slice(0, 40));
  const s2 = await runExperiment(loaded(), { out: resumed, workers: 2, ...quiet });
  assert.equal(s2.skipped, 7, "finished cells are not recomputed");
  assert.equal(s2.ran, s1.cells - 7);
  assert.deepEqual(comparable(join(resumed, "results.jsonl")), comparable(join(full, "results.jsonl")));

  // Nothing left to do: a third run runs nothing.
  const s3 = await runExperiment(loaded(), { out: resumed, workers: 1, ...quiet });
  assert.equal(s3.ran, 0);
});

test("runner: bad specs are rejected before any cell runs, naming the spec path", async () => {
  const out = mkdtempSync(join(tmpdir(), "cb-run-"));
  await assert.rejects(
    runExperiment(loaded({ ...RAW, targetSizes: [100000] }), { out, ...quiet }),
    (e: unknown) => e instanceof InputError && e.location.field === "targetSizes.0",
  );
  // Now refused when the spec is parsed (before the run starts), with the same spec path.
  await assert.rejects(
    async () =>
      runExperiment(loaded({ ...RAW, embeddings: { magic: { provider: "magic" } } }), { out, ...quiet }),
    (e: unknown) => e instanceof InputError && /embeddings\.magic/.test(e.location.field ?? ""),
  );
  await assert.rejects(
    runExperiment(
      loaded({
        ...RAW,
        embeddings: { t: { provider: "table", file: "shared:influenza-embeddings/concept_pair_bert.h5" } },
      }),
      { out, ...quiet },
    ),
    (e: unknown) => e instanceof InputError && e.location.field === "embeddings.t",
  );
  assert.throws(() => readFileSync(join(out, "results.jsonl")), "no results were written");
});

test("runner: specs sharing a models folder train a shared source arm once", async () => {
  const models = mkdtempSync(join(tmpdir(), "cb-models-"));
  const one = {
    ...RAW,
    embeddings: { hashing: { provider: "hashing" } },
    scenarios: ["source-only"],
    recalibration: ["none"],
  };
  const a = await runExperiment(loaded(one), {
    out: mkdtempSync(join(tmpdir(), "cb-a-")),
    workers: 1,
    modelsDir: models,
    ...quiet,
  });
  const files = readdirSync(models);
  assert.equal(files.length, 1);
  const saved = statSync(join(models, files[0])).mtimeMs;
  // Another spec (other name, other arms) with the same source arm reuses the file as it is.
  const other = { ...one, name: "other", scenarios: ["source-only", "finetune-dense"] };
  const b = await runExperiment(loaded(other), {
    out: mkdtempSync(join(tmpdir(), "cb-b-")),
    workers: 1,
    modelsDir: models,
    ...quiet,
  });
  assert.deepEqual(readdirSync(models), files);
  assert.equal(statSync(join(models, files[0])).mtimeMs, saved);
  const so = (r: typeof a) => r.results.find((x) => x.key.scenario === "source-only")?.metrics?.auroc;
  assert.equal(so(b), so(a));
  // A different training setting is a different source model.
  await runExperiment(loaded({ ...one, training: { ...RAW.training, epochs: 5 } }), {
    out: mkdtempSync(join(tmpdir(), "cb-c-")),
    workers: 1,
    modelsDir: models,
    ...quiet,
  });
  assert.equal(readdirSync(models).length, 2);
});

test("runner: jobs that share a source model (A -> B, A -> C) train it once, even on a shared pool", async () => {
  const world = { sites: 3, encountersPerSite: 300, seed: 7, signal: 1.5 };
  const raw = {
    ...RAW,
    sites: {
      A: { adapter: "synthetic", site: 0, world },
      B: { adapter: "synthetic", site: 1, world },
      C: { adapter: "synthetic", site: 2, world },
    },
    embeddings: { hashing: { provider: "hashing" } },
    scenarios: ["source-only"],
    directions: [
      { source: "A", target: "B" },
      { source: "A", target: "C" },
    ],
    recalibration: ["none"],
    training: { ...RAW.training, epochs: 2 },
  };
  const pool = createJobRunner(1);
  let trained = 0;
  const counting: JobRunner = {
    run: (payload, onEvent) =>
      pool.run(payload, (e) => {
        if (e.type === "source-model") trained++;
        onEvent(e);
      }),
    close: () => pool.close(),
  };
  const cells: string[] = [];
  const r = await runExperiment(loaded(raw), {
    out: mkdtempSync(join(tmpdir(), "cb-share-")),
    workers: 2,
    runner: counting,
    onCell: (c) => cells.push(c.key.target),
    ...quiet,
  });
  assert.equal(r.failed, 0);
  assert.deepEqual(cells.sort(), ["B", "C"]);
  assert.equal(trained, 1);
});
