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

import { mkdirSync, writeFileSync } from "node:fs";
import {
  checkMergeable,
  checkStoreFor,
  experimentFingerprint,
  makeManifest,
  readManifest,
  writeManifest,
} from "../../src/experiment/store.js";
import { InputError } from "../../src/util/errors.js";

const identity = (over: Partial<Parameters<typeof makeManifest>[0]> = {}) => ({
  fingerprint: experimentFingerprint({ name: "s", seeds: [1] }, "0.1.0"),
  spec: "s",
  codeVersion: "0.1.0",
  grid: ["a", "b", "c"],
  shard: null,
  ...over,
});

test("store: the fingerprint is the canonical parsed spec and the package version, not its description", () => {
  const f = experimentFingerprint({ name: "s", seeds: [1], description: "x" }, "0.1.0");
  assert.equal(
    f,
    experimentFingerprint({ seeds: [1], name: "s" }, "0.1.0"),
    "key order and description do not count",
  );
  assert.notEqual(f, experimentFingerprint({ name: "s", seeds: [2] }, "0.1.0"));
  assert.notEqual(f, experimentFingerprint({ name: "s", seeds: [1] }, "0.2.0"));
});

test("store: one experiment per folder; a store from before manifests is adopted only when every cell is this grid's", () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-store-"));
  assert.equal(checkStoreFor(dir, identity()), "fresh");
  const s = new ResultsStore(join(dir, "results.jsonl"));
  s.append(result("a"));
  assert.equal(checkStoreFor(dir, identity()), "adopt");
  s.append(result("zzz"));
  assert.throws(
    () => checkStoreFor(dir, identity()),
    (e: unknown) =>
      e instanceof InputError && /1 of them not cells/.test(e.message) && /--force-new/.test(e.message),
  );
  writeManifest(dir, makeManifest(identity()));
  assert.deepEqual(readManifest(dir)?.grid, ["a", "b", "c"]);
  assert.equal(checkStoreFor(dir, identity()), "resume");
  const other = identity({ fingerprint: experimentFingerprint({ name: "t" }, "0.1.0"), spec: "t" });
  assert.throws(
    () => checkStoreFor(dir, other),
    /another experiment \(spec "s"\), not of spec "t".*--force-new/,
  );
  const edited = identity({ fingerprint: experimentFingerprint({ name: "s", seeds: [9] }, "0.1.0") });
  assert.throws(() => checkStoreFor(dir, edited), /before an edit/);
  assert.throws(
    () => checkStoreFor(dir, identity({ shard: { index: 2, count: 3 } })),
    /holds the whole grid .* not shard 2\/3/,
  );
});

test("store: only stores of one experiment merge, each shard once, no cell twice", () => {
  const mk = (over: Partial<Parameters<typeof makeManifest>[0]>) => {
    const dir = mkdtempSync(join(tmpdir(), "cb-merge-"));
    mkdirSync(dir, { recursive: true });
    writeManifest(dir, makeManifest(identity(over)));
    return { dir, manifest: readManifest(dir) };
  };
  const one = { ...mk({ shard: { index: 1, count: 2 } }), ids: ["a", "c"] };
  const two = { ...mk({ shard: { index: 2, count: 2 } }), ids: ["b"] };
  assert.deepEqual(
    [...checkMergeable([one, two])],
    [
      ["a", 0],
      ["b", 1],
      ["c", 2],
    ],
  );
  assert.throws(() => checkMergeable([one, { ...two, ids: ["b", "c"] }]), /cell c is also in/);
  assert.throws(() => checkMergeable([one, { ...one, ids: [] }]), /holds shard 1\/2, as/);
  const foreign = {
    ...mk({ fingerprint: experimentFingerprint({ name: "t" }, "0.1.0"), spec: "t" }),
    ids: ["x"],
  };
  assert.throws(() => checkMergeable([one, foreign]), /stores of different experiments are never merged/);
  const legacy = mkdtempSync(join(tmpdir(), "cb-merge-"));
  writeFileSync(join(legacy, "results.jsonl"), "");
  assert.throws(
    () => checkMergeable([one, { dir: legacy, manifest: null, ids: [] }]),
    /has no experiment\.json/,
  );
});
