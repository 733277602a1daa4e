import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Command } from "commander";
import { inspectCommand, register, synthesizeCommand } from "../../../src/cli/commands/data.js";
import { InputError } from "../../../src/util/errors.js";

// The commands' work is tested in-process (spawning the CLI costs seconds of start-up per call);
// exit codes come from cli/run-command's action(), which maps an InputError to exit 2.

const FINDINGS = "shared:influenza-dtl/target_train/findings_final_0814_seed-53154026_size50.csv";
const CATALOG = "shared:influenza-embeddings/concept_pair.txt";

async function inspect(sources: string[], opts: Parameters<typeof inspectCommand>[1]): Promise<string> {
  let out = "";
  await inspectCommand(sources, opts, (s) => {
    out += s;
  });
  return out;
}

test("data inspect --json prints one JSON object; human output masks small counts", async () => {
  const json = await inspect([FINDINGS], { catalog: CATALOG, json: true });
  assert.equal(json.trim().split("\n").length, 1);
  const report = JSON.parse(json);
  assert.equal(report.sites[0].encounters, 50);
  assert.deepEqual(report.sites[0].labelCounts, { I: 19, M: 9, P: 7, R: 15 });
  const human = await inspect([FINDINGS], { catalog: CATALOG });
  assert.match(human, /labels\s+I 19, M <11, P <11, R 15/);
});

test("data inspect: bad input is an InputError (exit 2) and prints nothing", async () => {
  let out = "";
  await assert.rejects(
    inspectCommand([FINDINGS], {}, (s) => {
      out += s;
    }),
    (e: unknown) => e instanceof InputError && /needs a concept catalog/.test(e.message),
  );
  assert.equal(out, "");
});

test("data synthesize writes a world that data inspect reads", async () => {
  const dir = join("test-output", "data", "cli-world");
  assert.equal(await synthesizeCommand(dir, { seed: 3, encounters: 100, sites: 3 }), 3);
  assert.ok(existsSync(join(dir, "mapping.json")));
  assert.equal(JSON.parse(readFileSync(join(dir, "mapping.json"), "utf8")).settings.seed, 3);
  const report = JSON.parse(await inspect([dir], { json: true }));
  assert.equal(report.sites.length, 3);
  assert.equal(report.pairs.length, 3);
  await assert.rejects(synthesizeCommand(dir, { shift: 2 }), /synthetic\.shift/);
});

test("register adds `data inspect` and `data synthesize`", () => {
  const program = new Command();
  register(program);
  const data = program.commands.find((c) => c.name() === "data");
  assert.deepEqual(
    data?.commands.map((c) => c.name()),
    ["inspect", "synthesize"],
  );
});
