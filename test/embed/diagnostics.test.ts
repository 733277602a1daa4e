import assert from "node:assert/strict";
import { test } from "node:test";
import { embeddingDiagnostics, negationPairs } from "../../src/embed/diagnostics.js";
import { createTableProvider, parseTableKey } from "../../src/embed/providers/table.js";
import { sharedData } from "../../src/util/paths.js";
import { assertMatches, REFERENCE } from "./diagnostics-reference.js";
import { tok } from "./influenza-tokens.js";

test("the seed paper's three files, all 180 keys: numpy's figures", async () => {
  for (const name of ["concept_pair_bert.h5", "concept_pair_biobert.h5", "concept_pair_openai_small.h5"]) {
    const p = await createTableProvider({ file: sharedData("influenza-embeddings", name) });
    const tokens = p.table.keys.map((key) => {
      const k = parseTableKey(key);
      assert.ok(k);
      return tok(k.prefix, k.negated ? `Not ${k.text}` : k.text, { kind: k.negated ? "absent" : "present" });
    });
    const d = embeddingDiagnostics(await p.embed(tokens), tokens);
    const ref = REFERENCE[name].all;
    assert.equal(d.stats.tokens, ref.tokens);
    assert.equal(d.stats.negationPairs, ref.pairs);
    assertMatches(d.stats, ref, name);
  }
  // The figures the issue quotes: BERT 0.830 / 0.919 / 0.498 centered, BioBERT 0.853 / 0.871 / 0.082.
  const bert = REFERENCE["concept_pair_bert.h5"].all;
  assert.deepEqual(
    [bert.raw.meanCosine, bert.raw.negationCosine, bert.centered.negationCosine].map((x) => x?.toFixed(3)),
    ["0.830", "0.919", "0.498"],
  );
  const bio = REFERENCE["concept_pair_biobert.h5"].all;
  assert.equal(bio.centered.negationCosine?.toFixed(3), "0.082");
});

test("small cases by hand: pairwise cosine, effective rank, pairs by code or text, zero rows, warnings", () => {
  // Rows (1,0), (0,1), (1,1)/sqrt2 and a zero row: cosines 0, 1/sqrt2, 1/sqrt2 -> mean sqrt2/3.
  const tokens = [
    tok("A", "cough"),
    tok("A", "Not cough", { kind: "absent" }),
    tok("B", "fever"),
    tok("C", "no fever"),
  ];
  const m = { rows: 4, dim: 2, data: Float32Array.of(1, 0, 0, 1, 1, 1, 0, 0) };
  const d = embeddingDiagnostics(m, tokens);
  assert.ok(Math.abs(d.stats.raw.meanCosine - Math.SQRT2 / 3) < 1e-12);
  // Singular values of [[1,0],[0,1],[1,1]]: sqrt3 and 1 -> p = (sqrt3, 1) / (sqrt3 + 1).
  const p = [Math.sqrt(3) / (Math.sqrt(3) + 1), 1 / (Math.sqrt(3) + 1)];
  assert.ok(
    Math.abs(d.stats.raw.effectiveRank - Math.exp(-p.reduce((s, x) => s + x * Math.log(x), 0))) < 1e-9,
  );
  assert.equal(d.stats.withoutVector, 1);
  assert.equal(d.stats.raw.negationCosine, 0); // (1,0) vs (0,1); "no fever" has no vector
  // Pairs: by code for the absent token, by text ("no fever" / "fever") where codes differ.
  assert.deepEqual(negationPairs(tokens), [
    [1, 0],
    [3, 2],
  ]);
  assert.deepEqual(
    d.warnings.map((w) => w.code),
    ["missing-vectors"],
  );
  // Nearly one direction, and "Not cough" = "cough": both warnings, with the numbers in the message.
  const same = { rows: 3, dim: 2, data: Float32Array.of(1, 0.01, 1, 0.01, 1, 0.02) };
  const w = embeddingDiagnostics(same, tokens.slice(0, 3)).warnings;
  assert.deepEqual(
    w.map((x) => x.code),
    ["anisotropic", "negation-erased"],
  );
  assert.match(w[1].message, /mean cosine 1\.000 > 0\.8 over 1 pairs/);
  // Guard: thresholds are settings.
  assert.equal(
    embeddingDiagnostics(same, tokens.slice(0, 3), { thresholds: { meanCosine: 1.1, negationCosine: 1.1 } })
      .warnings.length,
    0,
  );
});
