import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createProvider,
  EmbeddingSpec,
  needsSourceVocabulary,
  parseEmbeddingSpec,
} from "../../src/embed/registry.js";
import { InputError } from "../../src/util/errors.js";
import { tok } from "./influenza-tokens.js";

test("specs get their provider's defaults and bad specs are input errors", () => {
  const h = EmbeddingSpec.parse({ provider: "hashing" });
  assert.deepEqual(h, {
    provider: "hashing",
    dimension: 512,
    ngramMin: 3,
    ngramMax: 5,
    wordWeight: 1,
    signed: true,
    idf: false,
    normalize: true,
    seed: 0,
    negation: { mode: "flip", keepCues: true },
  });
  // A parsed spec is a valid spec again (postprocess and negation in their parsed forms).
  const full = EmbeddingSpec.parse({
    provider: "hashing",
    negation: "none",
    postprocess: "center,whiten:8,l2",
  });
  assert.deepEqual(EmbeddingSpec.parse(full), full);
  assert.deepEqual(full.postprocess, [{ kind: "center" }, { kind: "whiten", rank: 8 }, { kind: "l2" }]);
  assert.throws(
    () =>
      parseEmbeddingSpec(
        { provider: "table", file: "x.h5", postprocess: ["center", "whiten:0"] },
        "spec.yaml: embeddings.bert",
      ),
    /spec\.yaml: embeddings\.bert\.postprocess\.1: "whiten:0": the number after ":" must be a positive integer/,
  );
  assert.throws(
    () =>
      parseEmbeddingSpec({
        provider: "table",
        file: "x.h5",
        fallback: { provider: "hashing", postprocess: "l2" },
      }),
    InputError,
  );
  assert.throws(
    () => parseEmbeddingSpec({ provider: "vectors", file: "v.txt", negation: "subspace" }),
    /flip or none/,
  );
  const o = parseEmbeddingSpec({ provider: "openai", model: "text-embedding-3-small" });
  assert.equal(o.provider === "openai" && o.baseUrl, "https://api.openai.com/v1");
  assert.throws(() => parseEmbeddingSpec({ provider: "word2vec" }), InputError);
  assert.deepEqual(parseEmbeddingSpec({ provider: "vectors", file: "v.txt" }), {
    provider: "vectors",
    file: "v.txt",
    composition: "mean",
    sifA: 0.001,
    caseSensitive: false,
    normalize: false,
    negation: { mode: "flip", keepCues: true },
  });
  assert.throws(
    () => parseEmbeddingSpec({ provider: "hashing", dimensions: 3 }, "spec.yaml: embedding"),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /spec\.yaml: embedding/);
      return true;
    },
  );
  assert.throws(() => parseEmbeddingSpec({ provider: "table" }), /file/);
});

test("createProvider builds each provider from its spec and context", async () => {
  const source = { site: "S", tokens: [tok("C1", "fever"), tok("C2", "cough")] };
  const onehot = await createProvider({ provider: "onehot" }, { sourceVocabulary: source });
  assert.equal(onehot.info.dimension, 3);
  await assert.rejects(createProvider({ provider: "onehot" }), /needs the source vocabulary/);
  const hashing = await createProvider(
    { provider: "hashing", dimension: 64, idf: true },
    { sourceVocabulary: source },
  );
  assert.equal((await hashing.embed(source.tokens)).dim, 64);
  const table = await createProvider({
    provider: "table",
    file: "shared:influenza-embeddings/concept_pair_bert.h5",
    fallback: { provider: "hashing", dimension: 768 },
  });
  const m = await table.embed([tok("C0013404", "dyspnea"), tok("X", "levitation")]);
  assert.equal(m.data[0], Math.fround(-0.5546619296073914)); // h5py, see providers/table.test.ts
  assert.ok(Math.abs(Math.hypot(...m.data.subarray(768)) - 1) < 1e-5); // hashing vector, unit length
  await assert.rejects(createProvider({ provider: "cooccurrence" }), /needs the encounters/);
  const cooc = await createProvider(
    { provider: "cooccurrence", dimension: 1 },
    {
      fitData: {
        vocab: source,
        seqs: { count: 2, offsets: Uint32Array.from([0, 2, 4]), tokens: Uint32Array.from([1, 2, 1, 2]) },
      },
    },
  );
  assert.equal(cooc.info.provider, "cooccurrence");
  await assert.rejects(
    createProvider({ provider: "onnx", modelDir: "no/such/dir" }),
    /model directory not found/,
  );
});

test("needsSourceVocabulary: the providers an experiment must create per training anchor", () => {
  assert.equal(needsSourceVocabulary({ provider: "hashing" }), false);
  assert.equal(needsSourceVocabulary({ provider: "hashing", postprocess: "l2" }), false);
  assert.equal(needsSourceVocabulary({ provider: "hashing", postprocess: "center" }), true);
  assert.equal(needsSourceVocabulary({ provider: "hashing", idf: true }), true);
  assert.equal(needsSourceVocabulary({ provider: "onehot" }), true);
  assert.equal(needsSourceVocabulary({ provider: "cooccurrence" }), true);
  assert.equal(
    needsSourceVocabulary({ provider: "table", file: "x.h5", postprocess: ["remove-top-k"] }),
    true,
  );
  assert.equal(needsSourceVocabulary({ provider: "vectors", file: "v.txt" }), false);
});
