import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runExperiment } from "../../src/experiment/runner.js";
import { type LoadedSpec, parseSpec } from "../../src/experiment/spec.js";
import { InputError } from "../../src/util/errors.js";

/**
 * One experiment per results store (issue "Results a reviewer can trust", case 1), paths kept inside
 * --out (case 2) and a dry run that checks what the real run checks (case 6). The grid is tiny: the
 * logistic baseline, one epoch of five iterations, 2 x 2 cells.
 */
const WORLD = { encountersPerSite: 200, seed: 7 };
const RAW = {
  version: 1,
  name: "store-test",
  sites: {
    A: { adapter: "synthetic", site: 0, world: WORLD },
    B: { adapter: "synthetic", site: 1, world: WORLD },
  },
  task: { type: "binary", name: "flu", positive: "influenza" },
  embeddings: { hashing: { provider: "hashing" } },
  scenarios: ["local", "source-only"],
  directions: "all-pairs",
  seeds: [1],
  model: { kinds: ["logistic"] },
  baselineTraining: { epochs: 1, itersPerEpoch: 5 },
};

const loaded = (raw: unknown = RAW): LoadedSpec => ({
  spec: parseSpec(raw, "store-test.yaml"),
  path: "store-test.yaml",
  dir: process.cwd(),
});
const quiet = { quiet: true, log: () => {}, workers: 1 };
const lines = (out: string) => readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n");

test("case 1: a different spec into the same --out is refused (never merged); --force-new starts over", async () => {
  const out = mkdtempSync(join(tmpdir(), "cb-one-"));
  const first = await runExperiment(loaded(), { out, ...quiet });
  assert.equal(first.ran, 4);
  const provenance = readFileSync(join(out, "provenance.json"), "utf8");
  // Another experiment (another seed) into the same folder: refused before anything is written.
  const other = { ...RAW, seeds: [2] };
  await assert.rejects(
    runExperiment(loaded(other), { out, ...quiet }),
    (e: unknown) =>
      e instanceof InputError && /never merged/.test(e.message) && /--force-new/.test(e.message),
  );
  await assert.rejects(runExperiment(loaded(other), { out, ...quiet, dryRun: true }), /never merged/);
  assert.equal(lines(out).length, 4, "no line appended");
  assert.equal(
    readFileSync(join(out, "provenance.json"), "utf8"),
    provenance,
    "provenance still names the first spec",
  );
  // The same spec resumes.
  assert.equal((await runExperiment(loaded(), { out, ...quiet })).ran, 0);
  // --force-new: the old results are gone, the new experiment owns the folder.
  const fresh = await runExperiment(loaded(other), { out, ...quiet, forceNew: true });
  assert.equal(fresh.ran, 4);
  assert.deepEqual([...new Set(lines(out).map((l) => JSON.parse(l).key.seed))], [2]);
  assert.deepEqual(JSON.parse(readFileSync(join(out, "provenance.json"), "utf8")).seeds, [2]);
});

test("case 1: two runs on one store at once: the second stops at once, naming the holder", async () => {
  const out = mkdtempSync(join(tmpdir(), "cb-lock-"));
  const a = runExperiment(loaded(), { out, ...quiet });
  await assert.rejects(
    runExperiment(loaded(), { out, ...quiet }),
    (e: unknown) => e instanceof InputError && new RegExp(`in use by process ${process.pid}`).test(e.message),
  );
  const done = await a;
  assert.equal(done.ran, 4);
  assert.equal(lines(out).length, 4, "every cell once (not twice)");
  assert.equal(existsSync(join(out, ".lock")), false, "released");
});

test("case 1: duplicate seeds or target sizes are bad input", () => {
  assert.throws(
    () => loaded({ ...RAW, seeds: [1, 2, 1] }),
    (e: unknown) => e instanceof InputError && e.location.field === "seeds.2",
  );
  assert.throws(
    () => loaded({ ...RAW, targetSizes: [50, "all", 50] }),
    (e: unknown) => e instanceof InputError && e.location.field === "targetSizes.2",
  );
  assert.throws(
    () =>
      loaded({
        ...RAW,
        directions: [
          { source: "A", target: "B" },
          { source: "A", target: "B" },
        ],
      }),
    /listed twice/,
  );
});

test("case 2: names from a spec cannot lead outside --out", async () => {
  for (const [raw, field] of [
    [{ ...RAW, name: "../../x" }, "name"],
    [{ ...RAW, sites: { ...RAW.sites, "../evil": RAW.sites.A } }, "sites.../evil"],
    [{ ...RAW, embeddings: { "x/../../y": { provider: "hashing" } } }, "embeddings.x/../../y"],
    [JSON.parse(JSON.stringify(RAW).replace('"A":{', '"__proto__":{')), "sites.__proto__"],
  ] as const) {
    assert.throws(
      () => loaded(raw),
      (e: unknown) => e instanceof InputError && e.location.field === field && /safe name/.test(e.message),
      field,
    );
  }
  // And what the runner writes stays under --out: models, results, lock.
  const out = mkdtempSync(join(tmpdir(), "cb-paths-"));
  await runExperiment(loaded(), { out, ...quiet });
  assert.deepEqual(readdirSync(out).sort(), [
    "experiment.json",
    "models",
    "provenance.json",
    "results.jsonl",
  ]);
  assert.equal(readdirSync(join(out, "models")).length, 2);
});

test("case 6: --dry-run runs the real run's checks (sites, world settings, sizes) and writes nothing", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "cb-dry-")), "never");
  const badWorld = { ...RAW, sites: { ...RAW.sites, B: { ...RAW.sites.B, world: { ...WORLD, shift: 7 } } } };
  await assert.rejects(runExperiment(loaded(badWorld), { out, ...quiet, dryRun: true }), InputError);
  await assert.rejects(
    runExperiment(loaded({ ...RAW, targetSizes: [100000] }), { out, ...quiet, dryRun: true }),
    (e: unknown) => e instanceof InputError && e.location.field === "targetSizes.0",
  );
  await assert.rejects(
    runExperiment(loaded({ ...RAW, embeddings: { t: { provider: "table", file: "does-not-exist.h5" } } }), {
      out,
      ...quiet,
      dryRun: true,
    }),
    (e: unknown) => e instanceof InputError && /embeddings\.t/.test(e.location.field ?? ""),
  );
  const listed: string[] = [];
  const ok = await runExperiment(loaded(), { out, ...quiet, dryRun: true, log: (l) => listed.push(l) });
  assert.equal(ok.cells, 4);
  assert.match(listed.at(-1) ?? "", /4 cells in 4 jobs: 0 done, 4 to run/);
  assert.equal(existsSync(out), false, "a dry run creates nothing");
});

test("a store from before manifests resumes when its cells are this spec's, and is then this experiment's", async () => {
  const out = mkdtempSync(join(tmpdir(), "cb-legacy-"));
  await runExperiment(loaded(), { out, ...quiet });
  const kept = lines(out).slice(0, 2);
  const legacy = mkdtempSync(join(tmpdir(), "cb-legacy-"));
  writeFileSync(join(legacy, "results.jsonl"), `${kept.join("\n")}\n`);
  const r = await runExperiment(loaded(), { out: legacy, ...quiet });
  assert.equal(r.skipped, 2);
  assert.ok(existsSync(join(legacy, "experiment.json")));
});
