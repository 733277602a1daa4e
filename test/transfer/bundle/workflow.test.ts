import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { encodeDataset } from "../../../src/concepts/encoded-site.js";
import type { VocabularyToken } from "../../../src/concepts/vocabulary.js";
import { labelsForClasses } from "../../../src/data/task.js";
import type { SiteDataset } from "../../../src/data/types.js";
import { embedSite } from "../../../src/embed/embedded-site.js";
import { createHashingProvider } from "../../../src/embed/providers/hashing.js";
import { createOneHotProvider } from "../../../src/embed/providers/onehot.js";
import type { EmbeddingProvider } from "../../../src/embed/types.js";
import { providerId } from "../../../src/embed/types.js";
import { paperCnn } from "../../../src/model/architecture.js";
import { loadModel, saveModel } from "../../../src/model/model-file.js";
import { PAPER_SETTINGS } from "../../../src/model/train-settings.js";
import type { ModelSnapshot } from "../../../src/model/types.js";
import {
  predictionsCsv as csv,
  fineTuneAtSite,
  scoreSite,
  siteForModel,
} from "../../../src/transfer/at-site.js";
import { decodeBundle, encodeBundle } from "../../../src/transfer/bundle/bundle.js";
import { providerForBundle } from "../../../src/transfer/bundle/provider.js";
import {
  generateSigningKeys,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
} from "../../../src/transfer/bundle/signing.js";
import { exportBundle, importBundle, verifyBundle } from "../../../src/transfer/bundle/workflow.js";
import { trainSourceModel } from "../../../src/transfer/scenarios.js";
import { InputError } from "../../../src/util/errors.js";
import { smallSnapshot, tinySite } from "./fixtures.js";

