import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { type BuiltReport, buildReport } from "../../src/report/build.js";
import { rasterizeSvg } from "../../src/report/rasterize.js";
import { PROJECT_ROOT } from "../../src/util/paths.js";
import {
  DISTINCTIVE_SCORE,
  ENCOUNTER_IDS,
  SECRET,
  type SyntheticStore,
  writeSyntheticStore,
} from "./fixture.js";

const OUT = join(PROJECT_ROOT, "test-output", "report");
let store: SyntheticStore;
let built: BuiltReport;
/** Every text file of the report (HTML, Markdown, CSV, JSON, SVG), by path. */
let texts: Map<string, string>;

before(async () => {
  store = await writeSyntheticStore(join(OUT, "build-store"));
  built = await buildReport(store.dir, {
    out: join(OUT, "build"),
    silent: true,
    now: new Date("2026-11-25T10:00:00Z"),
  });
  texts = new Map();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!p.endsWith(".png")) texts.set(p, readFileSync(p, "utf8"));
    }
  };
  walk(built.outDir);
});

test("writes the HTML, Markdown, CSV, JSON and an SVG + PNG per chart", () => {
  const files = readdirSync(built.outDir).sort();
  assert.deepEqual(files, [
    "figures",
    "recommendation.json",
    "recommendation.md",
    "report.html",
    "report.md",
    "results.csv",
    "summary.json",
  ]);
  const figures = readdirSync(join(built.outDir, "figures")).sort();
  assert.equal(figures.length, 20); // 2 directions x 5 charts x (svg, png)
  for (const f of figures.filter((x) => x.endsWith(".png"))) {
    const png = readFileSync(join(built.outDir, "figures", f));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], f);
    assert.ok(png.length > 10_000, `${f} is suspiciously small`);
  }
  // Markdown links every PNG that exists.
  const md = texts.get(join(built.outDir, "report.md"))!;
  const links = [...md.matchAll(/\]\((figures\/[^)]+\.png)\)/g)]
    .map((m) => m[1].slice("figures/".length))
    .sort();
  assert.deepEqual(
    links,
    figures.filter((x) => x.endsWith(".png")),
  );
  assert.match(md, /\| \*\*local\*\* \(ref\) \| 0\.\d{3} \[0\.\d{3}–0\.\d{3}\]/);
});

