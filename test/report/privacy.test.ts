import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { summarizePredictions } from "../../src/eval/summarize.js";
import type { CellResult } from "../../src/experiment/results.js";
import { saveModel } from "../../src/model/model-file.js";
import { buildReport } from "../../src/report/build.js";
import { loadResultsStore } from "../../src/report/load.js";
import { modelCardMarkdown } from "../../src/report/model-card.js";
import { exportBundle, verifyBundle } from "../../src/transfer/bundle/workflow.js";
import { Rng } from "../../src/util/rng.js";
import { smallSnapshot } from "../transfer/bundle/fixtures.js";

/**
 * Issue "Results a reviewer can trust", privacy: a synthetic world with small classes, its report
 * built, then every count the report hides attacked with every number it exports: rates k/N and
 * percentages, AUROCs U/(k(N-k)) (intersected over every AUROC of the table, as an attacker who
 * knows which numbers are AUROCs would), and totals minus shown parts. None may single out the hidden
 * count. The report folder holds no per-encounter row.
 */

const TH = 11;
const root = join(tmpdir(), `cb-privacy-${process.pid}`);

/** Test sets: B has 7 positives of 60 (hidden), A has 30 of 200 (shown). */
const TESTS = { A: { n: 200, pos: 30 }, B: { n: 60, pos: 7 } } as const;

function labelsFor(target: "A" | "B"): number[] {
  const { n, pos } = TESTS[target];
  return Array.from({ length: n }, (_, i) =>
    i % Math.floor(n / pos) === 0 && i / Math.floor(n / pos) < pos ? 1 : 0,
  );
}

function cells(): CellResult[] {
  const out: CellResult[] = [];
  const classes = ["alive", "died"];
  let id = 0;
  for (const target of ["A", "B"] as const) {
    const labels = labelsFor(target);
    assert.equal(
      labels.reduce((a, b) => a + b, 0),
      TESTS[target].pos,
    );
    const source = target === "A" ? "B" : "A";
    for (const seed of [1, 2]) {
      for (const [scenario, signal, recal] of [
        ["local", 0.8, "none"],
        ["finetune-all", 1.4, "none"],
        ["finetune-all", 1.4, "intercept"],
        ["source-only", 0.6, "none"],
        ["auto", 1.3, "none"],
      ] as const) {
        for (const embedding of ["onehot", "hashing"]) {
          const rng = new Rng(`${target}|${seed}|${scenario}|${embedding}|${recal}`);
          const scores = labels.map((y) => 1 / (1 + Math.exp(-(-1.5 + signal * (2 * y - 1) + rng.normal()))));
          out.push({
            key: {
              id: `c${id++}`,
              scenario,
              model: "cnn",
              embedding,
              ...(scenario === "local" ? {} : { source }),
              target,
              targetSize: "all",
              seed,
              task: "death",
              recalibration: recal,
            },
            status: "ok",
            metrics: summarizePredictions(labels, scores, classes),
            predictions: { classes, labels, scores },
            counts: { train: 300, validation: 75, test: labels.length },
            bestValidationAuroc: 0.8,
            ...(scenario === "auto"
              ? { selection: { winner: "finetune-all", scores: { "finetune-all": 0.81, local: 0.74 } } }
              : {}),
            finishedAt: "2026-01-01T00:00:00Z",
            codeVersion: "test",
          } as CellResult);
        }
      }
    }
  }
  return out;
}

/** Site summaries: A's pool has 6 deaths (test 30, published): the total 36 must not be shown. */
const SITES = [
  {
    site: "A",
    poolEncounters: 375,
    testEncounters: 200,
    vocabularySize: 40,
    classCounts: { alive: 539, died: 36 },
    poolClassCounts: { alive: 369, died: 6 },
    testClassCounts: { alive: 170, died: 30 },
  },
  {
    site: "B",
    poolEncounters: 375,
    testEncounters: 60,
    vocabularySize: 41,
    classCounts: { alive: 353, died: 82 },
    poolClassCounts: { alive: 300, died: 75 },
    testClassCounts: { alive: 53, died: 7 },
  },
];

/** Numbers as printed in a text, with their decimals. */
function numbersIn(text: string): { x: number; d: number }[] {
  return [...text.matchAll(/(?<![\w.])[-−+]?\d+(?:\.(\d+))?(?![\w.])/g)].map((m) => ({
    x: Number(m[0].replace("−", "-")),
    d: m[1]?.length ?? 0,
  }));
}

/** Counts k in [0, N] whose rate k/N (or percentage) prints as x. */
function rateCandidates(x: number, d: number, N: number): Set<number> {
  const out = new Set<number>();
  const tol = 0.5 * 10 ** -d + 1e-12;
  for (let k = 0; k <= N; k++) {
    if (Math.abs(k / N - x) <= tol || Math.abs((100 * k) / N - x) <= tol) out.add(k);
  }
  return out;
}

