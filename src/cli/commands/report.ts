import type { Command } from "commander";
import { buildReport } from "../../report/build.js";
import { action } from "../run-command.js";

export function register(program: Command): void {
  program
    .command("report")
    .description(
      "Build a self-contained HTML report (plus Markdown, CSV, JSON and PNG/SVG figures) from a results store",
    )
    .argument("<results>", "results folder (with results.jsonl) or a results .jsonl file")
    .option("-o, --out <dir>", "output folder (default: beside the results)")
    .option("--title <text>", "report title")
    .option("--reference <scenario>", "scenario the other arms are tested against", "local")
    .option("--baseline <embedding>", "embedding shown as the baseline column", "onehot")
    .option("--no-holm", "do not Holm-adjust the paired tests")
    .option("-q, --quiet", "no progress output")
    .action(
      action(
        async (
          results: string,
          opts: {
            out?: string;
            title?: string;
            reference: string;
            baseline: string;
            holm: boolean;
            quiet?: boolean;
          },
        ) => {
          const built = await buildReport(results, {
            out: opts.out,
            silent: opts.quiet,
            settings: {
              title: opts.title,
              referenceScenario: opts.reference,
              baselineEmbedding: opts.baseline,
              adjustment: opts.holm ? "holm" : "none",
            },
          });
          process.stdout.write(
            `report written to ${built.outDir} (${built.files.length} files): report.html\n`,
          );
        },
      ),
    );
}
