#!/usr/bin/env node
import { Command } from "commander";
import { configureProgram, registerCommands } from "./program.js";

const program = configureProgram(new Command());
registerCommands(program);
await program.parseAsync(process.argv);
