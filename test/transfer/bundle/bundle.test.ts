import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { TrainSettings, type TrainSettingsInput } from "../../../src/model/train-settings.js";
import {
  checkEmbeddingCompatible,
  decodeBundle,
  encodeBundle,
  writeBundleFile,
} from "../../../src/transfer/bundle/bundle.js";
import { SIGNATURE_BLOCK } from "../../../src/transfer/bundle/container.js";
import { reportedCount } from "../../../src/transfer/bundle/privacy.js";
import { keyFingerprint } from "../../../src/transfer/bundle/signing.js";
import { InputError } from "../../../src/util/errors.js";
import { smallSnapshot } from "./fixtures.js";

const CREATED = "2026-01-01T00:00:00.000Z";
const keyA = generateKeyPairSync("ed25519");
const keyB = generateKeyPairSync("ed25519");
const pubDer = (k: typeof keyA): Uint8Array => k.publicKey.export({ type: "spki", format: "der" });

function refuses(bytes: Uint8Array, pattern?: RegExp, trustedKey?: Uint8Array): void {
  assert.throws(
    () => decodeBundle(bytes, "b.cbm", trustedKey ? { trustedKey } : {}),
    (e: unknown) => e instanceof InputError && (pattern === undefined || pattern.test(e.message)),
  );
}

describe("model bundle", () => {
  const snapshot = smallSnapshot();
  const performance = {
    description: "source test split",
    metrics: { auroc: 0.8, aurocCI: [0.7, 0.9] as [number, number] },
    counts: { train: 123, validation: 31, test: 7 },
  };
  const unsigned = encodeBundle({ snapshot, performance, training: { lr: 0.001 }, createdAt: CREATED });
  const signed = encodeBundle({
    snapshot,
    performance,
    training: { lr: 0.001 },
    createdAt: CREATED,
    signingKey: keyA.privateKey,
  });

  it("round-trips the model bit for bit", () => {
    const opened = decodeBundle(unsigned, "b.cbm");
    assert.deepEqual(opened.snapshot, snapshot);
    assert.equal(opened.signer, null);
    // Training settings are recorded complete (defaults filled in), and only settings get in.
    assert.deepEqual(opened.header.training, { ...TrainSettings.parse({ lr: 0.001 }) });
    assert.throws(
      () => encodeBundle({ snapshot, training: { lr: 0.1, ids: ["enc-1"] } as TrainSettingsInput }),
      (e: unknown) => e instanceof InputError && /training/.test(e.message),
    );
    // Counts: 123 -> 130 (rounded up to a multiple of 10), 31 -> 40, 7 -> suppressed.
    assert.deepEqual(opened.header.performance?.counts, { train: 130, validation: 40, test: "<11" });
  });

  it("is deterministic for the same inputs", () => {
    assert.ok(
      encodeBundle({ snapshot, performance, training: { lr: 0.001 }, createdAt: CREATED }).equals(unsigned),
    );
  });

  it("checks a signature against the embedded key and a trusted key", () => {
    const opened = decodeBundle(signed, "b.cbm", { trustedKey: pubDer(keyA) });
    assert.equal(opened.trusted, true);
    assert.equal(opened.signer?.fingerprint, keyFingerprint(pubDer(keyA)));
    // Same content, plus the signature block; the content digest is the same.
    assert.equal(signed.length, unsigned.length + SIGNATURE_BLOCK);
    assert.ok(signed.subarray(0, unsigned.length - 4).equals(unsigned.subarray(0, unsigned.length - 4)));
  });

  it("refuses a bundle signed by another key than the trusted one", () => {
    refuses(signed, /not by the trusted key/, pubDer(keyB));
  });

  it("refuses an unsigned bundle when a trusted key is required", () => {
    refuses(unsigned, /not signed/, pubDer(keyA));
  });

  it("refuses a signature taken from another bundle", () => {
    const other = encodeBundle({
      snapshot: smallSnapshot(2),
      createdAt: CREATED,
      signingKey: keyA.privateKey,
    });
    const spliced = Buffer.concat([
      signed.subarray(0, signed.length - 64),
      other.subarray(other.length - 64),
    ]);
    refuses(spliced, /signature is invalid/);
  });

  it("fails verification when ANY single byte is flipped (every position, two bit patterns)", () => {
    for (const bytes of [unsigned, signed]) {
      for (let i = 0; i < bytes.length; i++) {
        for (const mask of [0x01, 0x80]) {
          const b = Buffer.from(bytes);
          b[i] ^= mask;
          assert.throws(
            () => decodeBundle(b, "b.cbm"),
            (e: unknown) => e instanceof InputError,
            `flip of byte ${i} by ${mask} of ${bytes.length} was accepted`,
          );
        }
      }
    }
  });

  it("refuses every truncation and any trailing bytes", () => {
    for (let n = 0; n < signed.length; n++) refuses(signed.subarray(0, n));
    refuses(Buffer.concat([unsigned, Buffer.from([0])]), /unexpected bytes/);
  });

  it("refuses a newer or unknown format version with a clear message", () => {
    refuses(encodeBundle({ snapshot, createdAt: CREATED, formatVersion: 2 }), /version 2 is newer/);
    refuses(
      encodeBundle({ snapshot, createdAt: CREATED, formatVersion: 0 }),
      /unknown bundle format version 0/,
    );
  });

  it("refuses a file that is not a bundle", () => {
    refuses(Buffer.from('{"format":"conceptbridge.model"}'), /not a ConceptBridge bundle/);
  });

  it("refuses an incompatible embedding (provider id or dimension)", () => {
    const { header } = decodeBundle(unsigned, "b.cbm");
    assert.doesNotThrow(() =>
      checkEmbeddingCompatible(header, { providerId: snapshot.embedding.providerId, dimension: 6 }, "b"),
    );
    assert.throws(
      () => checkEmbeddingCompatible(header, { providerId: '{"provider":"onehot"}' }, "b"),
      /embedding mismatch/,
    );
    assert.throws(() => checkEmbeddingCompatible(header, { dimension: 7 }, "b"), /dimension mismatch/);
  });

  it("writes atomically and writes nothing for an invalid model", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cb-bundle-"));
    const ok = join(dir, "ok.cbm");
    await writeBundleFile(ok, { snapshot, createdAt: CREATED });
    assert.ok(readFileSync(ok).equals(encodeBundle({ snapshot, createdAt: CREATED })));
    const bad = smallSnapshot();
    bad.weights["dense.bias"] = { shape: [2], data: Float32Array.from([Number.NaN, 0]) };
    const out = join(dir, "bad.cbm");
    await assert.rejects(writeBundleFile(out, { snapshot: bad, createdAt: CREATED }), InputError);
    assert.equal(existsSync(out), false);
  });
});

describe("reportedCount", () => {
  it("suppresses 0-10 and rounds larger counts up to a multiple of 10", () => {
    assert.deepEqual([0, 1, 10, 11, 19, 20, 21, 1000].map(reportedCount), [
      "<11",
      "<11",
      "<11",
      20,
      20,
      20,
      30,
      1000,
    ]);
  });
});
