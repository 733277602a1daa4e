import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { readManifest } from "../../experiment/store.js";
import { buildReport } from "../../report/build.js";
import { formatWarnings } from "../../report/warnings.js";
import { InputError } from "../../util/errors.js";
import { checkWritable } from "../../util/output-file.js";
import { action } from "../run-command.js";

/** Files a report writes (report/build.ts): the ones checked before overwriting another folder's report. */
const REPORT_FILES = [
  "report.html",
  "report.md",
  "results.csv",
  "summary.json",
  "recommendation.json",
  "recommendation.md",
];

function storeDir(path: string): string {
  return resolve(existsSync(path) && statSync(path).isDirectory() ? path : dirname(path));
}

export function register(program: Command): void {
  program
    .command("report")
    .description(
      "Build a self-contained HTML report (plus Markdown, CSV, JSON and PNG/SVG figures) from a results store, " +
        "or from the stores of one experiment's shards (`run --shard k/N`), merged",
    )
    .argument(
      "<results...>",
      "results folder (with results.jsonl) or a results .jsonl file; several: shards to merge",
    )
    .option(
      "-o, --out <dir>",
      "output folder, never the results folder itself (default: report/ inside the results folder; required to merge several stores)",
    )
    .option(
      "--small-cell-threshold <n>",
      "counts of people below n are suppressed (default: the spec's report.smallCellThreshold, else 11)",
    )
    .option("--title <text>", "report title")
    .option("--reference <scenario>", "scenario the other arms are tested against", "local")
    .option("--baseline <embedding>", "embedding shown as the baseline column", "onehot")
    .option("--no-holm", "do not Holm-adjust the paired tests")
    .option("--force", "overwrite a report already in --out (a store's own report is always regenerated)")
    .option("-q, --quiet", "no progress output")
    .action(
      action(
        async (
          results: string[],
          opts: {
            out?: string;
            title?: string;
            reference: string;
            baseline: string;
            holm: boolean;
            force?: boolean;
            quiet?: boolean;
            smallCellThreshold?: string;
          },
        ) => {
          const threshold =
            opts.smallCellThreshold === undefined ? undefined : Number(opts.smallCellThreshold);
          if (threshold !== undefined && (!Number.isInteger(threshold) || threshold < 1))
            throw new InputError("must be a positive integer", { field: "--small-cell-threshold" });
          if (results.length > 1 && opts.out === undefined)
            throw new InputError("merging several stores needs an output folder", { field: "--out" });
          // A store's own folder holds the report made from it (each `run` regenerates it); any other
          // folder's report is only replaced with --force.
          if (opts.out !== undefined) {
            const out = resolve(opts.out);
            const own = results.length === 1 && storeDir(results[0]) === out;
            if (!own)
              for (const f of REPORT_FILES) checkWritable(join(out, f), { force: opts.force, flag: "--out" });
          }
          const built = await buildReport(results.length === 1 ? results[0] : results, {
            out: opts.out,
            silent: opts.quiet,
            settings: {
              title: opts.title,
              referenceScenario: opts.reference,
              baselineEmbedding: opts.baseline,
              adjustment: opts.holm ? "holm" : "none",
              smallCellThreshold: threshold,
            },
          });
          process.stdout.write(
            `report written to ${built.outDir} (${built.files.length} files): report.html\n`,
          );
          if (!opts.quiet) process.stdout.write(formatWarnings(built.context.warnings));
          const manifest = readManifest(storeDir(results[0]));
          const missing = manifest ? manifest.grid.length - built.context.provenance.cells.ok : 0;
          if (manifest && missing > 0)
            process.stderr.write(
              `note: ${missing} of the experiment's ${manifest.grid.length} cells are not in ${results.length > 1 ? "these stores" : "this store"} (unfinished, failed, or shards not given)\n`,
            );
        },
      ),
    );
}
