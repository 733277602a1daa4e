#!/usr/bin/env node
import { Command } from "commander";
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

// Each command lives in its own file and registers itself here.
const program = new Command()
  .name("conceptbridge")
  .description("Cross-site clinical prediction with concept-text embeddings")
  .version(CODE_VERSION)
  .showHelpAfterError();

const registrations: ((p: Command) => void)[] = [
  // (registered commands are appended below by each command module)
  registerRun,
  registerDemo,
  registerTrain,
  registerReport,
  registerData,
  registerEmbed,
  registerAlign,
  registerBundle,
  registerBundleWorkflow,
];

for (const register of registrations) register(program);

await program.parseAsync(process.argv);
