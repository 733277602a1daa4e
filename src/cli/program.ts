import type { Command } from "commander";
import { CODE_VERSION } from "../util/version.js";
import { register as registerAlign } from "./commands/align.js";
import { register as registerBundle } from "./commands/bundle.js";
import { register as registerBundleWorkflow } from "./commands/bundle-workflow.js";
import { register as registerData } from "./commands/data.js";
import { register as registerDemo } from "./commands/demo.js";
import { register as registerEmbed } from "./commands/embed.js";
import { register as registerReport } from "./commands/report.js";
import { register as registerRun } from "./commands/run.js";
import { register as registerTrain } from "./commands/train.js";

/** Usage errors (unknown option, bad flag value, unknown command) are bad input: exit code 2. */
export const USAGE_EXIT_CODE = 2;

/**
 * The `conceptbridge` program: name, version, and how usage errors end. With `exit: false` (tests)
 * commander throws instead of exiting, carrying the same exit code.
 */
export function configureProgram(program: Command, o: { exit: boolean } = { exit: true }): Command {
  return program
    .name("conceptbridge")
    .description("Cross-site clinical prediction with concept-text embeddings")
    .version(CODE_VERSION)
    .showHelpAfterError()
    .exitOverride((err) => {
      // Help and --version end with 0; every other commander error is a usage error.
      const code = err.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
      if (o.exit) process.exit(code);
      throw Object.assign(err, { exitCode: code });
    });
}

/** Each command lives in its own file and registers itself here. */
export function registerCommands(program: Command): void {
  for (const register of [
    registerRun,
    registerDemo,
    registerTrain,
    registerReport,
    registerData,
    registerEmbed,
    registerAlign,
    registerBundle,
    registerBundleWorkflow,
  ])
    register(program);
}