test("PNG text renders: the chart font is found (resvg has no built-in fonts)", () => {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="30"><text x="4" y="22" font-family="Helvetica Neue, Helvetica, Arial, DejaVu Sans, sans-serif" font-size="18">AUROC 0.8</text></svg>`;
  const img = rasterizeSvg(svg, 1);
  let dark = 0;
  for (let i = 0; i < img.pixels.length; i += 4) if (img.pixels[i] < 128) dark++;
  assert.ok(dark > 100, `only ${dark} dark pixels: no font was loaded`);
});

test("HTML is self-contained: no scripts, no external resources, a CSP that forbids fetching", () => {
  const html = texts.get(join(built.outDir, "report.html"))!;
  assert.doesNotMatch(html, /<script|<link|<iframe|<img|@import|\bsrc=/i);
  const urls = [...html.matchAll(/https?:\/\/[^\s"')<]+/g)].map((m) => m[0]);
  assert.ok(
    urls.every((u) => u.startsWith("http://www.w3.org/")),
    `external URLs: ${urls.filter((u) => !u.startsWith("http://www.w3.org/")).join(", ")}`,
  );
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  // Table before figures; every chart inline with ids made unique per chart.
  assert.ok(html.indexOf('<table class="results"') < html.indexOf('<figure class="chart"'));
  assert.equal((html.match(/<figure class="chart"/g) ?? []).length, 10);
  const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, "duplicate element ids");
});

test("privacy: no encounter id, no stored score, no secret, no error message in any output", () => {
  // Numbers written anywhere, as they appear.
  const tokens = new Set<string>();
  for (const t of texts.values()) for (const m of t.matchAll(/\d*\.\d+/g)) tokens.add(m[0]);
  const scores = new Set(store.scores.map(String));
  // A score written at 8 or more decimals would be a row-level value; fewer decimals collide with
  // aggregates by chance (52,000 scores), and charts round to 4.
  const byDecimals = new Map<number, Set<string>>();
  for (let k = 8; k <= 17; k++)
    byDecimals.set(k, new Set(store.scores.map((s) => s.toFixed(k).replace(/^0/, ""))));
  for (const tok of tokens) {
    const norm = tok.replace(/^0/, "");
    assert.ok(!scores.has(tok) && !scores.has(`0${norm}`), `a stored score appears: ${tok}`);
    const decimals = norm.length - 1;
    assert.ok(!byDecimals.get(decimals)?.has(norm), `a stored score appears rounded: ${tok}`);
  }
  for (const [path, t] of texts) {
    assert.ok(
      !t.includes(String(DISTINCTIVE_SCORE)) && !t.includes("1234568"),
      `distinctive score in ${path}`,
    );
    for (const id of ENCOUNTER_IDS) assert.ok(!t.includes(id), `encounter id ${id} in ${path}`);
    assert.ok(!t.includes(SECRET), `secret in ${path}`);
    assert.ok(!t.includes("has no tokens"), `error message in ${path}`);
    assert.ok(!t.includes('"predictions"') && !t.includes('"labels"'), `predictions in ${path}`);
  }
});

test("small counts are suppressed in the HTML, Markdown and JSON site summaries", () => {
  const summary = JSON.parse(texts.get(join(built.outDir, "summary.json"))!);
  assert.deepEqual(
    summary.sites.rows.map(
      (r: { name: string; encounters: string; pool: string; test: string; classCounts: string[] }) => [
        r.name,
        r.encounters,
        r.pool,
        r.test,
        ...r.classCounts,
      ],
    ),
    [
      ["A", "1040", "800", "240", "780", "260"],
      ["B", "530", "290", "240", "suppressed", "<11"],
      ["C", "<11", "<11", "<11", "<11", "<11"],
    ],
  );
  const html = texts.get(join(built.outDir, "report.html"))!;
  const data = html.slice(
    html.indexOf('<section id="data">'),
    html.indexOf("</section>", html.indexOf('<section id="data">')),
  );
  assert.match(data, /<th scope="row" class="rowhead">C<\/th><td class="num">&lt;11<\/td>/);
  assert.doesNotMatch(data, />(522|8|9|6|3)</);
  const md = texts.get(join(built.outDir, "report.md"))!;
  assert.match(md, /\| B \| 530 \| 290 \| 240 \| suppressed \| <11 \| 101 \|/);
});

test("CSV and JSON carry the table's numbers (aggregates only)", () => {
  const csv = texts.get(join(built.outDir, "results.csv"))!.trimEnd().split("\n");
  const header = csv[0].split(",");
  const summary = JSON.parse(texts.get(join(built.outDir, "summary.json"))!);
  const arms = summary.tables.flatMap((t: { arms: unknown[] }) => t.arms);
  assert.equal(csv.length - 1, arms.length);
  const row = Object.fromEntries(csv[1].split(",").map((v, i) => [header[i], v]));
  const t0 = summary.tables[0];
  assert.equal(row.task, "influenza-vs-rest");
  assert.equal(row.source, t0.source);
  assert.equal(row.scenario, "local");
  assert.equal(row.is_reference, "true");
  assert.equal(Number(row.auroc_mean), Math.round(t0.arms[0].aurocMean * 1e6) / 1e6);
  const perSeed = t0.arms[0].perSeed.map((s: { auroc: number }) => s.auroc);
  const mean = perSeed.reduce((a: number, b: number) => a + b, 0) / perSeed.length;
  assert.ok(Math.abs(t0.arms[0].aurocMean - mean) < 1e-12);
  assert.equal(row.test_n, "240");
  // The stored cells agree: the local onehot arm's per-seed AUROCs are the stored metrics.
  const stored = store.cells
    .filter(
      (c) =>
        c.key.scenario === "local" &&
        c.key.model === "cnn" &&
        c.key.embedding === "onehot" &&
        c.key.target === t0.target &&
        c.key.targetSize === t0.targetSize,
    )
    .map((c) => c.metrics!.auroc);
  assert.deepEqual(perSeed, stored);
  assert.equal(summary.failures.length, 1);
});

test("a multi-class store builds: table and AUROC bars, no ROC or calibration figures", async () => {
  const dir = join(OUT, "multiclass-store");
  mkdirSync(dir, { recursive: true });
  const labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 2, 1, 0];
  const probs = labels.flatMap((y, i) => {
    const p = [0.2, 0.2, 0.2];
    p[(y + (i % 4 === 0 ? 1 : 0)) % 3] = 0.6;
    return p;
  });
  const lines = ["local", "finetune-all"].map((scenario) =>
    JSON.stringify({
      key: {
        id: scenario,
        scenario,
        embedding: "onehot",
        target: "B",
        targetSize: "all",
        seed: 1,
        task: "4-class",
        ...(scenario === "local" ? {} : { source: "A" }),
      },
      status: "ok",
      predictions: { classes: ["I", "M", "P"], labels, scores: probs },
      finishedAt: "x",
      codeVersion: "x",
    }),
  );
  writeFileSync(join(dir, "results.jsonl"), `${lines.join("\n")}\n`);
  const r = await buildReport(dir, { out: join(dir, "out"), silent: true });
  assert.deepEqual(
    r.context.charts.map((c) => c.kind),
    ["bars"],
  );
  assert.equal(r.context.agg.tables[0].binary, false);
  assert.match(readFileSync(join(dir, "out", "report.html"), "utf8"), /Multi-class task/);
});

test("recalibrated arms add calibration columns, not AUROC rows", () => {
  const html = texts.get(join(built.outDir, "report.html"))!;
  const md = texts.get(join(built.outDir, "report.md"))!;
  // No AUROC row of the report repeats an arm for its recalibration.
  const aurocTables = [...html.matchAll(/<table class="results"><thead>([\s\S]*?)<\/table>/g)].map(
    (m) => m[1],
  );
  assert.ok(aurocTables.length > 0);
  for (const t of aurocTables) assert.doesNotMatch(t, /recal\.<\/th>/, "a recalibrated AUROC row");
  assert.doesNotMatch(md, /^\| finetune-all \+ logistic recal\./m);
  // The calibration table holds the recalibrated figures, per arm, beside the as-transferred ones.
  const cal = html.slice(html.indexOf('<table class="results cal">'));
  assert.match(cal, /<th scope="col">CITL/);
  for (const col of ["Slope", "Eavg", "E90", "Emax", "Brier"])
    assert.match(cal, new RegExp(`<th scope="col">${col}`));
  assert.match(cal, /<span class="recal">-?\d\.\d{3} <span class="sub">logistic recal\.<\/span>/);
  const summary = JSON.parse(texts.get(join(built.outDir, "summary.json"))!);
  const calRows = summary.tables[0].calibration as {
    scenario: string;
    recalibration: string;
    slope: number;
    citl: number;
    eavg: number;
  }[];
  const ft = calRows.filter((r) => r.scenario === "finetune-all");
  assert.deepEqual([...new Set(ft.map((r) => r.recalibration))].sort(), ["logistic", "none"]);
  // Logistic recalibration (fitted on the test labels in this fixture) brings the slope to 1 and CITL to 0.
  for (const r of ft.filter((x) => x.recalibration === "logistic")) {
    assert.ok(Math.abs(r.slope - 1) < 1e-6 && Math.abs(r.citl) < 1e-6, JSON.stringify(r));
  }
  assert.ok(ft.filter((x) => x.recalibration === "none").every((r) => Math.abs(r.citl) > 0.1));
  const csv = texts.get(join(built.outDir, "results.csv"))!.split("\n");
  const header = csv[0].split(",");
  for (const c of ["citl", "calibration_slope", "eavg", "e90", "emax", "brier"])
    assert.ok(header.includes(c), c);
});

test("the report folder holds aggregates only: no results store, no per-encounter rows; refuses the store's own folder", async () => {
  assert.ok(!readdirSync(built.outDir).includes("results.jsonl"));
  await assert.rejects(
    buildReport(store.dir, { out: store.dir, silent: true }),
    /may not hold the results store/,
  );
  // Default: report/ inside the results folder, beside results.jsonl.
  const r = await buildReport(store.dir, { silent: true, now: new Date("2026-11-25T10:00:00Z") });
  assert.equal(r.outDir, join(store.dir, "report"));
});
