import assert from "node:assert/strict";
import { test } from "node:test";
import { cellCosts } from "../../src/experiment/cell-cost.js";
import { expandGrid } from "../../src/experiment/grid.js";
import { parseSpec } from "../../src/experiment/spec.js";
import { createProgress, etaSeconds } from "../../src/util/progress.js";

test("ETA: elapsed per unit of expected work times the work left", () => {
  assert.equal(etaSeconds(10, 0, 100), null);
  assert.equal(etaSeconds(10, 50, 100), 10);
  // 9 of 10 cells done but they were the cheap ones (90 of 1,000 units): far from done.
  assert.equal(etaSeconds(30, 90, 1000), (30 / 90) * 910);
  assert.equal(etaSeconds(30, 1000, 1000), 0);
});

test("progress shows the share of expected work, not of items", () => {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  const p = createProgress({ label: "grid", total: 10, work: 1000, stream });
  for (let i = 0; i < 9; i++) p.tick(1, "cheap", 10);
  // Non-TTY output prints a line per 10% of the work: 9 cheap cells are still in the first tenth.
  assert.equal(lines.length, 1);
  assert.match(lines[0], /grid \[[#-]+\] 1\/10 1% /);
  p.tick(1, "expensive", 910);
  assert.match(lines[lines.length - 1], /10\/10 100% .*ETA 0s/);
});

test("cell costs: fine-tuning a wide embedding outweighs a logistic model on a narrow one; recalibration is cheap", () => {
  const spec = parseSpec({
    version: 1,
    name: "cost",
    sites: { A: { adapter: "synthetic", site: 0 }, B: { adapter: "synthetic", site: 1 } },
    task: { type: "binary", name: "t", positive: "influenza" },
    embeddings: {
      hashing: { provider: "hashing", dimension: 128 },
      bert: { provider: "hashing", dimension: 768 },
    },
    scenarios: ["local", "source-only", "finetune-dense", "finetune-all"],
    directions: [{ source: "A", target: "B" }],
    targetSizes: [100, "all"],
    recalibration: ["none", "intercept"],
  });
  const jobs = expandGrid(spec).map((job) => ({ job, pending: job.cells }));
  const costs = cellCosts(jobs, {
    spec,
    poolSize: () => 2000,
    testSize: () => 600,
    dimension: (job) => (job.embedding === "bert" ? 768 : 128),
  });
  const cost = (scenario: string, embedding: string, model: string, recal = "none") =>
    jobs
      .flatMap((j) => j.pending)
      .filter(
        (c) =>
          c.scenario === scenario &&
          c.embedding === embedding &&
          c.model === model &&
          c.recalibration === recal,
      )
      .map((c) => costs.get(c.id)!)[0];
  assert.ok(cost("finetune-all", "bert", "cnn") > 10 * cost("local", "hashing", "logistic"));
  assert.ok(cost("finetune-all", "bert", "cnn") > cost("finetune-dense", "bert", "cnn"));
  assert.ok(cost("finetune-all", "bert", "cnn") > 5 * cost("finetune-all", "hashing", "cnn"));
  assert.ok(
    cost("finetune-dense", "bert", "cnn", "intercept") < 0.01 * cost("finetune-dense", "bert", "cnn"),
  );
  assert.equal(
    costs.size,
    jobs.reduce((n, j) => n + j.pending.length, 0),
  );
});
