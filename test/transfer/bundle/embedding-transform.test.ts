import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { TokenSequences, VocabularyToken } from "../../../src/concepts/vocabulary.js";
import { tokenKey } from "../../../src/data/types.js";
import { withPaddingRow } from "../../../src/embed/matrix.js";
import { postprocessOf } from "../../../src/embed/postprocessed.js";
import { createProvider } from "../../../src/embed/registry.js";
import { providerId } from "../../../src/embed/types.js";
import { parseModel, serializeModel } from "../../../src/model/model-file.js";
import { predictProba } from "../../../src/model/predict.js";
import {
  decodeBundle,
  encodeBundle,
  readBundleFile,
  writeBundleFile,
} from "../../../src/transfer/bundle/bundle.js";
import { providerForBundle } from "../../../src/transfer/bundle/provider.js";
import { InputError } from "../../../src/util/errors.js";
import { smallSnapshot } from "./fixtures.js";

/**
 * The postprocess transform is fitted at the source and travels in the bundle like the weights: at
 * the target, the provider rebuilt from the bundle (or from the target's spec) applies that transform,
 * bit for bit, never one fitted on the target's own tokens.
 */
function tokens(site: string, names: string[]): VocabularyToken[] {
  return names.flatMap((name, i) => {
    const code = `${site}${i}`;
    return [
      {
        key: tokenKey(code, { kind: "present" }),
        code,
        value: { kind: "present" },
        conceptText: name,
        text: name,
      },
      {
        key: tokenKey(code, { kind: "absent" }),
        code,
        value: { kind: "absent" },
        conceptText: name,
        text: `Not ${name}`,
      },
    ];
  });
}

const source = tokens("S", [
  "cough",
  "fever",
  "shortness of breath",
  "sore throat",
  "headache",
  "myalgia",
  "rhinorrhea",
  "chills",
]);
const target = tokens("T", [
  "coughing",
  "pyrexia",
  "short of breath",
  "throat pain",
  "head ache",
  "muscle pain",
]);
const spec = {
  provider: "hashing" as const,
  dimension: 32,
  postprocess: ["remove-top-k:2", "whiten:4", "l2"],
};
// Every target token in some encounter: 12 encounters of 3 tokens.
const seqs: TokenSequences = {
  count: 12,
  offsets: Uint32Array.from({ length: 13 }, (_, i) => 3 * i),
  tokens: Uint32Array.from({ length: 36 }, (_, i) => 1 + ((i * 5) % target.length)),
};

test("a transform fitted at the source is applied bit-identically at the target through a bundle", async () => {
  const provider = await createProvider(spec, { sourceVocabulary: { site: "S", tokens: source } });
  const transform = postprocessOf(provider);
  assert.ok(transform);
  assert.equal(provider.info.dimension, 4);
  const snapshot = { ...smallSnapshot(4, 4, 5, source.length) };
  snapshot.vocabulary = source.map((t) => ({ key: t.key, text: t.text }));
  snapshot.embedding = { providerId: providerId(provider.info), dimension: 4, trainable: false };
  // In-process: the target's tokens through the source's provider.
  const inProcess = withPaddingRow(await provider.embed(target));
  const expected = predictProba(snapshot, inProcess, seqs);

  const file = join(mkdtempSync(join(tmpdir(), "cb-bundle-pp-")), "model.cbm");
  await writeBundleFile(file, { snapshot, embeddingTransform: transform, createdAt: "2025-01-01T00:00:00Z" });
  const b = await readBundleFile(file);
  assert.equal(b.embeddingTransform?.fit, transform.fit);
  // Rebuilt from the bundle alone, and from the target's own spec: both apply the source's transform.
  for (const p of [await providerForBundle(b, file), await providerForBundle(b, file, spec)]) {
    assert.equal(providerId(p.info), providerId(provider.info));
    const atTarget = withPaddingRow(await p.embed(target));
    assert.deepEqual(atTarget.data, inProcess.data);
    assert.deepEqual(predictProba(b.snapshot, atTarget, seqs), expected);
  }
  // Guard: a transform fitted on the target's own tokens is another embedding.
  const refit = await createProvider(spec, { sourceVocabulary: { site: "T", tokens: target } });
  assert.notEqual(refit.info.postprocessFit, provider.info.postprocessFit);
  assert.notDeepEqual(withPaddingRow(await refit.embed(target)).data, inProcess.data);
  assert.notDeepEqual(predictProba(snapshot, withPaddingRow(await refit.embed(target)), seqs), expected);
  // A spec with another postprocess is refused.
  await assert.rejects(
    providerForBundle(b, file, { ...spec, postprocess: ["center"] }),
    /differs from the transform fitted/,
  );
});

