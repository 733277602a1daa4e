import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../in-process.js";

/** `conceptbridge report` in-process (test/cli/in-process.ts): the same parsing, wrapper and exit codes. */
async function cli(args: string[]): Promise<number> {
  const r = await runCli(args);
  output = r.output;
  return r.code;
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

test("case 4: report --out into a folder holding another report needs --force; merging needs --out", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-report-cli-"));
  writeFileSync(join(dir, "results.jsonl"), `${line("a", 1, 0.71)}\n${line("b", 2, 0.75)}\n`);
  const out = join(dir, "out");
  assert.equal(await cli(["report", dir, "--out", out, "--quiet"]), 0, output);
  writeFileSync(join(out, "report.md"), "someone's notes");
  assert.equal(await cli(["report", dir, "--out", out, "--quiet"]), 2);
  assert.match(output, /out\/report\.html, field "--out": already exists; pass --force/);
  assert.equal(await cli(["report", dir, "--out", out, "--quiet", "--force"]), 0, output);
  // The store's own folder: its report is regenerated (every `run` does this).
  assert.equal(await cli(["report", dir, "--quiet"]), 0, output);
  assert.equal(await cli(["report", dir, "--quiet"]), 0, output);
  assert.equal(await cli(["report", dir, dir, "--quiet"]), 2);
  assert.match(output, /merging several stores needs an output folder/);
});
