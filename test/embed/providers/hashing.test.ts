import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { cosine, row } from "../../../src/embed/matrix.js";
import {
  createHashingProvider,
  fitHashingIdf,
  HashingSettings,
  type HashingSettingsInput,
  hashingSettingsFromInfo,
} from "../../../src/embed/providers/hashing.js";
import { createOneHotProvider } from "../../../src/embed/providers/onehot.js";
import { providerId } from "../../../src/embed/types.js";
import { influenzaTokens, tok } from "../influenza-tokens.js";

test("features: n-grams of '<word>' plus the word, signed, L2-normalised", async () => {
  // "ab" -> "<ab>": 3-grams "<ab", "ab>" and the word "ab": 3 features of weight 1, so with no
  // collisions (2^20 buckets) three entries of magnitude 1/sqrt(3).
  const p = createHashingProvider({ dimension: 1 << 20, ngramMin: 3, ngramMax: 3 });
  const m = await p.embed([tok("X", "AB")]);
  const nz = Array.from(m.data).filter((x) => x !== 0);
  assert.equal(nz.length, 3);
  for (const x of nz) assert.ok(Math.abs(Math.abs(x) - 1 / Math.sqrt(3)) < 1e-7);
  // Unsigned: all positive.
  const u = await createHashingProvider({
    dimension: 1 << 20,
    ngramMin: 3,
    ngramMax: 3,
    signed: false,
  }).embed([tok("X", "ab")]);
  assert.ok(Array.from(u.data).every((x) => x >= 0));
  // Case and punctuation do not matter; the result is deterministic.
  const again = await p.embed([tok("Y", "ab.")]);
  assert.deepEqual(again.data, m.data);
  // Non-ASCII text goes through NFKC: full-width letters equal ASCII ones; the ligature "ﬃ" is "ffi".
  const q = createHashingProvider({ dimension: 256 });
  const [w1, w2, w3, w4] = ["Ｆｅｖｅｒ", "fever", "ﬃ ﬃ ﬃ ﬃ ﬃ ﬃ ﬃ", "ffi ffi ffi ffi ffi ffi ffi"];
  const u2 = await q.embed([tok("A", w1), tok("B", w2), tok("C", w3), tok("D", w4)]);
  assert.deepEqual(row(u2, 0), row(u2, 1));
  assert.deepEqual(row(u2, 2), row(u2, 3));
});

test("lexical variants are close, unrelated texts are not, negation is far (flip, the default)", async () => {
  const texts = [
    "shortness of breath",
    "short of breath",
    "headache",
    "Not shortness of breath",
    "tachypnoea",
    "tachypnea",
    "Not short of breath",
    "cough",
    "Not cough",
  ];
  const embed = async (negation: "flip" | "subspace" | "none") => {
    const m = await createHashingProvider({ negation }).embed(texts.map((t) => tok("X", t)));
    return (a: number, b: number) => cosine(row(m, a), row(m, b));
  };
  const c = await embed("flip");
  assert.ok(c(0, 1) > 0.7, `variants ${c(0, 1)}`); // 0.736, as without negation handling
  assert.ok(c(3, 6) > 0.7, `negated variants ${c(3, 6)}`); // 0.776
  assert.ok(Math.abs(c(0, 2)) < 0.2, `unrelated ${c(0, 2)}`);
  assert.ok(c(4, 5) > 0.5, `spelling ${c(4, 5)}`);
  // "Not X" = features("not") - features("X"): -0.927 and -0.826 (a 5- and a 13-feature cue share).
  assert.ok(Math.abs(c(0, 3) + 0.927) < 0.001, `negated ${c(0, 3)}`);
  assert.ok(Math.abs(c(7, 8) + 0.826) < 0.001, `negated ${c(7, 8)}`);
  // Guard: without negation handling the same pairs are nearly one vector.
  const old = await embed("none");
  assert.ok(old(0, 3) > 0.92 && old(7, 8) > 0.82);
  assert.equal(old(0, 1), c(0, 1));
  // subspace: negated words hashed apart, so about orthogonal, while negated variants stay close.
  const sub = await embed("subspace");
  assert.ok(Math.abs(sub(0, 3)) < 0.1 && Math.abs(sub(7, 8)) < 0.1, `subspace ${sub(0, 3)} ${sub(7, 8)}`);
  assert.ok(sub(3, 6) > 0.7);
  for (const neg of ["flip", "subspace", "none"] as const) {
    const m = await createHashingProvider({ negation: neg }).embed(texts.map((t) => tok("X", t)));
    for (let i = 0; i < m.rows; i++) assert.ok(Math.abs(Math.hypot(...row(m, i)) - 1) < 1e-5);
  }
});

test("on influenza-dtl's tokens: mean X / Not X cosine -0.90 (0.90 without negation handling)", async () => {
  const tokens = influenzaTokens();
  const pairs: [number, number][] = [];
  tokens.forEach((t, i) => {
    if (t.value.kind === "absent")
      pairs.push([i, tokens.findIndex((p) => p.code === t.code && p.value.kind === "present")]);
  });
  const meanNeg = async (negation: "flip" | "none") => {
    const m = await createHashingProvider({ negation }).embed(tokens);
    return pairs.reduce((s, [a, b]) => s + cosine(row(m, a), row(m, b)), 0) / pairs.length;
  };
  assert.equal(pairs.length, 61);
  const flip = await meanNeg("flip");
  const none = await meanNeg("none");
  assert.ok(flip <= 0.5 && flip < -0.85, `flip ${flip}`);
  assert.ok(none > 0.85, `none ${none}`);
});

