import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  embedCommand,
  formatCoverage,
  similarCommand,
  specFromOptions,
} from "../../src/cli/commands/embed.js";
import { InputError } from "../../src/util/errors.js";
import { sharedData } from "../../src/util/paths.js";

// Tests of src/cli/commands/embed.ts (kept under test/embed with the rest of the embed work).
const data = sharedData("influenza-dtl", "target_train", "findings_final_0814_seed-53154026_size50.csv");
const catalog = sharedData("influenza-embeddings", "concept_pair.txt");
const bert = "shared:influenza-embeddings/concept_pair_bert.h5";

test("embed <dataset> fills the cache and reports coverage; a rerun embeds nothing", async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), "cb-cli-embed-"));
  process.env.CONCEPTBRIDGE_QUIET = "1";
  const o = { provider: "table", set: [`file=${bert}`], catalog, cacheDir };
  const [line] = await embedCommand(data, o);
  assert.equal(line.dimension, 768);
  assert.equal(line.zeroVectors, 0);
  assert.equal(line.embedded, line.distinctTexts);
  assert.equal(line.fromCache, 0);
  assert.equal((line.matches?.exact ?? 0) + (line.matches?.code ?? 0), line.tokens);
  assert.match(formatCoverage([line], "table"), /(\d+)\/\1 tokens with a vector \(100\.0%\), dimension 768/);
  const [again] = await embedCommand(data, o);
  assert.equal(again.embedded, 0);
  assert.equal(again.fromCache, line.distinctTexts);

  // Nearest neighbours among the dataset's tokens: a token's own text is its nearest neighbour.
  const near = await similarCommand("dyspnea", { ...o, dataset: data, top: 3 });
  assert.equal(near[0].text, "dyspnea");
  assert.ok(Math.abs(near[0].cosine - 1) < 1e-6);
  assert.ok(near[1].cosine < near[0].cosine);
  // Without a dataset: everything cached for the provider.
  const cached = await similarCommand("Not dyspnea", { ...o, top: 2 });
  assert.equal(cached[0].text, "Not dyspnea");
});

test("option errors are input errors", async () => {
  assert.throws(() => specFromOptions({}), /choose a provider/);
  assert.throws(
    () => specFromOptions({ provider: "hashing", set: ["dimension"] }),
    /--set expects key=value/,
  );
  assert.throws(() => specFromOptions({ provider: "hashing", set: ["dimension=two"] }), InputError);
  assert.deepEqual(specFromOptions({ provider: "hashing", set: ["dimension=64", "signed=false"] }).spec, {
    provider: "hashing",
    dimension: 64,
    signed: false,
  });
  await assert.rejects(
    similarCommand("x", { provider: "hashing", cacheDir: mkdtempSync(join(tmpdir(), "cb-")) }),
    /nothing cached/,
  );
});