test("a bundle carries the transform exactly when the embedding names one", async () => {
  const provider = await createProvider(spec, { sourceVocabulary: { site: "S", tokens: source } });
  const transform = postprocessOf(provider);
  assert.ok(transform);
  const snapshot = smallSnapshot(4, 4, 5, source.length);
  snapshot.embedding = { providerId: providerId(provider.info), dimension: 4, trainable: false };
  assert.throws(
    () => encodeBundle({ snapshot }),
    (e: unknown) =>
      e instanceof InputError &&
      /fitted postprocess transform \(sha256:[0-9a-f]+\) that the bundle must carry/.test(e.message),
  );
  const other = postprocessOf(
    await createProvider(spec, { sourceVocabulary: { site: "T", tokens: target } }),
  );
  assert.throws(
    () => encodeBundle({ snapshot, embeddingTransform: other }),
    /is not the one the embedding names/,
  );
  const plain = smallSnapshot(4, 4, 5, source.length);
  assert.throws(() => encodeBundle({ snapshot: plain, embeddingTransform: transform }), /names \(none\)/);
  // Without a transform a bundle is byte for byte what it was (no extra part), and opens with none.
  const bytes = encodeBundle({ snapshot: plain, createdAt: "2025-01-01T00:00:00Z" });
  assert.equal(bytes.includes("embedding-postprocess"), false);
  assert.equal(decodeBundle(bytes, "b.cbm").embeddingTransform, null);
});

test("train -> model file -> bundle -> model file: the transform travels in the model file too", async () => {
  const provider = await createProvider(spec, { sourceVocabulary: { site: "S", tokens: source } });
  const transform = postprocessOf(provider);
  assert.ok(transform);
  const snapshot = smallSnapshot(4, 4, 5, source.length);
  snapshot.vocabulary = source.map((t) => ({ key: t.key, text: t.text }));
  const id = providerId(provider.info);
  // What a site embedded by this provider gives a trained model (embed/embedded-site.ts, scenarios refOf).
  snapshot.embedding = { providerId: id, dimension: 4, trainable: false, postprocess: transform.toJSON() };
  const text = serializeModel(snapshot);
  const back = parseModel(text, "model.json");
  assert.deepEqual(back.embedding.postprocess, transform.toJSON());
  // The model file alone makes the bundle (bundle export reads nothing else), and import writes it back.
  const opened = decodeBundle(encodeBundle({ snapshot: back, createdAt: "2025-01-01T00:00:00Z" }), "b.cbm");
  assert.equal(opened.embeddingTransform?.fit, transform.fit);
  assert.deepEqual(parseModel(serializeModel(opened.snapshot)).embedding.postprocess, transform.toJSON());
  const p = await providerForBundle(opened, "b.cbm");
  assert.deepEqual(
    predictProba(opened.snapshot, withPaddingRow(await p.embed(target)), seqs),
    predictProba(snapshot, withPaddingRow(await provider.embed(target)), seqs),
  );
  // A model file whose id names a fit must hold it, and that one: a changed parameter is refused.
  const raw = JSON.parse(text);
  const missing = { ...raw, embedding: { ...raw.embedding, postprocess: undefined } };
  assert.throws(
    () => parseModel(JSON.stringify(missing), "model.json"),
    (e: unknown) =>
      e instanceof InputError &&
      e.location.field === "embedding.postprocess" &&
      /does not hold/.test(e.message),
  );
  const other = postprocessOf(
    await createProvider(spec, { sourceVocabulary: { site: "T", tokens: target } }),
  );
  assert.ok(other);
  const swapped = { ...raw, embedding: { ...raw.embedding, postprocess: other.toJSON() } };
  assert.throws(
    () => parseModel(JSON.stringify(swapped), "model.json"),
    /is not the one the embedding names/,
  );
});
