import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { TokenSequences, Vocabulary } from "../../../src/concepts/vocabulary.js";
import { EmbeddingCache, embedWithCache } from "../../../src/embed/cache.js";
import { fitCooccurrenceProvider } from "../../../src/embed/providers/cooccurrence.js";
import { createHashingProvider } from "../../../src/embed/providers/hashing.js";
import { providerId } from "../../../src/embed/types.js";
import { tok } from "../influenza-tokens.js";

const encounters = [
  [1, 2, 3],
  [1, 2],
  [2, 3, 4],
  [4, 5, 6],
  [5, 6],
  [1, 3],
  [4, 6],
  [1, 2, 5],
];
function seqsOf(e: number[][]): TokenSequences {
  const offsets = new Uint32Array(e.length + 1);
  e.forEach((x, i) => {
    offsets[i + 1] = offsets[i] + x.length;
  });
  return { count: e.length, offsets, tokens: Uint32Array.from(e.flat()) };
}
const vocab: Vocabulary = {
  site: "A",
  tokens: ["fever", "cough", "Not cough", "rash", "itch", "swelling"].map((t, i) => tok(`C${i}`, t)),
};

// Reference: numpy PPMI (alpha 0.75) + full SVD, sign fixed so each column's largest |entry| > 0:
// /usr/bin/python3 -c "import numpy as np; E=[[1,2,3],[1,2],[2,3,4],[4,5,6],[5,6],[1,3],[4,6],[1,2,5]]; V=6
//  C=np.zeros((V,V)); [C.__setitem__((i-1,j-1), C[i-1,j-1]+1) for e in E for i in e for j in e if i!=j]
//  r=C.sum(1); T=C.sum(); ctx=r**0.75; ctx/=ctx.sum(); P=np.log((C/T)/((r/T)[:,None]*ctx[None,:]))
//  P[~np.isfinite(P)]=0; P=np.maximum(P,0); U,S,Vt=np.linalg.svd(P)
//  (flip signs) print(U[:,:2]*np.sqrt(S[:2]))"
const expected = [
  [0.263974, -0.594102],
  [0.230076, -0.541252],
  [0.327667, -0.492455],
  [0.558064, -0.23569],
  [0.543276, -0.196355],
  [0.950053, 0.716721],
];

test("PPMI + truncated SVD equals numpy's U*sqrt(S)", async () => {
  const p = fitCooccurrenceProvider(vocab, seqsOf(encounters), { dimension: 2 });
  assert.equal(p.info.dimension, 2);
  const m = await p.embed(vocab.tokens);
  for (let i = 0; i < 6; i++) {
    for (let c = 0; c < 2; c++) assert.ok(Math.abs(m.data[i * 2 + c] - expected[i][c]) < 1e-4, `${i},${c}`);
  }
  // Same data and seed -> same revision; different data -> different revision.
  const again = fitCooccurrenceProvider(vocab, seqsOf(encounters), { dimension: 2 });
  assert.equal(again.info.revision, p.info.revision);
  const other = fitCooccurrenceProvider(vocab, seqsOf(encounters.slice(1)), { dimension: 2 });
  assert.notEqual(other.info.revision, p.info.revision);
});

test("target tokens match by text; unseen texts get zeros or the fallback", async () => {
  const p = fitCooccurrenceProvider(vocab, seqsOf(encounters), { dimension: 2 });
  const target = [tok("LOC-9", "COUGH"), tok("LOC-1", "dyspnoea"), tok("C0", "fever")];
  const m = await p.embed(target);
  assert.ok(Math.abs(m.data[0] - expected[1][0]) < 1e-4);
  assert.deepEqual(Array.from(m.data.subarray(2, 4)), [0, 0]);
  assert.ok(Math.abs(m.data[4] - expected[0][0]) < 1e-4);
  // Through the cache: the zero vector is returned but not cached.
  const cache = new EmbeddingCache(mkdtempSync(join(tmpdir(), "cb-cooc-")));
  const cached = await embedWithCache(p, target, cache);
  assert.deepEqual(cached.data, m.data);
  assert.equal(cache.size(providerId(p.info)), 2);
  const fallback = createHashingProvider({ dimension: 8 });
  assert.throws(
    () => fitCooccurrenceProvider(vocab, seqsOf(encounters), { dimension: 2 }, { fallback }),
    /fallback provider dimension 8 differs/,
  );
});

test("minCount leaves rare tokens without a vector", async () => {
  // token 6 ("swelling") occurs in 3 encounters, token 5 in 3; with minCount 4 only tokens seen >= 4 times stay.
  const p = fitCooccurrenceProvider(vocab, seqsOf(encounters), { dimension: 2, minCount: 4 });
  const m = await p.embed(vocab.tokens);
  // occurrences: 1->4, 2->4, 3->3, 4->3, 5->3, 6->3
  assert.notDeepEqual(Array.from(m.data.subarray(0, 2)), [0, 0]);
  for (let i = 2; i < 6; i++) assert.deepEqual(Array.from(m.data.subarray(i * 2, i * 2 + 2)), [0, 0]);
});

test("a few thousand tokens fit quickly (randomized SVD, sparse counts)", async () => {
  const V = 3000;
  const n = 4000;
  const e: number[][] = [];
  let x = 12345;
  for (let i = 0; i < n; i++) {
    const s = new Set<number>();
    const topic = i % 30;
    for (let k = 0; k < 20; k++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      s.add(((topic * 100 + (x % 100)) % V) + 1);
    }
    e.push([...s]);
  }
  const big: Vocabulary = { site: "big", tokens: Array.from({ length: V }, (_, i) => tok(`B${i}`, `t${i}`)) };
  const p = fitCooccurrenceProvider(big, seqsOf(e), { dimension: 32 });
  const m = await p.embed(big.tokens.slice(0, 200));
  // Tokens of the same topic (same block of 100 ids) are closer than tokens of different topics.
  const cos = (a: number, b: number) => {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let c = 0; c < 32; c++) {
      ab += m.data[a * 32 + c] * m.data[b * 32 + c];
      aa += m.data[a * 32 + c] ** 2;
      bb += m.data[b * 32 + c] ** 2;
    }
    return ab / Math.sqrt(aa * bb);
  };
  assert.ok(cos(0, 50) > cos(0, 150) + 0.3, `${cos(0, 50)} vs ${cos(0, 150)}`);
});
