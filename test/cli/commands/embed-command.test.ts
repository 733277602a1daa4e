import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  embedCommand,
  formatCoverage,
  formatInspect,
  inspectCommand,
  similarCommand,
  specFromOptions,
} from "../../../src/cli/commands/embed.js";
import { InputError } from "../../../src/util/errors.js";
import { sharedData } from "../../../src/util/paths.js";
import { assertMatches, REFERENCE } from "../../embed/diagnostics-reference.js";

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

// The acceptance of the embeddings issue: `embed inspect` on influenza-dtl (its 128-token target test
// vocabulary), for the default hashing embedder and for the seed paper's BERT file.
const targetTest = sharedData(
  "influenza-dtl",
  "target_test",
  "findings_final_0814_seed-1494714102_size10000.csv",
);

test("embed inspect, hashing: 'X' vs 'Not X' -0.90 (<= 0.5; 0.90 with negation none), variants 0.74", async () => {
  process.env.CONCEPTBRIDGE_QUIET = "1";
  const pair = ["shortness of breath|short of breath", "cough|Not cough"];
  const [line] = await inspectCommand(targetTest, { provider: "hashing", catalog, cache: false, pair });
  const s = line.diagnostics.stats;
  assert.equal(s.tokens, 128);
  assert.equal(s.negationPairs, 61);
  assert.ok(s.raw.negationCosine !== null && s.raw.negationCosine <= 0.5);
  assert.ok(Math.abs(s.raw.negationCosine + 0.9) < 0.01, `negation ${s.raw.negationCosine}`);
  assert.ok(line.pairs[0].cosine >= 0.6 && Math.abs(line.pairs[0].cosine - 0.736) < 0.001);
  assert.ok(line.pairs[1].cosine < -0.8);
  assert.deepEqual(line.diagnostics.warnings, []);
  const text = formatInspect([line]);
  assert.match(text, /"X" vs "Not X" cosine {3}raw -0\.900/);
  assert.match(text, /cosine "shortness of breath" \/ "short of breath": 0\.736/);
  // Guard: the embedder as it was (negation none) nearly erases negation, and inspect warns.
  const [old] = await inspectCommand(targetTest, {
    provider: "hashing",
    set: ["negation=none"],
    catalog,
    cache: false,
    pair,
  });
  assert.ok((old.diagnostics.stats.raw.negationCosine ?? 0) > 0.85);
  assert.equal(old.pairs[0].cosine, line.pairs[0].cosine);
  assert.deepEqual(
    old.diagnostics.warnings.map((w) => w.code),
    ["negation-erased"],
  );
  assert.throws(() => specFromOptions({ provider: "hashing", set: ["negation=maybe"] }), InputError);
  await assert.rejects(
    inspectCommand(targetTest, { provider: "hashing", catalog, cache: false, pair: ["cough"] }),
    /--pair expects/,
  );
});

test("embed inspect, the paper's files: raw and centered figures equal numpy's on the same 128 tokens", async () => {
  process.env.CONCEPTBRIDGE_QUIET = "1";
  for (const name of ["concept_pair_bert.h5", "concept_pair_biobert.h5", "concept_pair_openai_small.h5"]) {
    const [line] = await inspectCommand(targetTest, {
      provider: "table",
      set: [`file=shared:influenza-embeddings/${name}`],
      catalog,
      cache: false,
    });
    const ref = REFERENCE[name]["influenza-dtl"];
    assert.equal(line.diagnostics.stats.tokens, ref.tokens);
    assert.equal(line.diagnostics.stats.negationPairs, ref.pairs);
    assertMatches(line.diagnostics.stats, ref, name);
    if (name === "concept_pair_bert.h5") {
      // BERT: 0.834 raw, 0.915 for "X" / "Not X", 0.463 after centering; the warning says so.
      const text = formatInspect([line]);
      assert.match(text, /mean pairwise cosine {4}raw 0\.834 {3}centered -0\.003/);
      assert.match(text, /"X" vs "Not X" cosine {3}raw 0\.915 {3}centered 0\.463 {3}\(61 pairs\)/);
      assert.match(text, /warning: "X" and "Not X" have mean cosine 0\.915 > 0\.8/);
      // Guard that the figures moved: with postprocess center they are the centered ones.
      const [c] = await inspectCommand(targetTest, {
        provider: "table",
        set: [`file=shared:influenza-embeddings/${name}`, "postprocess=center"],
        catalog,
        cache: false,
      });
      assert.ok(
        Math.abs((c.diagnostics.stats.raw.negationCosine ?? 0) - (ref.centered.negationCosine ?? 1)) < 1e-6,
      );
      assert.deepEqual(c.diagnostics.warnings, []);
    }
  }
});