/** Positives k in [1, N - 1] for which some U (a multiple of 1/2) gives AUROC U / (k (N - k)) = x. */
function aurocCandidates(x: number, d: number, N: number): Set<number> {
  const out = new Set<number>();
  const tol = 0.5 * 10 ** -d + 1e-12;
  for (let k = 1; k < N; k++) {
    const pairs = k * (N - k);
    const lo = Math.ceil(2 * (x - tol) * pairs);
    const hi = Math.floor(2 * (x + tol) * pairs);
    if (hi >= lo && hi >= 0 && lo <= 2 * pairs) out.add(k);
  }
  return out;
}

function walk(dir: string, files: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, files);
    else files.push(p);
  }
  return files;
}

test("no exported number gives back a suppressed count; the report folder holds no encounter row", async () => {
  const store = join(root, "store");
  mkdirSync(store, { recursive: true });
  const cs = cells();
  writeFileSync(join(store, "results.jsonl"), `${cs.map((c) => JSON.stringify(c)).join("\n")}\n`);
  writeFileSync(
    join(store, "provenance.json"),
    JSON.stringify({
      sites: SITES,
      classes: ["alive", "died"],
      seeds: [1, 2],
      spec: { description: "privacy world" },
    }),
  );
  const built = await buildReport(store, { silent: true, now: new Date("2026-01-01T00:00:00Z") });
  const files = walk(built.outDir);
  const texts = files.filter((f) => !f.endsWith(".png")).map((f) => [f, readFileSync(f, "utf8")] as const);

  // 1. No encounter-level row: no results store, no labels or score arrays, no stored score.
  assert.ok(!files.some((f) => f.endsWith(".jsonl")), "a results store in the report folder");
  const scores = new Set(cs.flatMap((c) => c.predictions!.scores.map((s) => s.toFixed(8))));
  for (const [f, t] of texts) {
    assert.ok(!t.includes('"labels"') && !t.includes('"scores"') && !t.includes('"predictions"'), f);
    for (const m of t.matchAll(/\d\.\d{8,}/g))
      assert.ok(!scores.has(Number(m[0]).toFixed(8)), `${f}: a score ${m[0]}`);
  }

  // 2. The sites' hidden counts cannot be recomputed from shown totals and parts.
  const summary = JSON.parse(readFileSync(join(built.outDir, "summary.json"), "utf8"));
  const rows = summary.sites.rows as {
    name: string;
    encounters: string;
    pool: string;
    test: string;
    classCounts: string[];
  }[];
  const a = rows.find((r) => r.name === "A")!;
  assert.deepEqual(
    a.classCounts,
    ["suppressed", "suppressed"],
    "A's 36 deaths = 36 - 30 test deaths would give its 6 pool deaths",
  );
  for (const r of rows) {
    const hidden = r.classCounts.filter((c) => !/^\d+$/.test(c)).length;
    assert.notEqual(hidden, 1, `${r.name}: one hidden class = total minus the others`);
    assert.notEqual([r.pool, r.test].filter((c) => !/^\d+$/.test(c)).length, 1, `${r.name}: pool/test`);
  }

  // 3. B's 7 test positives (and A's pool deaths) against every number of the files, rates and AUROCs.
  const protectedCounts = [{ table: "death-a-to-b", c: TESTS.B.pos, N: TESTS.B.n }];
  for (const p of protectedCounts) {
    const t = summary.tables.find((x: { id: string }) => x.id.startsWith(p.table));
    assert.ok(t, `table ${p.table}`);
    assert.deepEqual(t.testPositives, ["<11", "<11"]);
    // Every number of the table's JSON, CSV rows, recommendation rows and HTML/Markdown section.
    const scoped: { x: number; d: number; auroc: boolean }[] = [];
    const collect = (v: unknown, key = "") => {
      if (typeof v === "number" && !Number.isInteger(v)) {
        const s = String(v);
        scoped.push({
          x: v,
          d: s.includes(".") ? s.split(".")[1].length : 0,
          auroc: /auroc|ci|diff/i.test(key),
        });
      } else if (Array.isArray(v)) for (const x of v) collect(x, key);
      else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) collect(x, k);
    };
    collect(t);
    collect(summary.recommendation.filter((r: { target: string }) => r.target === "B"));
    const csv = readFileSync(join(built.outDir, "results.csv"), "utf8").split("\n");
    const header = csv[0].split(",");
    for (const line of csv.slice(1).filter((l) => l.includes(",A,B,"))) {
      line.split(",").forEach((v, i) => {
        if (/^-?\d+\.\d+$/.test(v))
          scoped.push({ x: Number(v), d: v.split(".")[1].length, auroc: /auroc|ci_/.test(header[i]) });
      });
    }
    const html = readFileSync(join(built.outDir, "report.html"), "utf8");
    const section = html.slice(
      html.indexOf(`id="table-${t.id}"`),
      html.indexOf("</table>", html.indexOf(`id="calibration-${t.id}"`)),
    );
    for (const n of numbersIn(section.replace(/<[^>]+>/g, " ")))
      if (n.d > 0) scoped.push({ ...n, auroc: true });
    assert.ok(scoped.length > 50, `only ${scoped.length} numbers found for ${p.table}`);
    // Rates: no single number may pin the count down.
    for (const n of scoped) {
      const k = rateCandidates(n.x, n.d, p.N);
      assert.ok(
        !(k.size === 1 && (k.has(p.c) || k.has(p.N - p.c))),
        `${n.x} (${n.d} decimals) = ${p.c}/${p.N}`,
      );
    }
    // AUROCs: the positives consistent with every AUROC of the table at once.
    const sets = scoped
      .filter((s) => s.auroc && s.x >= 0 && s.x <= 1)
      .map((n) => aurocCandidates(n.x, n.d, p.N));
    const consistent = new Set(sets[0]);
    for (const k of sets) for (const v of [...consistent]) if (!k.has(v)) consistent.delete(v);
    assert.ok(consistent.has(p.c), "the true count must stay consistent (the attack is sound)");
    const small = [...consistent].filter((k) => k < TH);
    assert.ok(small.length >= 2, `AUROCs pin the positives down to ${JSON.stringify(small)}`);
  }

  // 4. The calibration and net-benefit figures of the small table are not drawn (no rates to invert).
  assert.ok(
    !built.context.charts.some(
      (c) => c.id.includes("a-b") && (c.kind === "calibration" || c.kind === "net-benefit"),
    ),
  );
  assert.ok(built.context.charts.some((c) => c.id.includes("b-a") && c.kind === "calibration"));
});

