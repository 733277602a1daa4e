import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Command } from "commander";
import { register } from "../../src/cli/commands/report.js";

/**
 * `conceptbridge report` through its commander registration, in-process (spawning tsx for the whole
 * CLI costs seconds on a shared CI box): the same parsing, action wrapper and exit codes.
 */
async function cli(args: string[]): Promise<number> {
  const program = new Command().exitOverride();
  register(program);
  const before = process.exitCode;
  process.exitCode = undefined;
  const stderr = process.stderr.write;
  const stdout = process.stdout.write;
  let captured = "";
  process.stderr.write = ((s: string) => {
    captured += s;
    return true;
  }) as typeof process.stderr.write;
  process.stdout.write = ((s: string) => {
    captured += s;
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(["node", "conceptbridge", ...args]);
  } finally {
    process.stderr.write = stderr;
    process.stdout.write = stdout;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  output = captured;
  return code;
}
let output = "";

const line = (id: string, seed: number, auroc: number) =>
  JSON.stringify({
    key: { id, scenario: "local", embedding: "onehot", target: "B", targetSize: 50, seed, task: "t" },
    status: "ok",
    metrics: { auroc, aurocCI: [auroc - 0.05, auroc + 0.05] },
    finishedAt: "2026-11-25T00:00:00Z",
    codeVersion: "x",
  });

test("report writes report.html into --out; a bad store exits 2 naming the line and leaves no report", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-report-cli-"));
  writeFileSync(join(dir, "results.jsonl"), `${line("a", 1, 0.71)}\n${line("b", 2, 0.75)}\n`);
  const out = join(dir, "out");
  assert.equal(await cli(["report", dir, "--out", out, "--quiet", "--title", "Flu transfer"]), 0, output);
  assert.match(output, /report written to/);
  assert.ok(existsSync(join(out, "report.html")) && existsSync(join(out, "summary.json")));

  const bad = mkdtempSync(join(tmpdir(), "cb-report-cli-bad-"));
  writeFileSync(join(bad, "results.jsonl"), `${line("a", 1, 0.71)}\n{"key": 3}\n`);
  assert.equal(await cli(["report", bad, "--quiet"]), 2);
  assert.match(output, /results\.jsonl, row 2, field "key"/);
  assert.ok(!existsSync(join(bad, "report.html")));
});