describe("bundle workflow: export -> verify -> import -> predict / transfer", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-bundle-wf-"));
  const ds = tinySite(9, 120);
  const provider = createHashingProvider({ dimension: 16 });
  const site = await embedSite(encodeDataset(ds, ds.encounters.labels), provider);
  const trained = trainSourceModel({
    architecture: { ...paperCnn(16, 2), filters: [6] },
    classes: ds.labelClasses,
    training: { ...PAPER_SETTINGS, epochs: 3, itersPerEpoch: 10, seed: 2 },
    source: site,
    split: { validationFraction: 0.3, seed: 2 },
  });
  /** Every encounter's scores as the predictions CSV a site writes. */
  const predictionsCsv = async (m: ModelSnapshot, at: SiteDataset, p: EmbeddingProvider) => {
    const { ids, probs } = await scoreSite(m, at, p);
    return csv(m.classes, ids, probs);
  };
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
    await importBundle(bundleFile, {
      out,
      pubkey: keys.publicKey,
      providerId: providerId(provider.info),
      dimension: 16,
    });
    const imported = await loadModel(out);
    const before = await predictionsCsv(trained.snapshot, ds, provider);
    assert.equal(await predictionsCsv(imported, ds, provider), before);
    // The target rebuilds the hashing provider from the bundle alone and gets the same embedding.
    const b = await verifyBundle(bundleFile);
    const rebuiltProvider = await providerForBundle(b, bundleFile);
    const rebuilt = await embedSite(encodeDataset(ds, ds.encounters.labels), rebuiltProvider);
    assert.deepEqual(rebuilt.embedding, site.embedding);
    assert.equal(await predictionsCsv(b.snapshot, ds, rebuiltProvider), before);
    assert.equal(before.split("\n")[0], "encounter_id,p_Alive,p_Expired");
    assert.equal(before.trim().split("\n").length, ds.encounters.count + 1);
  });

  it("refuses an incompatible embedding and a tampered bundle, writing nothing", async () => {
    const out = join(dir, "never.json");
    await assert.rejects(
      importBundle(bundleFile, {
        out,
        pubkey: keys.publicKey,
        providerId: providerId(createHashingProvider({ dimension: 32 }).info),
      }),
      (e: unknown) => e instanceof InputError && /embedding mismatch/.test(e.message),
    );
    await assert.rejects(
      importBundle(bundleFile, { out, pubkey: keys.publicKey, dimension: 32 }),
      /dimension mismatch/,
    );
    const tampered = join(dir, "tampered.cbm");
    const bytes = readFileSync(bundleFile);
    bytes[bytes.length >> 1] ^= 0x10;
    writeFileSync(tampered, bytes);
    await assert.rejects(importBundle(tampered, { out, allowUnsigned: true }), InputError);
    assert.equal(existsSync(out), false);
  });

  it("case 3: an unsigned or re-signed bundle is refused by default; --allow-unsigned is explicit and recorded", async () => {
    // The signature stripped: the same model, unsigned.
    const unsigned = join(dir, "unsigned.cbm");
    await exportBundle({ model: modelFile, out: unsigned });
    // The weights changed and re-signed by another key.
    const changed = trained.snapshot;
    const w = changed.weights["dense.bias"];
    const evil = {
      ...changed,
      weights: { ...changed.weights, "dense.bias": { ...w, data: w.data.map((x) => x + 1) } },
    };
    const evilModel = join(dir, "evil-model.json");
    await saveModel(evilModel, evil);
    const resigned = join(dir, "resigned.cbm");
    await exportBundle({ model: evilModel, out: resigned, sign: join(dir, "other-keys", PRIVATE_KEY_FILE) });
    const out = join(dir, "policy.json");
    for (const f of [unsigned, resigned]) {
      await assert.rejects(
        importBundle(f, { out }),
        (e: unknown) =>
          e instanceof InputError && /--pubkey/.test(e.message) && /--allow-unsigned/.test(e.message),
      );
    }
    await assert.rejects(importBundle(unsigned, { out, pubkey: keys.publicKey }), /not signed/);
    await assert.rejects(importBundle(resigned, { out, pubkey: keys.publicKey }), /not by the trusted key/);
    assert.equal(existsSync(out), false);
    // Explicitly allowed: accepted, and the output says so.
    const b = await importBundle(unsigned, { out, allowUnsigned: true });
    assert.deepEqual(b.trust, { policy: "allow-unsigned", signer: null });
    const record = JSON.parse(readFileSync(`${out}.trust.json`, "utf8"));
    assert.equal(record.policy, "allow-unsigned");
    assert.equal(record.bundleDigest, b.digest);
    // The trusted key: recorded as such.
    const good = join(dir, "trusted.json");
    const t = await importBundle(bundleFile, { out: good, pubkey: keys.publicKey });
    assert.deepEqual(t.trust, { policy: "trusted-key", signer: keys.fingerprint });
    assert.equal(JSON.parse(readFileSync(`${good}.trust.json`, "utf8")).policy, "trusted-key");
  });

  it("case 3: --pubkey refuses a private key file", async () => {
    await assert.rejects(
      verifyBundle(bundleFile, join(dir, "keys", PRIVATE_KEY_FILE)),
      (e: unknown) => e instanceof InputError && /this is a private key/.test(e.message),
    );
    await assert.rejects(
      importBundle(bundleFile, {
        out: join(dir, "never2.json"),
        pubkey: join(dir, "keys", PRIVATE_KEY_FILE),
      }),
      /private key/,
    );
  });

  it("case 4: export and import never overwrite without force", async () => {
    const out = join(dir, "exists.json");
    writeFileSync(out, "keep me");
    await assert.rejects(exportBundle({ model: modelFile, out }), /already exists; pass --force/);
    await assert.rejects(importBundle(bundleFile, { out, pubkey: keys.publicKey }), /already exists/);
    assert.equal(readFileSync(out, "utf8"), "keep me");
    await importBundle(bundleFile, { out, pubkey: keys.publicKey, force: true });
    assert.ok((await loadModel(out)).weights);
  });

  it("refuses to overwrite signing keys", async () => {
    await assert.rejects(generateSigningKeys(join(dir, "keys")), /already exists/);
    assert.ok(readFileSync(join(dir, "keys", PUBLIC_KEY_FILE), "utf8").includes("BEGIN PUBLIC KEY"));
  });

  it("fine-tunes the bundle's model on a target site's labels", async () => {
    const b = await verifyBundle(bundleFile);
    const target = await siteForModel(tinySite(21, 100), b.snapshot, await providerForBundle(b, bundleFile));
    const r = fineTuneAtSite(b.snapshot, target, { settings: { epochs: 2, seed: 1 } });
    assert.ok(r.model, "fine-tuning returns the tuned model");
    assert.deepEqual(r.model.classes, b.snapshot.classes);
    assert.equal(r.model.vocabulary.length, target.vocabulary.length);
    assert.notDeepEqual(r.model.weights["dense.weight"].data, b.snapshot.weights["dense.weight"].data);
  });

  it("maps a site's classes to the bundle's by name, or one-vs-rest on the positive class", () => {
    assert.deepEqual(Array.from(labelsForClasses(ds, ["Expired", "Alive"], { file: "b" }).slice(0, 6)), [
      ...Array.from(ds.encounters.labels.slice(0, 6), (y) => 1 - y),
    ]);
    assert.deepEqual(
      Array.from(labelsForClasses(ds, ["rest", "Expired"], { file: "b" }).slice(0, 6)),
      Array.from(ds.encounters.labels.slice(0, 6)),
    );
    assert.throws(() => labelsForClasses(ds, ["I", "R"], { file: "b" }), /do not match/);
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