test("negation none is the embedding as it was: same provider id, same vectors", async () => {
  // Hashes of the vectors the provider gave before negation existed (commit 849f51f), for influenza-dtl's
  // tokens and four texts with cues, under three settings (IDF fitted on the influenza texts).
  const tokens = [
    ...influenzaTokens(),
    ...["no fever", "cough absent", "Ｆｅｖｅｒ not", "denies chest pain but cough"].map((t) => tok("x", t)),
  ];
  const idfTexts = influenzaTokens().map((t) => t.text);
  const cases: [HashingSettingsInput, string, string][] = [
    [
      {},
      "a818d040611db6f4b6eeb0277cf6cb83b35738baab03b42cffbc4b6d5c8d35ee",
      '{"dimension":512,"model":"char-ngram-fnv1a","normalize":true,"params":{"idf":false,"ngramMax":5,"ngramMin":3,"seed":0,"signed":true,"wordWeight":1},"provider":"hashing"}',
    ],
    [
      { dimension: 64, idf: true },
      "329cce06f1496155974e791b74cee6a3c8ea3ba33625fc15e46bb821077387bc",
      '{"dimension":64,"model":"char-ngram-fnv1a","normalize":true,"params":{"idf":true,"ngramMax":5,"ngramMin":3,"seed":0,"signed":true,"wordWeight":1},"provider":"hashing","revision":"sha256:26b6c49a4f62804c638fcbc2e91e7d5d183ed29b0cc9aa6604a39e48838deb4a"}',
    ],
    [
      { dimension: 1 << 12, signed: false, wordWeight: 0.5 },
      "2f2bc9931c632f9dd9d344d9a1d331d2bc828077651ad44a8ce0d1b5224efc2b",
      '{"dimension":4096,"model":"char-ngram-fnv1a","normalize":true,"params":{"idf":false,"ngramMax":5,"ngramMin":3,"seed":0,"signed":false,"wordWeight":0.5},"provider":"hashing"}',
    ],
  ];
  for (const [settings, hash, id] of cases) {
    const p = createHashingProvider({ ...settings, negation: "none" }, { idfTexts });
    const m = await p.embed(tokens);
    assert.equal(createHash("sha256").update(new Uint8Array(m.data.buffer)).digest("hex"), hash);
    assert.equal(providerId(p.info), id);
    // Rebuilt from its id (what a bundle's target does): the same provider.
    const again = createHashingProvider(hashingSettingsFromInfo(p.info), { idfTexts });
    assert.equal(providerId(again.info), id);
    // Guard: the default (flip) differs in both.
    const flip = createHashingProvider(settings, { idfTexts });
    assert.notEqual(providerId(flip.info), id);
    assert.notDeepEqual((await flip.embed(tokens)).data, m.data);
  }
  const custom = createHashingProvider({ negation: { mode: "subspace", cues: ["non"], keepCues: false } });
  assert.equal(
    providerId(createHashingProvider(hashingSettingsFromInfo(custom.info)).info),
    providerId(custom.info),
  );
});

test("IDF downweights features common to the vocabulary", async () => {
  const texts = ["lab positive influenza", "lab positive rsv", "lab positive adenovirus", "cough"];
  const s = HashingSettings.parse({ dimension: 1 << 20, idf: true });
  const idf = fitHashingIdf(texts, s);
  // A feature in 3 of 4 texts: ln(5/4)+1; in 1 of 4: ln(5/2)+1 (sklearn's smooth_idf formula).
  const values = new Set(Array.from(idf).map((x) => x.toFixed(5)));
  assert.ok(values.has((Math.log(5 / 4) + 1).toFixed(5)));
  assert.ok(values.has((Math.log(5 / 2) + 1).toFixed(5)));
  const plain = createHashingProvider({ dimension: 1024 });
  const weighted = createHashingProvider({ dimension: 1024, idf: true }, { idfTexts: texts });
  assert.notEqual(weighted.info.revision, undefined);
  const a = await plain.embed(texts.slice(0, 2).map((t) => tok("X", t)));
  const b = await weighted.embed(texts.slice(0, 2).map((t) => tok("X", t)));
  assert.ok(cosine(row(b, 0), row(b, 1)) < cosine(row(a, 0), row(a, 1)));
  assert.throws(() => createHashingProvider({ idf: true }), /needs texts to fit IDF/);
  assert.throws(() => createHashingProvider({ ngramMin: 5, ngramMax: 3 }), /ngramMin must be <= ngramMax/);
});

test("one-hot: source keys get identity rows, everything else the unknown slot", async () => {
  const source = {
    site: "S",
    tokens: [tok("C1", "fever"), tok("C1", "Not fever", { kind: "absent" }), tok("C2", "cough")],
  };
  const p = createOneHotProvider(source);
  assert.equal(p.info.dimension, 4);
  const m = await p.embed([
    tok("C2", "tussis"),
    tok("C9", "fever"),
    tok("C1", "Not pyrexia", { kind: "absent" }),
  ]);
  assert.deepEqual(Array.from(m.data), [0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
  const other = createOneHotProvider({ site: "S", tokens: source.tokens.slice(1) });
  assert.notEqual(other.info.revision, p.info.revision);
});
