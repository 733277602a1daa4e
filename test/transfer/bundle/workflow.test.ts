import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { exportBundle, importBundle, verifyBundle } from "../../../src/cli/commands/bundle.js";
import { providerForBundle } from "../../../src/cli/commands/bundle-embedding.js";
import {
  embedSite,
  fineTune,
  labelsForBundle,
  predictionsCsv,
} from "../../../src/cli/commands/bundle-workflow.js";
import { encodeEncounters, type VocabularyToken } from "../../../src/concepts/vocabulary.js";
import { stratifiedSplit } from "../../../src/data/splits.js";
import { createHashingProvider } from "../../../src/embed/providers/hashing.js";
import { createOneHotProvider } from "../../../src/embed/providers/onehot.js";
import { providerId } from "../../../src/embed/types.js";
import { paperCnn } from "../../../src/model/architecture.js";
import { loadModel, saveModel } from "../../../src/model/model-file.js";
import { trainModel } from "../../../src/model/train.js";
import { PAPER_SETTINGS } from "../../../src/model/train-settings.js";
import { decodeBundle, encodeBundle } from "../../../src/transfer/bundle/bundle.js";
import {
  generateSigningKeys,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
} from "../../../src/transfer/bundle/signing.js";
import { InputError } from "../../../src/util/errors.js";
import { smallSnapshot, tinySite } from "./fixtures.js";

