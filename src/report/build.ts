import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { InputError } from "../util/errors.js";
import { createProgress } from "../util/progress.js";
import { buildContext, type ReportContext } from "./context.js";
import { resultsCsv, summaryJson } from "./exports.js";
import { renderHtml } from "./html.js";
import { loadResultsStore } from "./load.js";
import { renderReportMarkdown } from "./markdown.js";
import { pngsInWorkers } from "./rasterize.js";
import { formatRecommendation, recommendationJson, recommendationMarkdown } from "./recommendation.js";
import { type ReportSettingsInput, reportSettings } from "./settings.js";

export interface BuildReportOptions {
  /**
   * Output folder; default: `report/` inside the results store's folder. It may not be the folder
   * holding results.jsonl: the report folder is what may leave the site (aggregates only), the
   * results store beside it holds every test encounter's label and score.
   */
  out?: string;
  settings?: ReportSettingsInput;
  /** Clock for the "generated" stamp (tests pin it). */
  now?: Date;
  /** No progress output. */
  silent?: boolean;
}

export interface BuiltReport {
  outDir: string;
  /** Every file written, absolute paths. */
  files: string[];
  context: ReportContext;
}

/**
 * Build the whole report from a results store: report.html (self-contained), report.md,
 * results.csv, summary.json, recommendation.json + .md and figures/<id>.svg + .png, into a folder
 * of its own (aggregates only: the folder that may be shared). Everything is computed first and each
 * file is written atomically, so an input error leaves no partial report behind.
 */
export async function buildReport(
  resultsPath: string | readonly string[],
  opts: BuildReportOptions = {},
): Promise<BuiltReport> {
  const store = await loadResultsStore(resultsPath);
  const settings = reportSettings({
    ...specReportSettings(store.provenance.spec),
    ...definedOnly(opts.settings),
  });
  const outDir = resolve(opts.out ?? join(store.dir, "report"));
  if (outDir === resolve(store.dir) || existsSync(join(outDir, "results.jsonl"))) {
    throw new InputError(
      "the report folder may not hold the results store: results.jsonl has every test encounter's label and score, the report folder only aggregates (it is the one that may leave the site); give the report a folder of its own",
      { file: outDir, field: "--out" },
    );
  }
  const ctx = await buildContext(store, settings, opts.now);
  const progress = createProgress({ label: "report figures", total: ctx.charts.length, silent: opts.silent });
  const outputs: [string, string | Uint8Array][] = [];
  const pngs = await pngsInWorkers(
    ctx.charts.map((c) => c.svg),
    2,
    (i) => progress.tick(1, ctx.charts[i].id),
  );
  ctx.charts.forEach((c, i) => {
    outputs.push([join(outDir, "figures", `${c.id}.svg`), c.svg]);
    outputs.push([join(outDir, "figures", `${c.id}.png`), pngs[i]]);
  });
  progress.done();
  outputs.push([join(outDir, "report.html"), renderHtml(ctx)]);
  outputs.push([join(outDir, "report.md"), renderReportMarkdown(ctx)]);
  outputs.push([join(outDir, "results.csv"), resultsCsv(ctx)]);
  outputs.push([join(outDir, "summary.json"), summaryJson(ctx)]);
  outputs.push([
    join(outDir, "recommendation.json"),
    `${JSON.stringify({ format: "conceptbridge-recommendation", version: 1, rows: recommendationJson(ctx.recommendation) }, null, 2)}\n`,
  ]);
  outputs.push([
    join(outDir, "recommendation.md"),
    [`# Recommendation — ${settings.title}`, "", ...recommendationMarkdown(ctx.recommendation)].join("\n"),
  ]);
  for (const [path, data] of outputs) await writeFileAtomic(path, data);
  return { outDir, files: outputs.map(([p]) => p), context: ctx };
}

/** Settings the experiment spec gives the report (`report.smallCellThreshold`). */
function specReportSettings(spec: unknown): ReportSettingsInput {
  const r = (spec as { report?: { smallCellThreshold?: unknown } } | undefined)?.report;
  return typeof r?.smallCellThreshold === "number" ? { smallCellThreshold: r.smallCellThreshold } : {};
}

/** Options left undefined (a CLI flag not given) do not override the spec's settings. */
function definedOnly(s: ReportSettingsInput | undefined): ReportSettingsInput {
  return Object.fromEntries(
    Object.entries(s ?? {}).filter(([, v]) => v !== undefined),
  ) as ReportSettingsInput;
}

export { formatRecommendation };
