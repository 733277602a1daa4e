import { join, resolve } from "node:path";
import type { Command } from "commander";
import { runExperiment } from "../../experiment/runner.js";
import { loadSpec } from "../../experiment/spec.js";
import { buildReport } from "../../report/build.js";
import { InputError } from "../../util/errors.js";
import { formatTables } from "../print-tables.js";
import { action } from "../run-command.js";

export interface RunCliOptions {
  out?: string;
  workers?: string;
  dryRun?: boolean;
  failFast?: boolean;
  quiet?: boolean;
  report?: boolean;
}

/** Run a spec, then build its report and print the tables. Shared by `run` and `demo`. */
export async function runSpecFile(specPath: string, opts: RunCliOptions, defaultOut: string): Promise<void> {
  const loaded = await loadSpec(specPath);
  const out = resolve(opts.out ?? join(defaultOut, loaded.spec.name));
  const workers = opts.workers === undefined ? undefined : Number(opts.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
    throw new InputError("must be a positive integer", { field: "--workers" });
  }
  const summary = await runExperiment(loaded, {
    out,
    ...(workers !== undefined ? { workers } : {}),
    dryRun: opts.dryRun === true,
    failFast: opts.failFast === true,
    quiet: opts.quiet === true,
  });
  if (opts.dryRun) return;
  process.stderr.write(
    `${summary.cells} cells: ${summary.skipped} already done, ${summary.ran} run, ${summary.failed} failed -> ${summary.resultsPath}\n`,
  );
  if (opts.report === false) return;
  const built = await buildReport(summary.resultsPath, { out, silent: opts.quiet === true });
  process.stdout.write(formatTables(built.context.tables));
  process.stdout.write(`\nreport: ${join(built.outDir, "report.html")}\n`);
  if (summary.failed > 0) process.exitCode = 1;
}

export function register(program: Command): void {
  program
    .command("run")
    .description("run an experiment spec (YAML/JSON): every arm of its grid, resumable, then its report")
    .argument("<spec>", "experiment spec file")
    .option("-o, --out <dir>", "output folder (default ./conceptbridge-results/<spec name>)")
    .option("-w, --workers <n>", "worker threads (default: one per core)")
    .option("--dry-run", "list the grid's cells and which are done, run nothing")
    .option("--fail-fast", "stop at the first failing cell")
    .option("--no-report", "do not build the report")
    .option("-q, --quiet", "no progress output")
    .action(
      action(async (spec: string, opts: RunCliOptions) => {
        await runSpecFile(spec, opts, "conceptbridge-results");
      }),
    );
}
