import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  alignVocabularies,
  candidatesOf,
  combineNeighbours,
  DEFAULT_ALIGNMENT,
  nearestNeighbours,
  type VectorTable,
} from "../../src/concepts/alignment.js";
import { coverageDiagnostics } from "../../src/concepts/alignment-coverage.js";
import { procrustesAlign } from "../../src/concepts/alignment-procrustes.js";
import { metadataAnswerKey, proportion, scoreNeighbours } from "../../src/concepts/alignment-scoring.js";
import {
  exactTextNeighbours,
  normalizeTokenText,
  uniqueTextAnchors,
} from "../../src/concepts/alignment-text.js";
import type { VocabularyToken } from "../../src/concepts/vocabulary.js";
import { Rng } from "../../src/util/rng.js";

const table = (rows: number[][]): VectorTable => ({
  rows: rows.length,
  dim: rows[0].length,
  data: Float32Array.from(rows.flat()),
});

function tok(key: string, text: string, metadata?: Record<string, string>, absent = false): VocabularyToken {
  return {
    key,
    code: key.split("|")[0],
    value: absent ? { kind: "absent" } : { kind: "present" },
    conceptText: text,
    text,
    ...(metadata ? { metadata } : {}),
  };
}

describe("nearestNeighbours", () => {
  it("ranks source rows by cosine, drops scores <= minScore, breaks ties by source index", () => {
    const source = table([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    const target = table([
      [2, 0], // cos: s0 = 1, s2 = 1/sqrt2, s1 = 0 (dropped)
      [0, 0], // zero vector: no candidate
      [-1, 1], // s1 = 1/sqrt2, s2 = 0 and s0 = -1/sqrt2 dropped
      [3, 3], // s2 = 1, then s0 and s1 tie at 1/sqrt2: lower index first
    ]);
    const n = nearestNeighbours(source, target, { top: 3 });
    const r = Math.SQRT1_2;
    const got = [0, 1, 2, 3].map((t) =>
      candidatesOf(n, t).map((c) => [c.source, Number(c.score.toFixed(6))]),
    );
    assert.deepEqual(got, [
      [
        [0, 1],
        [2, Number(r.toFixed(6))],
      ],
      [],
      [[1, Number(r.toFixed(6))]],
      [
        [2, 1],
        [0, Number(r.toFixed(6))],
        [1, Number(r.toFixed(6))],
      ],
    ]);
  });

  it("gives the same lists for any block size, equal to a brute-force sort", () => {
    const rng = new Rng(7);
    const rand = (rows: number, dim: number): VectorTable => ({
      rows,
      dim,
      data: Float32Array.from({ length: rows * dim }, () => rng.normal()),
    });
    const s = rand(53, 11);
    const t = rand(41, 11);
    const a = nearestNeighbours(s, t, { top: 5, blockSize: 4, minScore: -1 });
    const b = nearestNeighbours(s, t, { top: 5, blockSize: 1000, minScore: -1 });
    assert.deepEqual(a.indices, b.indices);
    const norm = (m: VectorTable, i: number): number[] => {
      const v = Array.from(m.data.subarray(i * m.dim, (i + 1) * m.dim));
      const l = Math.hypot(...v);
      return v.map((x) => x / l);
    };
    for (let ti = 0; ti < t.rows; ti++) {
      const tv = norm(t, ti);
      const cos = Array.from({ length: s.rows }, (_, si) =>
        norm(s, si).reduce((acc, x, j) => acc + x * tv[j], 0),
      );
      const order = cos
        .map((c, si) => [c, si])
        .sort((x, y) => y[0] - x[0])
        .slice(0, 5);
      assert.deepEqual(
        candidatesOf(a, ti).map((c) => c.source),
        order.map((o) => o[1]),
      );
      for (const [r, c] of candidatesOf(a, ti).entries()) assert.ok(Math.abs(c.score - order[r][0]) < 1e-5);
    }
  });
});

describe("exact text matching", () => {
  it("normalises case, Unicode width, punctuation and whitespace only", () => {
    assert.equal(normalizeTokenText("  ASPIRIN\t81  MG "), "aspirin 81 mg");
    assert.equal(normalizeTokenText("5 ML VIAL : DILTIAZEM-HCL"), "5 ml vial diltiazem hcl");
    assert.equal(normalizeTokenText("ＡＢＣ"), "abc");
    assert.notEqual(normalizeTokenText("aspirin 81mg"), normalizeTokenText("aspirin 81 mg"));
  });

  it("lists every source token with the same text, and finds unique-text anchors", () => {
    const source = [tok("a|present", "Heparin"), tok("b|present", "heparin "), tok("c|present", "Insulin")];
    const target = [tok("x|present", "insulin"), tok("y|present", "HEPARIN"), tok("z|present", "propofol")];
    const n = exactTextNeighbours(source, target, 5);
    assert.deepEqual(
      [0, 1, 2].map((t) => candidatesOf(n, t).map((c) => c.source)),
      [[2], [0, 1], []],
    );
    // "heparin" occurs twice at the source: not a safe anchor.
    assert.deepEqual(uniqueTextAnchors(source, target), [{ source: 2, target: 0 }]);
  });

  it("combines exact matches first with embedding neighbours after them", () => {
    const exact = {
      top: 2,
      rows: 1,
      indices: Int32Array.from([4, -1]),
      scores: Float32Array.from([1, Number.NaN]),
    };
    const emb = { top: 2, rows: 1, indices: Int32Array.from([4, 9]), scores: Float32Array.from([0.9, 0.8]) };
    assert.deepEqual(
      candidatesOf(combineNeighbours(exact, emb, 2), 0).map((c) => c.source),
      [4, 9],
    );
  });
});

describe("scoring against an answer key", () => {
  const source = [
    tok("s1|present", "warfarin 5 mg", { hicl: "2812" }),
    tok("s2|present", "aspirin 81 mg", { hicl: "1820" }),
    tok("s3|present", "diltiazem", { hicl: "182" }),
    tok("s4|present", "no code"),
  ];
  const target = [
    tok("t1|present", "Warfarin 5 MG", { hicl: "2812" }), // exact text match, right
    tok("t2|present", "ASA 81", { hicl: "1820" }), // no exact text; embedding ranks it 2nd
    tok("t3|present", "cardizem", { hicl: "182" }), // no exact text; embedding misses
    tok("t4|present", "zosyn", { hicl: "9999" }), // code unknown at the source: not evaluated
    tok("t5|present", "saline"), // no code: not evaluated
  ];
  const emb = {
    top: 2,
    rows: 5,
    indices: Int32Array.from([0, 1, 3, 1, 0, 3, 2, -1, 1, -1]),
    scores: Float32Array.from([0.99, 0.5, 0.8, 0.7, 0.6, 0.5, 0.4, Number.NaN, 0.3, Number.NaN]),
  };
  const key = metadataAnswerKey("hicl");

  it("counts top-1/top-k only over target tokens whose key exists at the source", () => {
    const s = scoreNeighbours(emb, source, target, key);
    assert.equal(s.targetWithKey, 4);
    assert.equal(s.evaluated, 3);
    assert.deepEqual([s.all.top1.correct, s.all.topK.correct, s.all.top1.total], [1, 2, 3]);
    assert.deepEqual([s.withExactText.top1.correct, s.withExactText.top1.total], [1, 1]);
    assert.deepEqual([s.withoutExactText.top1.correct, s.withoutExactText.topK.correct], [0, 1]);
    const exact = scoreNeighbours(exactTextNeighbours(source, target, 2), source, target, key);
    assert.deepEqual([exact.all.top1.correct, exact.all.topK.correct], [1, 1]);
  });

  it("joins the token value into the key ('Not x' is not a match for 'x')", () => {
    assert.equal(key(tok("a|absent", "Not warfarin", { hicl: "2812" }, true)), "2812|absent");
    assert.notEqual(key(tok("a|absent", "Not warfarin", { hicl: "2812" }, true)), key(source[0]));
  });

  it("translates site level names to canonical ones when the metadata has them", () => {
    const level = (lvl: string, meta: Record<string, string>): VocabularyToken => ({
      ...tok("T|x", "temp"),
      value: { kind: "level", level: lvl },
      metadata: meta,
    });
    const k = metadataAnswerKey("fact");
    assert.equal(k(level("hi", { fact: "F1", "level:hi": "high" })), "F1|level:high");
    assert.equal(k(level("H", { fact: "F1", "level:H": "high" })), "F1|level:high");
    assert.equal(k(level("H", { fact: "F1" })), "F1|level:H");
  });

  it("gives Wilson intervals (python: Wilson formula, z = 1.959964, 8/10 -> 0.490162, 0.943318)", () => {
    const p = proportion(8, 10);
    assert.ok(Math.abs(p.ci95[0] - 0.4901624715366418) < 1e-12);
    assert.ok(Math.abs(p.ci95[1] - 0.9433178485456248) < 1e-12);
    assert.deepEqual(proportion(0, 5).ci95[0], 0);
  });
});

describe("coverage diagnostics", () => {
  it("counts matches above threshold, empty and duplicate texts, and site-only tokens", () => {
    const source = [tok("a|present", "Heparin"), tok("b|present", "heparin"), tok("c|present", " ")];
    const target = [tok("a|present", "heparin"), tok("d|present", "Insulin"), tok("e|present", "")];
    const al = alignVocabularies(
      {
        site: "S",
        tokens: source,
        vectors: table([
          [1, 0],
          [0.9, 0.1],
          [0, 0],
        ]),
      },
      {
        site: "T",
        tokens: target,
        vectors: table([
          [1, 0],
          [0.5, 0.5],
          [0, 0],
        ]),
      },
      { ...DEFAULT_ALIGNMENT, threshold: 0.9 },
    );
    const c = coverageDiagnostics(al);
    // t0 cos 1 (above), t1 best cos(0.5,0.5 vs 0.9,0.1) = 0.78 (below), t2 zero vector: no candidate.
    assert.deepEqual([c.aboveThreshold, c.noCandidate, c.shareAboveThreshold], [1, 1, 1 / 3]);
    assert.deepEqual(c.emptyText, { source: ["c|present"], target: ["e|present"] });
    assert.deepEqual(c.duplicateText.source, [{ text: "heparin", keys: ["a|present", "b|present"] }]);
    assert.deepEqual(c.byKey, { shared: 1, onlySource: 2, onlyTarget: 2 });
    assert.deepEqual(c.byText, { shared: 1, onlySource: 0, onlyTarget: 1 });
  });
});

describe("procrustesAlign", () => {
  it("recovers a hidden rotation from a few anchors so every token finds its counterpart", () => {
    const rng = new Rng(3);
    const n = 40;
    const d = 6;
    const src = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
    // Random orthogonal matrix: Gram-Schmidt on Gaussian columns.
    const q: number[][] = [];
    for (let i = 0; i < d; i++) {
      let v = Array.from({ length: d }, () => rng.normal());
      for (const u of q) {
        const dot = u.reduce((a, x, j) => a + x * v[j], 0);
        v = v.map((x, j) => x - dot * u[j]);
      }
      const l = Math.hypot(...v);
      q.push(v.map((x) => x / l));
    }
    const perm = rng.permutation(n);
    // Target token k is source token perm[k], rotated, plus a little noise.
    const tgt = Array.from(perm, (p) =>
      q.map((row) => row.reduce((a, x, j) => a + x * src[p][j], 0) + 0.01 * rng.normal()),
    );
    const anchors = Array.from({ length: 12 }, (_, k) => ({ source: perm[k], target: k }));
    const mapped = procrustesAlign(table(src), table(tgt), anchors);
    const nn = nearestNeighbours(mapped.source, mapped.target, { top: 1 });
    assert.deepEqual(Array.from(nn.indices), Array.from(perm));
    // Without the map the rotation scrambles most matches.
    const raw = nearestNeighbours(table(src), table(tgt), { top: 1, minScore: -1 });
    assert.ok(Array.from(raw.indices).filter((s, k) => s === perm[k]).length < n / 2);
  });
});
