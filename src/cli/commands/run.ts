import { join, resolve } from "node:path";
import type { Command } from "commander";
import { runExperiment } from "../../experiment/runner.js";
import { parseShard } from "../../experiment/shard.js";
import { loadSpec } from "../../experiment/spec.js";
import { buildReport } from "../../report/build.js";
import { formatRecommendation } from "../../report/recommendation.js";
import { formatWarnings } from "../../report/warnings.js";
import { InputError } from "../../util/errors.js";
import { containedPath } from "../../util/safe-path.js";
import { formatTables } from "../print-tables.js";
import { action } from "../run-command.js";

export interface RunCliOptions {
  out?: string;
  workers?: string;
  dryRun?: boolean;
  failFast?: boolean;
  quiet?: boolean;
  report?: boolean;
  forceNew?: boolean;
  shard?: string;
}

/** Run a spec, then build its report and print the tables. Shared by `run` and `demo`. */
export async function runSpecFile(specPath: string, opts: RunCliOptions, defaultOut: string): Promise<void> {
  const loaded = await loadSpec(specPath);
  // The spec's name is a safe slug (spec.ts); the default folder is still checked to stay inside.
  const out =
    opts.out !== undefined
      ? resolve(opts.out)
      : containedPath(defaultOut, [loaded.spec.name], "output folder");
  const shard = opts.shard === undefined ? null : parseShard(opts.shard);
  const workers = opts.workers === undefined ? undefined : Number(opts.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
    throw new InputError("must be a positive integer", { field: "--workers" });
  }
  const summary = await runExperiment(loaded, {
    out,
    ...(workers !== undefined ? { workers } : {}),
    dryRun: opts.dryRun === true,
    forceNew: opts.forceNew === true,
    shard,
    failFast: opts.failFast === true,
    quiet: opts.quiet === true,
  });
  if (opts.dryRun) return;
  process.stderr.write(
    `${summary.cells} cells: ${summary.skipped} already done, ${summary.ran} run, ${summary.failed} failed -> ${summary.resultsPath}\n`,
  );
  if (summary.failed > 0) process.exitCode = 1;
  if (shard) {
    // A shard's cells are part of a grid: the report is made from all shards' stores together.
    process.stderr.write(
      `shard ${shard.index}/${shard.count} done; when every shard is, merge them: conceptbridge report <shard folders...> --out <dir>\n`,
    );
    return;
  }
  if (opts.report === false) return;
  // The report goes to <out>/report: the folder that may be shared (aggregates only), beside the
  // results store (per-encounter predictions), which stays at the site.
  const built = await buildReport(summary.resultsPath, { silent: opts.quiet === true });
  process.stdout.write(`${formatRecommendation(built.context.recommendation)}\n`);
  process.stdout.write(formatTables(built.context.detailTables));
  process.stdout.write(`\n${formatWarnings(built.context.warnings)}`);
  process.stdout.write(`\nreport: ${join(built.outDir, "report.html")}\n`);
}

export function register(program: Command): void {
  program
    .command("run")
    .description("run an experiment spec (YAML/JSON): every arm of its grid, resumable, then its report")
    .argument("<spec>", "experiment spec file")
    .option("-o, --out <dir>", "output folder (default ./conceptbridge-results/<spec name>)")
    .option("-w, --workers <n>", "worker threads (default: one per core)")
    .option(
      "--dry-run",
      "check everything a run checks (sites, sizes, embeddings), list the cells; train nothing",
    )
    .option("--force-new", "delete the results already in the output folder and start over")
    .option(
      "--shard <k/N>",
      "run shard k of N of the grid, into its own --out (Slurm arrays, Kubernetes Indexed Jobs); `report` merges the shards",
    )
    .option("--fail-fast", "stop at the first failing cell")
    .option("--no-report", "do not build the report")
    .option("-q, --quiet", "no progress output")
    .action(
      action(async (spec: string, opts: RunCliOptions) => {
        await runSpecFile(spec, opts, "conceptbridge-results");
      }),
    );
}