describe("bundle workflow: export -> verify -> import -> predict / transfer", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-bundle-wf-"));
  const ds = tinySite(9, 120);
  const provider = createHashingProvider({ dimension: 16 });
  const site = await embedSite(ds, provider);
  const labels = ds.encounters.labels;
  const [trainIdx, valIdx] = stratifiedSplit(labels, [0.7, 0.3], 2);
  const part = (idx: Uint32Array) => ({
    seqs: encodeEncounters(ds, site.typeToToken, idx),
    labels: Int32Array.from(idx, (i) => labels[i]),
  });
  const trained = trainModel({
    architecture: { ...paperCnn(16, 2), filters: [6] },
    embedding: site.embedding,
    embeddingRef: { providerId: providerId(provider.info), dimension: 16, trainable: false },
    classes: ds.labelClasses,
    train: part(trainIdx),
    validation: part(valIdx),
    settings: { ...PAPER_SETTINGS, epochs: 3, itersPerEpoch: 10 },
    vocabulary: site.vocabulary,
  });
  const modelFile = join(dir, "model.json");
  await saveModel(modelFile, trained.snapshot);
  const keys = await generateSigningKeys(join(dir, "keys"));
  const other = await generateSigningKeys(join(dir, "other-keys"));
  const summary = join(dir, "summary.json");
  writeFileSync(
    summary,
    JSON.stringify({
      key: { task: "mortality" },
      metrics: { auroc: 0.74, aurocCI: [0.61, 0.85] },
      counts: { train: 84, validation: 36, test: 5 },
      predictions: { classes: ["Alive", "Expired"], labels: [0, 1], scores: [0.2, 0.9] },
    }),
  );
  const bundleFile = join(dir, "model.cbm");
  await exportBundle({
    model: modelFile,
    out: bundleFile,
    sign: join(dir, "keys", PRIVATE_KEY_FILE),
    summary,
  });

  it("verifies against the signer's public key and refuses another key", async () => {
    const b = await verifyBundle(bundleFile, keys.publicKey);
    assert.equal(b.trusted, true);
    assert.equal(b.signer?.fingerprint, keys.fingerprint);
    assert.deepEqual(b.header.performance, {
      description: "from summary.json",
      task: "mortality",
      metrics: { auroc: 0.74, aurocCI: [0.61, 0.85] },
      counts: { train: 90, validation: 40, test: "<11" },
    });
    // The results line's stored predictions never reach the bundle.
    assert.equal(readFileSync(bundleFile, "latin1").includes("predictions"), false);
    await assert.rejects(verifyBundle(bundleFile, other.publicKey), /not by the trusted key/);
  });

  it("export -> import -> predict gives identical predictions", async () => {
    const out = join(dir, "imported.json");
    await importBundle(bundleFile, { out, providerId: providerId(provider.info), dimension: 16 });
    const imported = await loadModel(out);
    const before = predictionsCsv(trained.snapshot, site);
    assert.equal(predictionsCsv(imported, site), before);
    // The target rebuilds the hashing provider from the bundle alone and gets the same embedding.
    const b = await verifyBundle(bundleFile);
    const rebuilt = await embedSite(ds, await providerForBundle(b, bundleFile));
    assert.deepEqual(rebuilt.embedding, site.embedding);
    assert.equal(predictionsCsv(b.snapshot, rebuilt), before);
    assert.equal(before.split("\n")[0], "encounter_id,p_Alive,p_Expired");
    assert.equal(before.trim().split("\n").length, ds.encounters.count + 1);
  });

  it("refuses an incompatible embedding and a tampered bundle, writing nothing", async () => {
    const out = join(dir, "never.json");
    await assert.rejects(
      importBundle(bundleFile, {
        out,
        providerId: providerId(createHashingProvider({ dimension: 32 }).info),
      }),
      (e: unknown) => e instanceof InputError && /embedding mismatch/.test(e.message),
    );
    await assert.rejects(importBundle(bundleFile, { out, dimension: 32 }), /dimension mismatch/);
    const tampered = join(dir, "tampered.cbm");
    const bytes = readFileSync(bundleFile);
    bytes[bytes.length >> 1] ^= 0x10;
    writeFileSync(tampered, bytes);
    await assert.rejects(importBundle(tampered, { out }), InputError);
    assert.equal(existsSync(out), false);
  });

  it("refuses to overwrite signing keys", async () => {
    await assert.rejects(generateSigningKeys(join(dir, "keys")), /already exists/);
    assert.ok(readFileSync(join(dir, "keys", PUBLIC_KEY_FILE), "utf8").includes("BEGIN PUBLIC KEY"));
  });

  it("fine-tunes the bundle's model on a target site's labels", async () => {
    const b = await verifyBundle(bundleFile);
    const target = await embedSite(tinySite(21, 100), await providerForBundle(b, bundleFile));
    const r = fineTune(b, target, bundleFile, { epochs: 2, seed: 1 });
    assert.deepEqual(r.snapshot.classes, b.snapshot.classes);
    assert.equal(r.snapshot.vocabulary.length, target.vocabulary.length);
    assert.notDeepEqual(r.snapshot.weights["dense.weight"].data, b.snapshot.weights["dense.weight"].data);
  });

  it("maps a site's classes to the bundle's by name, or one-vs-rest on the positive class", () => {
    assert.deepEqual(Array.from(labelsForBundle(ds, ["Expired", "Alive"], "b").slice(0, 6)), [
      ...Array.from(ds.encounters.labels.slice(0, 6), (y) => 1 - y),
    ]);
    assert.deepEqual(
      Array.from(labelsForBundle(ds, ["rest", "Expired"], "b").slice(0, 6)),
      Array.from(ds.encounters.labels.slice(0, 6)),
    );
    assert.throws(() => labelsForBundle(ds, ["I", "R"], "b"), /do not match/);
  });
});

describe("providerForBundle", () => {
  it("rebuilds a one-hot space from the bundle's vocabulary, with or without a spec, and refuses another", async () => {
    const snapshot = smallSnapshot(3, 6, 4, 5);
    const vocab = { site: "src-site", tokens: snapshot.vocabulary.map((v) => keyToken(v.key, v.text)) };
    const onehot = createOneHotProvider(vocab);
    snapshot.embedding.providerId = providerId(onehot.info);
    const b = decodeBundle(encodeBundle({ snapshot }), "b.cbm");
    for (const p of [
      await providerForBundle(b, "b.cbm"),
      await providerForBundle(b, "b.cbm", { provider: "onehot" }),
    ]) {
      assert.equal(providerId(p.info), providerId(onehot.info));
      const m = await p.embed([keyToken("D3|present", "anything"), keyToken("other|present", "drug 3")]);
      // Same key -> its one-hot row; an unknown key -> the "unknown" slot (last), whatever its text.
      assert.deepEqual(Array.from(m.data), [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    }
    await assert.rejects(
      providerForBundle(b, "b.cbm", { provider: "hashing", dimension: 8 }),
      /embedding mismatch/,
    );
  });
});

function keyToken(key: string, text: string): VocabularyToken {
  return { key, code: key.split("|")[0], value: { kind: "present" }, conceptText: text, text };
}
