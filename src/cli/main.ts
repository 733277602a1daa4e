#!/usr/bin/env node
import { Command } from "commander";
import { CODE_VERSION } from "../util/version.js";

// Each command lives in its own file and registers itself here.
const program = new Command()
  .name("conceptbridge")
  .description("Cross-site clinical prediction with concept-text embeddings")
  .version(CODE_VERSION)
  .showHelpAfterError();

const registrations: ((p: Command) => void)[] = [
  // (registered commands are appended below by each command module)
];

for (const register of registrations) register(program);

await program.parseAsync(process.argv);
