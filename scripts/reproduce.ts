/**
 * `npm run reproduce`: the seed paper's experiment on public data, end to end. Runs every spec in
 * examples/reproduce/ at once on one pool of worker threads (resumable: finished cells in
 * reproduce-output/ are reused; `--fresh` deletes them first) and writes the committed documents docs/results/paper-influenza.md and docs/results/eicu-regions.md with their
 * figures, plus the README's Results paragraph. The documents are pure functions of the results:
 * no timestamps, no git commit, cells in grid order, so a rerun writes the same bytes.
 *
 * `--reports` also builds each spec's full HTML report under reproduce-output/<spec>/report/ (not
 * committed). It is off by default: the documents need only the report context, and the full
 * reports' paired tests (a paired bootstrap per arm and seed on the multi-class specs) took about 13
 * minutes of one core, more than a third of the whole run. `conceptbridge report
 * reproduce-output/<spec>` builds any one of them later from the same store.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, relative } from "node:path";
import { parseBootstrapSettings } from "../src/eval/bootstrap.js";
import { countCells, expandGrid } from "../src/experiment/grid.js";
import { createJobRunner, type JobRunner } from "../src/experiment/pool.js";
import { describeCell, runExperiment } from "../src/experiment/runner.js";
import { type LoadedSpec, loadSpec } from "../src/experiment/spec.js";
import { buildReport } from "../src/report/build.js";
import { buildContext } from "../src/report/context.js";
import { loadResultsStore } from "../src/report/load.js";
import { pngInWorker } from "../src/report/rasterize.js";
import { reportSettings } from "../src/report/settings.js";
import { writeFileAtomic } from "../src/util/atomic-write.js";
import { PROJECT_ROOT } from "../src/util/paths.js";
import { createProgress, type Progress } from "../src/util/progress.js";
import { CODE_VERSION } from "../src/util/version.js";
import { EICU_SPECS, eicuDoc } from "./reproduce/eicu.js";
import { INFLUENZA_SPECS, influenzaDoc } from "./reproduce/influenza.js";
import { DOC_CHART_KINDS, iterationsText, type SpecRun } from "./reproduce/sections.js";
import { WHICH_MODEL_SPECS, whichModelDoc } from "./reproduce/which-model.js";

const OUTPUT = join(PROJECT_ROOT, "reproduce-output");
const DOCS = join(PROJECT_ROOT, "docs", "results");
const SPEC_DIR = join(PROJECT_ROOT, "examples", "reproduce");
/** The documents carry no clock: every report stamp is pinned to this date. */
const PINNED = new Date("2000-01-01T00:00:00Z");
const README_START = "<!-- reproduce:results:start -->";
const README_END = "<!-- reproduce:results:end -->";

