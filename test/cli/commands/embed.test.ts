import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../in-process.js";

// `conceptbridge embed inspect` through the real program (parsing, exit codes); the numbers are
// checked in test/embed/cli-embed.test.ts.
const data = "shared:influenza-dtl/target_test/findings_final_0814_seed-1494714102_size10000.csv";
const catalog = "shared:influenza-embeddings/concept_pair.txt";

test("embed inspect prints the diagnostics, --json the same as JSON; bad settings exit 2", async () => {
  process.env.CONCEPTBRIDGE_QUIET = "1";
  const args = ["embed", "inspect", data, "--catalog", catalog, "--provider", "hashing", "--no-cache"];
  const text = await runCli([...args, "--pair", "shortness of breath|short of breath"]);
  assert.equal(text.code, 0, text.output);
  assert.match(text.output, /128 tokens, dimension 512, 0 without a vector/);
  assert.match(text.output, /"X" vs "Not X" cosine {3}raw -0\.900/);
  assert.match(text.output, /cosine "shortness of breath" \/ "short of breath": 0\.736/);
  const json = await runCli([...args, "--json"]);
  assert.equal(json.code, 0, json.output);
  const [line] = JSON.parse(json.output) as { diagnostics: { stats: { raw: { negationCosine: number } } } }[];
  assert.ok(Math.abs(line.diagnostics.stats.raw.negationCosine + 0.9) < 0.01);
  const bad = await runCli([...args, "--set", "postprocess=whiten:999"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.output,
    /field "embedding\.postprocess": whiten:999 asks for more components than the \d+/,
  );
  const missing = await runCli([
    "embed",
    "inspect",
    data,
    "--catalog",
    catalog,
    "--provider",
    "vectors",
    "--set",
    "file=no/such.vec",
    "--no-cache",
  ]);
  assert.equal(missing.code, 2);
  assert.match(missing.output, /no\/such\.vec: cannot read the vector file: ENOENT/);
});
