import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadResultsStore } from "../../src/report/load.js";
import { InputError } from "../../src/util/errors.js";

const line = (id: string, auroc: number) =>
  JSON.stringify({
    key: { id, scenario: "local", embedding: "onehot", target: "B", targetSize: 50, seed: 1, task: "t" },
    status: "ok",
    metrics: { auroc },
    finishedAt: "2026-11-25T00:00:00Z",
    codeVersion: "x",
  });

function dir(): string {
  return mkdtempSync(join(tmpdir(), "cb-report-load-"));
}

test("reads a folder or a .jsonl file; blank lines skipped; a re-written cell keeps its last line", async () => {
  const d = dir();
  writeFileSync(join(d, "results.jsonl"), `${line("a", 0.6)}\n\n${line("b", 0.7)}\n${line("a", 0.65)}\n`);
  const s = await loadResultsStore(d);
  assert.equal(s.cells.length, 2);
  assert.equal(s.cells.find((c) => c.key.id === "a")!.metrics!.auroc, 0.65);
  // Defaults from the schema are filled in.
  assert.equal(s.cells[0].key.model, "cnn");
  assert.equal(s.cells[0].key.recalibration, "none");
  const f = await loadResultsStore(join(d, "results.jsonl"));
  assert.equal(f.cells.length, 2);
  assert.equal(f.dir, d);
  assert.deepEqual(f.provenance, {});
});

test("a bad line is an InputError naming the file, line and field", async () => {
  const d = dir();
  const file = join(d, "results.jsonl");
  const bad = JSON.parse(line("b", 0.7));
  bad.key.targetSize = -3;
  writeFileSync(file, `${line("a", 0.6)}\n${JSON.stringify(bad)}\n`);
  await assert.rejects(loadResultsStore(d), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.location.file, file);
    assert.equal(e.location.row, 2);
    assert.equal(e.location.field, "key.targetSize");
    return true;
  });
  writeFileSync(file, `${line("a", 0.6)}\n{not json\n`);
  await assert.rejects(
    loadResultsStore(file),
    (e: unknown) => e instanceof InputError && e.location.row === 2,
  );
  writeFileSync(file, "\n");
  await assert.rejects(loadResultsStore(file), /empty/);
  await assert.rejects(loadResultsStore(join(d, "nope")), InputError);
  const empty = dir();
  await assert.rejects(loadResultsStore(empty), /no results.jsonl/);
});

test("provenance.json is validated, unknown keys dropped; spec.json is the fallback spec", async () => {
  const d = dir();
  writeFileSync(join(d, "results.jsonl"), `${line("a", 0.6)}\n`);
  writeFileSync(join(d, "spec.json"), JSON.stringify({ name: "from-spec-json" }));
  writeFileSync(
    join(d, "provenance.json"),
    JSON.stringify({
      seeds: [1],
      sites: [{ site: "A", poolEncounters: 10, testEncounters: 5 }],
      encounterIds: ["E1"],
    }),
  );
  const s = await loadResultsStore(d);
  assert.deepEqual(s.provenance.seeds, [1]);
  assert.equal("encounterIds" in s.provenance, false);
  assert.deepEqual(s.provenance.spec, { name: "from-spec-json" });

  mkdirSync(join(d, "bad"));
  writeFileSync(join(d, "bad", "results.jsonl"), `${line("a", 0.6)}\n`);
  writeFileSync(
    join(d, "bad", "provenance.json"),
    JSON.stringify({ sites: [{ site: "A", poolEncounters: -1 }] }),
  );
  await assert.rejects(loadResultsStore(join(d, "bad")), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.location.field, "sites.0.poolEncounters");
    return true;
  });
});