const DOCUMENTS = [
  { doc: "paper-influenza", specs: Object.values(INFLUENZA_SPECS) as string[] },
  { doc: "eicu-regions", specs: Object.values(EICU_SPECS) as string[] },
  { doc: "which-model", specs: Object.values(WHICH_MODEL_SPECS) as string[] },
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== "--fresh" && a !== "--reports");
  if (unknown.length > 0) {
    process.stderr.write(`reproduce: unknown argument ${unknown[0]} (known: --fresh, --reports)\n`);
    process.exit(2);
  }
  const fresh = args.includes("--fresh");
  const reports = args.includes("--reports");
  if (fresh) rmSync(OUTPUT, { recursive: true, force: true });
  const started = Date.now();
  // Every spec at once on one pool of workers: one spec's data loading, embedding and report
  // building (one thread) overlap the others' training, and no core idles at a spec's last jobs.
  const names = DOCUMENTS.flatMap((d) => d.specs);
  const loaded = await Promise.all(names.map((n) => loadSpec(join(SPEC_DIR, `${n}.yaml`))));
  const total = loaded.reduce((n, l) => n + countCells(expandGrid(l.spec)), 0);
  const progress = createProgress({ label: "reproduce", total });
  const pool = createJobRunner(availableParallelism());
  const runs = new Map<string, SpecRun>();
  try {
    const done = await Promise.all(loaded.map((l) => runSpec(l, pool, progress, reports)));
    for (const r of done) runs.set(r.name, r);
  } finally {
    await pool.close();
    progress.done();
  }
  const files: [string, string | Uint8Array][] = [];
  const summaries: Record<string, string> = {};
  for (const { doc, specs } of DOCUMENTS) {
    const mine = new Map(specs.map((s) => [s, runs.get(s)!]));
    const figureDir = (spec: string) => `figures/${doc}/${spec}`;
    for (const r of mine.values()) {
      for (const c of r.ctx.charts.filter((c) => DOC_CHART_KINDS.has(c.kind))) {
        files.push([join(DOCS, figureDir(r.name), `${c.id}.png`), await pngInWorker(c.svg)]);
      }
    }
    const built =
      doc === "paper-influenza"
        ? influenzaDoc(mine, figureDir)
        : doc === "eicu-regions"
          ? eicuDoc(mine, figureDir)
          : whichModelDoc(mine);
    files.push([join(DOCS, `${doc}.md`), built.markdown]);
    summaries[doc] = built.summary;
  }
  // Figures of an earlier run may have other ids: replace the folders, not merge into them.
  for (const { doc } of DOCUMENTS) rmSync(join(DOCS, "figures", doc), { recursive: true, force: true });
  for (const [path, data] of files) await writeFileAtomic(path, data);
  await writeReadme(summaries);
  // The alignment document (raw and conditioned embeddings on eICU drug names): its own script.
  execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      join(PROJECT_ROOT, "scripts", "align-eicu.ts"),
      "--markdown",
      join(DOCS, "alignment-eicu.md"),
    ],
    {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  process.stderr.write(
    `reproduce: ${files.length} files written under docs/results in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
}

async function runSpec(
  loaded: LoadedSpec,
  pool: JobRunner,
  progress: Progress,
  reports: boolean,
): Promise<SpecRun> {
  const name = loaded.spec.name;
  const out = join(OUTPUT, name);
  const summary = await runExperiment(loaded, {
    out,
    // One folder of source models for all specs: the learning curve's source arms are the main grid's.
    modelsDir: join(OUTPUT, "source-models"),
    runner: pool,
    quiet: true,
    onStart: ({ cells, pending }) => {
      if (cells > pending)
        progress.tick(cells - pending, `${name}: ${cells - pending} finished cells reused`);
    },
    onCell: (r) => progress.tick(1, `${name}: ${describeCell(r.key)}`),
  });
  process.stderr.write(
    `\n${name}: ${summary.cells} cells, ${summary.skipped} reused, ${summary.ran} run, ${summary.failed} failed\n`,
  );
  if (summary.failed > 0)
    throw new Error(`${name}: ${summary.failed} cells failed (see ${summary.resultsPath})`);
  // The full report (HTML with every figure) for the user; not committed.
  if (reports)
    await buildReport(summary.resultsPath, {
      out: join(out, "report"),
      now: PINNED,
      silent: true,
      settings: { title: name },
    });
  const { ctx, cells } = await docContext(loaded, summary.resultsPath);
  return { ...specInfo(loaded), ctx, cells };
}

/** The report context the documents use: cells in grid order and provenance without clock or commit. */
async function docContext(loaded: LoadedSpec, resultsPath: string) {
  const store = await loadResultsStore(resultsPath);
  const order = new Map(
    expandGrid(loaded.spec)
      .flatMap((j) => j.cells.map((c) => c.id))
      .map((id, i) => [id, i]),
  );
  // Only this spec's cells, in grid order: worker scheduling decides the store's line order, and the
  // report orders rows and columns by first appearance.
  const cells = store.cells
    .filter((c) => order.has(c.key.id))
    .sort((a, b) => order.get(a.key.id)! - order.get(b.key.id)!);
  // The committed documents keep the report rules they were written with (report/settings.ts
  // compatibility): a rerun writes the same bytes.
  const ctx = await buildContext(
    { ...store, cells },
    reportSettings({ title: loaded.spec.name, compatibility: "reproduction-v1" }),
    PINNED,
  );
  ctx.provenance = {
    ...ctx.provenance,
    reportCodeVersion: CODE_VERSION,
    codeVersions: [CODE_VERSION],
    createdAt: null,
    specFile: relative(PROJECT_ROOT, loaded.path),
  };
  return { ctx, cells };
}

function specInfo(loaded: LoadedSpec): Omit<SpecRun, "ctx"> {
  const { spec } = loaded;
  // The settings every job ran with: the spec parsed them once over their presets (experiment/spec.ts).
  const { training, finetuning, baselineTraining: baseline } = spec;
  const kinds = spec.model.kinds;
  const parts: string[] = [];
  if (kinds.includes("cnn")) parts.push(`${kinds.length > 1 ? "CNN: " : ""}${iterationsText(training)}`);
  if (kinds.includes("logistic"))
    parts.push(
      `logistic: ${baseline.optimizer === "adam" ? "Adam" : "SGD"} lr ${baseline.lr}, ${iterationsText(baseline)}`,
    );
  return {
    name: spec.name,
    specFile: relative(PROJECT_ROOT, loaded.path),
    description: (spec.description ?? "").trim(),
    trainIterations: parts.join("; "),
    finetuneIterations:
      kinds.includes("cnn") && spec.scenarios.some((s) => s.startsWith("finetune-"))
        ? `lr ${finetuning.lr}, ${iterationsText(finetuning)}`
        : "—",
    settings: {
      training,
      finetuning,
      baseline,
      bootstrap: parseBootstrapSettings(
        spec.evaluation.bootstrap !== undefined ? { resamples: spec.evaluation.bootstrap } : {},
      ).resamples,
    },
    excluded: spec.exclude.map((e) =>
      Object.entries(e)
        .map(([k, v]) => (k === "scenario" || k === "embedding" ? String(v) : `${k} ${v}`))
        .join(" × "),
    ),
  };
}

async function writeReadme(summaries: Record<string, string>): Promise<void> {
  const path = join(PROJECT_ROOT, "README.md");
  const readme = readFileSync(path, "utf8");
  const block = [
    README_START,
    "<!-- Written by `npm run reproduce` (scripts/reproduce.ts); edits between these markers are overwritten. -->",
    "",
    `**[Influenza (the seed paper's experiment)](docs/results/paper-influenza.md).** ${summaries["paper-influenza"]}`,
    "",
    `**[eICU Midwest ↔ South](docs/results/eicu-regions.md).** ${summaries["eicu-regions"]}`,
    "",
    `**[Which model to deploy](docs/results/which-model.md).** ${summaries["which-model"]}`,
    README_END,
  ].join("\n");
  let next: string;
  if (readme.includes(README_START) && readme.includes(README_END)) {
    next =
      readme.slice(0, readme.indexOf(README_START)) +
      block +
      readme.slice(readme.indexOf(README_END) + README_END.length);
  } else {
    const section = `## Results\n\n\`npm run reproduce\` reruns the seed paper's experiment on public data and regenerates these documents (a rerun reuses finished cells from \`reproduce-output/\`).\n\n${block}\n\n`;
    const at = readme.indexOf("## Public data");
    next = at >= 0 ? readme.slice(0, at) + section + readme.slice(at) : `${readme.trimEnd()}\n\n${section}`;
  }
  if (next !== readme) await writeFileAtomic(path, next);
}

if (!existsSync(SPEC_DIR)) throw new Error(`no spec folder ${SPEC_DIR}`);
await main();
