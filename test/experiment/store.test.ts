import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { CellResult } from "../../src/experiment/results.js";
import { ResultsStore } from "../../src/experiment/store.js";

function result(id: string, status: "ok" | "error" = "ok"): CellResult {
  return {
    key: {
      id,
      scenario: "local",
      model: "cnn",
      embedding: "onehot",
      target: "B",
      targetSize: "all",
      seed: 1,
      task: "t",
      recalibration: "none",
    },
    status,
    ...(status === "ok" ? { metrics: { auroc: 0.75 } } : { error: "boom" }),
    finishedAt: "2026-01-01T00:00:00.000Z",
    codeVersion: "0.1.0",
  };
}

test("store: a torn last line from a killed run is ignored and cut before the next append", () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-store-"));
  const s = new ResultsStore(join(dir, "results.jsonl"));
  s.append(result("a"));
  s.append(result("b"));
  appendFileSync(s.path, '{"key":{"id":"c","scen'); // kill -9 mid-write
  assert.deepEqual(
    s.read().map((r) => r.key.id),
    ["a", "b"],
  );
  s.repair();
  s.append(result("c"));
  assert.deepEqual(
    s.read().map((r) => r.key.id),
    ["a", "b", "c"],
  );
  assert.ok(readFileSync(s.path, "utf8").endsWith("}\n"));
});

test("store: only ok cells count as finished; errors are rerun", () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-store-"));
  const s = new ResultsStore(join(dir, "results.jsonl"));
  s.append(result("a"));
  s.append(result("b", "error"));
  assert.deepEqual([...s.finishedIds()], ["a"]);
});
