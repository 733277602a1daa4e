import { Command } from "commander";
import { configureProgram, registerCommands } from "../../src/cli/program.js";

/**
 * The whole `conceptbridge` program run in this process (spawning tsx per command costs seconds on
 * a shared CI box): the same parsing, action wrapper and exit codes as the real binary.
 */
export async function runCli(args: string[]): Promise<{ code: number; output: string }> {
  const program = configureProgram(new Command(), { exit: false });
  registerCommands(program);
  const before = process.exitCode;
  process.exitCode = undefined;
  const stderr = process.stderr.write;
  const stdout = process.stdout.write;
  let captured = "";
  // The CLI writes strings. Anything else is not ours: under `node --test` the test runner reports
  // each test's result to its parent as binary frames on stdout, and swallowing those would hide
  // results (failures included) of tests that finish while a command runs.
  const capturing = (original: typeof process.stdout.write, stream: NodeJS.WriteStream) =>
    ((chunk: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== "string")
        return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      captured += chunk;
      return true;
    }) as typeof process.stdout.write;
  process.stderr.write = capturing(stderr, process.stderr);
  process.stdout.write = capturing(stdout, process.stdout);
  let code: number;
  try {
    await program.parseAsync(["node", "conceptbridge", ...args]);
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    code = (e as { exitCode?: number }).exitCode ?? 1;
  } finally {
    process.stderr.write = stderr;
    process.stdout.write = stdout;
  }
  process.exitCode = before;
  return { code, output: captured };
}
