import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { expandGrid } from "../../src/experiment/grid.js";
import { runExperiment } from "../../src/experiment/runner.js";
import { jobsOfShard, parseShard } from "../../src/experiment/shard.js";
import { type LoadedSpec, parseSpec } from "../../src/experiment/spec.js";
import { buildReport } from "../../src/report/build.js";
import { InputError } from "../../src/util/errors.js";

/**
 * `run --shard k/N` (issue "Real-site scale"): a grid run as 3 shards, each into its own store, and
 * the stores merged by `report`, gives the report a single process gives.
 */
const world = { sites: 3, encountersPerSite: 150, seed: 5 };
const RAW = {
  version: 1,
  name: "shard-test",
  sites: {
    A: { adapter: "synthetic", site: 0, world },
    B: { adapter: "synthetic", site: 1, world },
    C: { adapter: "synthetic", site: 2, world },
  },
  task: { type: "binary", name: "flu", positive: "influenza" },
  embeddings: { hashing: { provider: "hashing", dimension: 64 } },
  scenarios: ["local", "pooled", "source-only"],
  directions: "all-pairs",
  seeds: [1, 2],
  model: { kinds: ["logistic"] },
  baselineTraining: { epochs: 1, itersPerEpoch: 5 },
};
const loaded = (raw: unknown = RAW): LoadedSpec => ({
  spec: parseSpec(raw, "shard-test.yaml"),
  path: "shard-test.yaml",
  dir: process.cwd(),
});
const quiet = { quiet: true, log: () => {}, workers: 1 };
const NOW = new Date("2000-01-01T00:00:00Z");

test("shards: deterministic, disjoint, complete; a source model trains in one shard only", () => {
  const jobs = expandGrid(loaded().spec);
  const shards = [1, 2, 3].map((index) => jobsOfShard(jobs, { index, count: 3 }));
  assert.deepEqual(
    shards
      .flat()
      .map((j) => j.id)
      .sort(),
    jobs.map((j) => j.id).sort(),
  );
  assert.ok(shards.every((s) => s.length > 0));
  const sourceOf = (j: (typeof jobs)[number]) => `${j.source}|${j.embedding}|${j.model}|${j.seed}`;
  shards.forEach((s, i) => {
    for (const j of s.filter((j) => j.source)) {
      for (const [k, other] of shards.entries())
        if (k !== i)
          assert.ok(
            !other.some((o) => o.source && sourceOf(o) === sourceOf(j)),
            `source model ${sourceOf(j)} in two shards`,
          );
    }
  });
  assert.deepEqual(jobsOfShard(jobs, { index: 2, count: 3 }), shards[1], "same spec, same shares");
  assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
  for (const bad of ["0/3", "4/3", "3", "a/b", "1/0"]) assert.throws(() => parseShard(bad), InputError, bad);
});

test("shards: 3 shard stores merged by the report equal a single-process run", async () => {
  const single = mkdtempSync(join(tmpdir(), "cb-single-"));
  await runExperiment(loaded(), { out: single, ...quiet });
  const parts: string[] = [];
  for (const index of [1, 2, 3]) {
    const out = mkdtempSync(join(tmpdir(), `cb-shard${index}-`));
    const r = await runExperiment(loaded(), { out, ...quiet, shard: { index, count: 3 } });
    assert.equal(r.failed, 0);
    parts.push(out);
  }
  // A shard's store is refused for another shard.
  await assert.rejects(
    runExperiment(loaded(), { out: parts[0], ...quiet, shard: { index: 2, count: 3 } }),
    /holds shard 1\/3/,
  );
  const a = await buildReport(single, {
    out: mkdtempSync(join(tmpdir(), "cb-rep1-")),
    now: NOW,
    silent: true,
  });
  const b = await buildReport(parts, {
    out: mkdtempSync(join(tmpdir(), "cb-rep3-")),
    now: NOW,
    silent: true,
  });
  assert.equal(b.context.provenance.cells.total, a.context.provenance.cells.total);
  assert.deepEqual(b.context.tables, a.context.tables);
  const read = (dir: string, f: string) => readFileSync(join(dir, f), "utf8");
  assert.equal(read(b.outDir, "results.csv"), read(a.outDir, "results.csv"));
  const summary = (dir: string) => {
    const { provenance: _p, ...rest } = JSON.parse(read(dir, "summary.json"));
    return rest;
  };
  assert.deepEqual(summary(b.outDir), summary(a.outDir));
  // Stores of another experiment, or the same shard twice, are refused.
  const other = mkdtempSync(join(tmpdir(), "cb-other-"));
  await runExperiment(loaded({ ...RAW, seeds: [3], directions: [{ source: "A", target: "B" }] }), {
    out: other,
    ...quiet,
  });
  await assert.rejects(buildReport([parts[0], other], { silent: true }), /never merged/);
  await assert.rejects(buildReport([parts[0], parts[0]], { silent: true }), /holds shard 1\/3, as/);
});