test("the bundle and its model card: counts suppressed, metrics coarse, free text checked", async () => {
  const store = join(root, "store");
  const loaded = await loadResultsStore(store);
  const model = join(root, "model.json");
  await saveModel(model, smallSnapshot());
  // A results line of target B (7 positives of 60) as the --summary.
  const line = loaded.cells.find((c) => c.key.target === "B" && c.key.scenario === "source-only")!;
  const summaryFile = join(root, "summary.json");
  writeFileSync(summaryFile, JSON.stringify({ ...line, counts: { train: 8, validation: 3, test: 60 } }));
  const out = join(root, "model.cbundle");
  const card = (header: Parameters<typeof modelCardMarkdown>[0]["header"]) =>
    modelCardMarkdown({
      header,
      bundleName: "model.cbundle",
      evidence: { cells: loaded.cells, provenance: loaded.provenance, source: "A" },
    });
  const b = await exportBundle({ model, out, summary: summaryFile, modelCard: card, force: true });
  const p = b.header.performance!;
  assert.deepEqual(p.counts, { train: "<11", validation: "<11", test: 60 });
  for (const v of [p.metrics.auroc, p.metrics.brier!, p.metrics.accuracy!, ...(p.metrics.aurocCI ?? [])]) {
    assert.ok(Math.abs(v * 1000 - Math.round(v * 1000)) < 1e-9, `metric ${v} not rounded to 3 decimals`);
  }
  // Inside and beside, the same card.
  const beside = readFileSync(`${out}.model-card.md`, "utf8");
  const opened = await verifyBundle(out);
  assert.equal(opened.modelCard, beside);
  for (const h of [
    "## Intended use",
    "## Sites and periods",
    "## Performance",
    "## Warnings",
    "## Limitations",
    "## TRIPOD+AI",
  ]) {
    assert.ok(beside.includes(h), h);
  }
  // The card's row for B (7 positives of 60): no number in it pins the count down as a rate.
  const bRow = beside.split("\n").find((l) => l.startsWith("| B (target"))!;
  assert.ok(bRow, beside);
  for (const n of numbersIn(bRow.replace(/\|/g, " "))) {
    if (n.d === 0) continue;
    const k = rateCandidates(n.x, n.d, TESTS.B.n);
    assert.ok(!(k.size === 1 && k.has(TESTS.B.pos)), `card: ${n.x} = 7/60`);
  }
  assert.match(bRow, /\| 0\.\d \[0\.\d–0\.\d\] \|/, "B's AUROC at the coarse precision of its small class");
  // Free text that could carry patient data is refused.
  writeFileSync(summaryFile, JSON.stringify({ ...line, description: "validated on MRN 12345678" }));
  await assert.rejects(
    exportBundle({ model, out, summary: summaryFile, force: true }),
    /run of 5 or more digits/,
  );
  writeFileSync(
    summaryFile,
    JSON.stringify({ ...line, description: "patient seen 2024-03-01\nsecond line" }),
  );
  await assert.rejects(exportBundle({ model, out, summary: summaryFile, force: true }), /line breaks|date/);
});
