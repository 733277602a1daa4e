import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runExperiment } from "../../src/experiment/runner.js";
import { type LoadedSpec, parseSpec } from "../../src/experiment/spec.js";
import { buildReport } from "../../src/report/build.js";
import { formatWarnings } from "../../src/report/warnings.js";
import { Rng } from "../../src/util/rng.js";
import { runCli } from "../cli/in-process.js";

/**
 * The checks as they run with an experiment: a small event-table world where every warning the
 * issue names must appear. Site B's test set has 5 deaths (too few to rank arms), 50 of B's patients
 * were also seen at A (the same group ids), and the only embedding is a table whose vectors all lie
 * within cosine 0.99 of each other.
 */

const CODES = Array.from({ length: 12 }, (_, i) => ({ code: `C${i}`, text: `finding number ${i}` }));

function writeSite(dir: string, ids: string[], groups: string[], deaths: Set<number>, rng: Rng): void {
  mkdirSync(dir, { recursive: true });
  const events = ["encounter_id,code,text,value"];
  const labels = ["encounter_id,label,group"];
  ids.forEach((id, i) => {
    const died = deaths.has(i);
    for (const [k, c] of CODES.entries()) {
      const present = rng.next() < (k < 4 && died ? 0.8 : 0.3);
      events.push(`${id},${c.code},${c.text},${present ? "present" : "absent"}`);
    }
    labels.push(`${id},${died ? "died" : "alive"},${groups[i]}`);
  });
  writeFileSync(join(dir, "events.csv"), `${events.join("\n")}\n`);
  writeFileSync(join(dir, "labels.csv"), `${labels.join("\n")}\n`);
}

test("a run shows the small-sample, patient-overlap and degenerate-table warnings, and no marks", async () => {
  const root = mkdtempSync(join(tmpdir(), "cb-warn-run-"));
  const rng = new Rng(3);
  const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));
  // A: 150 patients P0..P149, a third died. B's pool: P100..P219 (50 shared with A). B's test: Q0..Q39, 5 deaths.
  writeSite(
    join(root, "A"),
    range(150, (i) => `a${i}`),
    range(150, (i) => `P${i}`),
    new Set(range(50, (i) => String(i * 3)).map(Number)),
    rng,
  );
  writeSite(
    join(root, "B"),
    range(120, (i) => `b${i}`),
    range(120, (i) => `P${100 + i}`),
    new Set(range(36, (i) => String(i * 3)).map(Number)),
    rng,
  );
  writeSite(
    join(root, "Btest"),
    range(40, (i) => `t${i}`),
    range(40, (i) => `Q${i}`),
    new Set([0, 7, 14, 21, 28]),
    rng,
  );
  // Every token's vector = a shared direction plus a little noise: all pairwise cosines above 0.99.
  const table: Record<string, number[]> = {};
  for (const c of CODES) {
    for (const key of [`${c.code} ${c.text}`, `${c.code} Not ${c.text}`]) {
      table[key] = Array.from({ length: 16 }, () => 1 + 0.06 * rng.normal());
    }
  }
  writeFileSync(join(root, "vectors.json"), JSON.stringify(table));
  const raw = {
    version: 1,
    name: "warn-run",
    description: "A tiny world built to trip every check.",
    sites: {
      A: { adapter: "event-table", dir: "A", split: { kind: "none" } },
      B: { adapter: "event-table", dir: "B", testDir: "Btest" },
    },
    task: { type: "binary", name: "death", positive: "died" },
    embeddings: { flat: { provider: "table", file: "vectors.json" } },
    scenarios: ["local", "source-only", "pooled"],
    directions: [{ source: "A", target: "B" }],
    targetSizes: ["all"],
    seeds: [1],
    model: { kinds: ["logistic"] },
    baselineTraining: { epochs: 3, itersPerEpoch: 20 },
  };
  const loaded: LoadedSpec = { spec: parseSpec(raw, "warn.yaml"), path: join(root, "warn.yaml"), dir: root };
  const out = join(root, "out");
  const summary = await runExperiment(loaded, { out, workers: 1, quiet: true, log: () => {} });
  assert.equal(summary.failed, 0, JSON.stringify(summary.results.find((r) => r.status === "error")?.error));
  const provenance = JSON.parse(readFileSync(join(out, "provenance.json"), "utf8"));
  assert.deepEqual(provenance.checks.sharedGroups, [
    { a: "A", b: "B", shared: 50, groupsA: 150, groupsB: 160 },
  ]);
  const emb = provenance.checks.embeddings.find((e: { site: string }) => e.site === "B");
  assert.ok(emb.meanCosine > 0.99, `mean cosine ${emb.meanCosine}`);

  const built = await buildReport(out, { silent: true });
  const codes = built.context.warnings.map((w) => w.code);
  for (const c of ["small-sample", "patient-overlap", "degenerate-embedding"])
    assert.ok(codes.includes(c as never), `${c} missing: ${codes}`);
  const small = built.context.warnings.find((w) => w.code === "small-sample")!;
  assert.deepEqual(small.affects, ["death A → B, n = all: all arms"]);
  const overlap = built.context.warnings.find((w) => w.code === "patient-overlap")!;
  assert.match(overlap.title, /50 group ids occur at A and B/);
  const degenerate = built.context.warnings.find((w) => w.code === "degenerate-embedding")!;
  assert.match(degenerate.title, /flat at B \(mean pairwise cosine 0\.99\d/);
  // No significance marks anywhere; the recommendation withholds its verdict.
  for (const t of built.context.agg.tables)
    for (const a of t.arms) assert.ok(a.mark === "ref" || a.mark === "untested");
  const html = readFileSync(join(built.outDir, "report.html"), "utf8");
  assert.doesNotMatch(html, /<td class="cell mark-(up|down|partial)/);
  assert.match(html, /No arm was tested against it \(too few events in the test sets\)/);
  assert.match(html, /too few events to rank/);
  assert.equal(built.context.recommendation[0].verdict, "untested");
  // The split-less source shows its pool, not "suppressed".
  assert.deepEqual(built.context.sites!.rows.map((r) => [r.name, r.pool, r.test]).sort(), [
    ["A", "150", "—"],
    ["B", "120", "40"],
  ]);
  // The CLI prints the same checks.
  const text = formatWarnings(built.context.warnings);
  assert.match(text, /Too few events to rank arms/);
  const cli = await runCli(["report", out, "--out", join(root, "cli-report"), "--quiet"]);
  assert.equal(cli.code, 0, cli.output);
  const cliLoud = await runCli(["report", out, "--out", join(root, "cli-report2")]);
  assert.match(cliLoud.output, /Patients at both sites: 50 group ids occur at A and B/);
  assert.match(cliLoud.output, /Near-degenerate embedding table: flat at B/);
});
