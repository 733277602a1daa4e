import { join, resolve } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { createProgress } from "../util/progress.js";
import { svgToPng } from "./charts.js";
import { buildContext, type ReportContext } from "./context.js";
import { resultsCsv, summaryJson } from "./exports.js";
import { renderHtml } from "./html.js";
import { loadResultsStore } from "./load.js";
import { renderMarkdown } from "./markdown.js";
import { type ReportSettingsInput, reportSettings } from "./settings.js";

export interface BuildReportOptions {
  /** Output folder; default: the results store's folder. */
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
 * results.csv, summary.json and figures/<id>.svg + .png. Everything is computed first and each file
 * is written atomically, so an input error leaves no partial report behind.
 */
export async function buildReport(resultsPath: string, opts: BuildReportOptions = {}): Promise<BuiltReport> {
  const settings = reportSettings(opts.settings);
  const store = await loadResultsStore(resultsPath);
  const outDir = resolve(opts.out ?? store.dir);
  const ctx = await buildContext(store, settings, opts.now);
  const progress = createProgress({ label: "report figures", total: ctx.charts.length, silent: opts.silent });
  const outputs: [string, string | Uint8Array][] = [];
  for (const c of ctx.charts) {
    outputs.push([join(outDir, "figures", `${c.id}.svg`), c.svg]);
    outputs.push([join(outDir, "figures", `${c.id}.png`), svgToPng(c.svg)]);
    progress.tick(1, c.id);
  }
  progress.done();
  outputs.push([join(outDir, "report.html"), renderHtml(ctx)]);
  outputs.push([join(outDir, "report.md"), renderMarkdown(ctx)]);
  outputs.push([join(outDir, "results.csv"), resultsCsv(ctx)]);
  outputs.push([join(outDir, "summary.json"), summaryJson(ctx)]);
  for (const [path, data] of outputs) await writeFileAtomic(path, data);
  return { outDir, files: outputs.map(([p]) => p), context: ctx };
}
