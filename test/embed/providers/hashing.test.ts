import assert from "node:assert/strict";
import { test } from "node:test";
import { cosine, row } from "../../../src/embed/matrix.js";
import {
  createHashingProvider,
  fitHashingIdf,
  HashingSettings,
} from "../../../src/embed/providers/hashing.js";
import { createOneHotProvider } from "../../../src/embed/providers/onehot.js";
import { tok } from "../influenza-tokens.js";

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

test("lexical variants are close, unrelated texts are not, negation moves the vector", async () => {
  const p = createHashingProvider();
  const texts = [
    "shortness of breath",
    "short of breath",
    "headache",
    "Not shortness of breath",
    "tachypnoea",
    "tachypnea",
  ];
  const m = await p.embed(texts.map((t) => tok("X", t)));
  const c = (a: number, b: number) => cosine(row(m, a), row(m, b));
  assert.ok(c(0, 1) > 0.5, `variants ${c(0, 1)}`);
  assert.ok(Math.abs(c(0, 2)) < 0.2, `unrelated ${c(0, 2)}`);
  assert.ok(c(0, 3) < 0.99 && c(0, 3) > 0.7, `negated ${c(0, 3)}`);
  assert.ok(c(4, 5) > 0.5, `spelling ${c(4, 5)}`);
  for (let i = 0; i < m.rows; i++) assert.ok(Math.abs(Math.hypot(...row(m, i)) - 1) < 1e-5);
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
