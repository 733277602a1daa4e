import { join } from "node:path";
import type { Command } from "commander";
import { PROJECT_ROOT } from "../../util/paths.js";
import { action } from "../run-command.js";
import { type RunCliOptions, runSpecFile } from "./run.js";

/** The spec `demo` (= `npm start`) runs: the built-in synthetic two-site world with offline embedders. */
export const DEMO_SPEC = join(PROJECT_ROOT, "examples", "synthetic.yaml");

export function register(program: Command): void {
  program
    .command("demo")
    .description(
      "the built-in synthetic two-site world, offline embedders, every scenario in both directions; " +
        "prints the scenario x embedding table and writes the report to ./conceptbridge-demo/",
    )
    .option("-o, --out <dir>", "output folder", "conceptbridge-demo")
    .option("-w, --workers <n>", "worker threads (default: one per core)")
    .option("-q, --quiet", "no progress output")
    .action(
      action(async (opts: RunCliOptions) => {
        await runSpecFile(DEMO_SPEC, opts, "conceptbridge-demo");
      }),
    );
}
