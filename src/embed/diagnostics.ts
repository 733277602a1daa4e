import { squaredSingularValues } from "./linalg.js";
import { DEFAULT_PRE_CUES } from "./negation.js";
import { normalizeText } from "./text-normalize.js";
import type { EmbeddingMatrix } from "./types.js";

/**
 * How good an embedding of a vocabulary is for this project's purpose, in numbers that need no labels:
 *
 * - mean pairwise cosine over all pairs of tokens with a vector: (|sum u_i|^2 - m) / (m (m - 1)) for
 *   unit rows u_i (exact, O(m d)). Near 1 = anisotropic: every vector shares one direction (BERT
 *   [CLS] vectors of the seed paper: 0.83; another BERT-family file: 0.988).
 * - effective rank (Roy & Vetterli 2007): exp(H(p)), p_i = s_i / sum s of the singular values of the
 *   matrix of those rows: how many directions the vocabulary really uses.
 * - negation cosine: mean cosine of each absent token ("Not cough") with its present token ("cough"),
 *   paired by code (absent/present of one code), else by text ("not X" / "X"). Near 1 = the
 *   embedding cannot tell a finding from its absence (the paper's central bit).
 * - share of tokens without a vector (all-zero rows, or the rows the caller says).
 * - nearest neighbours of a few tokens, as a sanity check to read.
 *
 * Each figure is given raw (the matrix as the model sees it) and centered (after subtracting the mean
 * of the rows with a vector), which shows what `postprocess: [center]` would do. Warnings are raised
 * on the raw figures with the thresholds below; the experiment runner reports them per site and
 * embedding. scripts/embedding-diagnostics-reference.py computes the same figures with numpy.
 */
export interface DiagnosticThresholds {
  /** Warn when the mean pairwise cosine exceeds this (default 0.95). */
  meanCosine: number;
  /** Warn when the mean "X" / "Not X" cosine exceeds this (default 0.8). */
  negationCosine: number;
  /** Warn when more than this share of tokens has no vector (default 0.05). */
  withoutVectorShare: number;
}

export const DEFAULT_THRESHOLDS: DiagnosticThresholds = {
  meanCosine: 0.95,
  negationCosine: 0.8,
  withoutVectorShare: 0.05,
};

/** A token as diagnostics see it (a VocabularyToken fits). */
export interface DiagnosticToken {
  text: string;
  code?: string;
  value?: { kind: string };
}

export interface DiagnosticsOptions {
  thresholds?: Partial<DiagnosticThresholds>;
  /** Rows that have no vector (default: the all-zero rows). */
  withoutVector?: ArrayLike<boolean>;
  /** How many tokens get nearest-neighbour examples (default 5), and how many neighbours each (3). */
  neighbourExamples?: number;
  neighbours?: number;
  /** Effective rank on at most this many rows (an even stride through them; default 500: the eigenproblem is cubic in it). */
  maxRankRows?: number;
}

export interface SpaceStats {
  meanCosine: number;
  effectiveRank: number;
  /** null when no negation pair has vectors. */
  negationCosine: number | null;
}

export interface NegationExample {
  positive: string;
  negated: string;
  cosine: number;
  centeredCosine: number;
}

export interface EmbeddingStats {
  tokens: number;
  dimension: number;
  withoutVector: number;
  withoutVectorShare: number;
  raw: SpaceStats;
  centered: SpaceStats;
  /** Pairs (negated, positive) that both have a vector. */
  negationPairs: number;
  /** The pairs least separated (highest raw cosine), at most 5. */
  negationExamples: NegationExample[];
  neighbours: { text: string; nearest: { text: string; cosine: number }[] }[];
  /** Rows the effective rank was computed on (all rows with a vector, unless above maxRankRows). */
  rankRows: number;
}

export interface EmbeddingWarning {
  code: "anisotropic" | "negation-erased" | "missing-vectors";
  message: string;
  value: number;
  threshold: number;
}

export interface EmbeddingDiagnostics {
  stats: EmbeddingStats;
  warnings: EmbeddingWarning[];
}

function unitRows(x: Float64Array, n: number, d: number): Float64Array {
  const u = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let k = 0; k < d; k++) ss += x[i * d + k] * x[i * d + k];
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let k = 0; k < d; k++) u[i * d + k] = x[i * d + k] * inv;
  }
  return u;
}

/** Mean cosine over all pairs i < j of unit rows (zero rows, after centering, count as cosine 0). */
function meanPairwiseCosine(u: Float64Array, n: number, d: number): number {
  if (n < 2) return Number.NaN;
  const s = new Float64Array(d);
  let self = 0;
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let k = 0; k < d; k++) {
      s[k] += u[i * d + k];
      ss += u[i * d + k] * u[i * d + k];
    }
    self += ss;
  }
  let total = 0;
  for (let k = 0; k < d; k++) total += s[k] * s[k];
  return (total - self) / (n * (n - 1));
}

function effectiveRank(
  x: Float64Array,
  n: number,
  d: number,
  maxRows: number,
): { value: number; rows: number } {
  let rows = n;
  let m = x;
  if (n > maxRows) {
    rows = maxRows;
    m = new Float64Array(rows * d);
    for (let i = 0; i < rows; i++) {
      const src = Math.floor((i * n) / rows);
      m.set(x.subarray(src * d, (src + 1) * d), i * d);
    }
  }
  if (rows === 0) return { value: Number.NaN, rows };
  const sv = Array.from(squaredSingularValues(m, rows, d), (l) => Math.sqrt(Math.max(0, l)));
  const sum = sv.reduce((a, b) => a + b, 0);
  if (sum === 0) return { value: 0, rows };
  let h = 0;
  for (const s of sv) if (s > 0) h -= (s / sum) * Math.log(s / sum);
  return { value: Math.exp(h), rows };
}

function cos(u: Float64Array, d: number, i: number, j: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += u[i * d + k] * u[j * d + k];
  return s;
}

/**
 * (negated row, positive row) pairs: an absent token with the present token of its code; else a token
 * whose text is a pre-negation cue and another token's text ("no fever" / "fever", any codes).
 */
export function negationPairs(tokens: readonly DiagnosticToken[]): [number, number][] {
  const pairs: [number, number][] = [];
  const presentByCode = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (t.code !== undefined && t.value?.kind === "present" && !presentByCode.has(t.code))
      presentByCode.set(t.code, i);
  });
  const byText = new Map<string, number>();
  tokens.forEach((t, i) => {
    const k = normalizeText(t.text);
    if (!byText.has(k)) byText.set(k, i);
  });
  const cues = [...DEFAULT_PRE_CUES].sort((a, b) => b.length - a.length);
  tokens.forEach((t, i) => {
    if (t.code !== undefined && t.value?.kind === "absent") {
      const p = presentByCode.get(t.code);
      if (p !== undefined) {
        pairs.push([i, p]);
        return;
      }
    }
    if (t.value?.kind === "level") return;
    const norm = normalizeText(t.text);
    for (const c of cues) {
      if (norm.startsWith(`${c} `)) {
        const p = byText.get(norm.slice(c.length + 1));
        if (p !== undefined && p !== i) pairs.push([i, p]);
        return;
      }
    }
  });
  return pairs;
}

export function embeddingDiagnostics(
  m: EmbeddingMatrix,
  tokens: readonly DiagnosticToken[],
  opts: DiagnosticsOptions = {},
): EmbeddingDiagnostics {
  if (tokens.length !== m.rows) throw new Error(`diagnostics: ${tokens.length} tokens for ${m.rows} rows`);
  const th = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const d = m.dim;
  const has: boolean[] = [];
  for (let i = 0; i < m.rows; i++) {
    if (opts.withoutVector) has.push(!opts.withoutVector[i]);
    else {
      let nz = false;
      for (let k = 0; k < d && !nz; k++) nz = m.data[i * d + k] !== 0;
      has.push(nz);
    }
  }
  const rows: number[] = [];
  has.forEach((h, i) => {
    if (h) rows.push(i);
  });
  const n = rows.length;
  const slot = new Int32Array(m.rows).fill(-1);
  rows.forEach((r, i) => {
    slot[r] = i;
  });
  const raw = new Float64Array(n * d);
  rows.forEach((r, i) => {
    for (let k = 0; k < d; k++) raw[i * d + k] = m.data[r * d + k];
  });
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] += raw[i * d + k];
  for (let k = 0; k < d; k++) mean[k] /= Math.max(1, n);
  const cen = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) cen[i * d + k] = raw[i * d + k] - mean[k];
  const uRaw = unitRows(raw, n, d);
  const uCen = unitRows(cen, n, d);

  const pairs = negationPairs(tokens).filter(([a, b]) => slot[a] >= 0 && slot[b] >= 0);
  const examples: NegationExample[] = pairs.map(([a, b]) => ({
    positive: tokens[b].text,
    negated: tokens[a].text,
    cosine: cos(uRaw, d, slot[a], slot[b]),
    centeredCosine: cos(uCen, d, slot[a], slot[b]),
  }));
  const meanOf = (xs: number[]) => (xs.length > 0 ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
  const maxRank = opts.maxRankRows ?? 500;
  const rRaw = effectiveRank(raw, n, d, maxRank);
  const rCen = effectiveRank(cen, n, d, maxRank);
  const stats: EmbeddingStats = {
    tokens: m.rows,
    dimension: d,
    withoutVector: m.rows - n,
    withoutVectorShare: m.rows > 0 ? (m.rows - n) / m.rows : 0,
    raw: {
      meanCosine: meanPairwiseCosine(uRaw, n, d),
      effectiveRank: rRaw.value,
      negationCosine: meanOf(examples.map((e) => e.cosine)),
    },
    centered: {
      meanCosine: meanPairwiseCosine(uCen, n, d),
      effectiveRank: rCen.value,
      negationCosine: meanOf(examples.map((e) => e.centeredCosine)),
    },
    negationPairs: pairs.length,
    negationExamples: [...examples].sort((a, b) => b.cosine - a.cosine).slice(0, 5),
    neighbours: neighbourExamples(
      uRaw,
      n,
      d,
      rows,
      tokens,
      opts.neighbourExamples ?? 5,
      opts.neighbours ?? 3,
    ),
    rankRows: rRaw.rows,
  };
  return { stats, warnings: warningsFor(stats, th) };
}

function neighbourExamples(
  u: Float64Array,
  n: number,
  d: number,
  rows: readonly number[],
  tokens: readonly DiagnosticToken[],
  count: number,
  k: number,
): EmbeddingStats["neighbours"] {
  const out: EmbeddingStats["neighbours"] = [];
  const picks = Math.min(count, n);
  for (let e = 0; e < picks; e++) {
    const i = Math.floor((e * n) / picks);
    const scored: { j: number; c: number }[] = [];
    for (let j = 0; j < n; j++) if (j !== i) scored.push({ j, c: cos(u, d, i, j) });
    scored.sort((a, b) => b.c - a.c || a.j - b.j);
    out.push({
      text: tokens[rows[i]].text,
      nearest: scored.slice(0, k).map((s) => ({ text: tokens[rows[s.j]].text, cosine: s.c })),
    });
  }
  return out;
}

function warningsFor(s: EmbeddingStats, th: DiagnosticThresholds): EmbeddingWarning[] {
  const w: EmbeddingWarning[] = [];
  const f = (x: number) => x.toFixed(3);
  if (s.raw.meanCosine > th.meanCosine) {
    w.push({
      code: "anisotropic",
      value: s.raw.meanCosine,
      threshold: th.meanCosine,
      message: `mean pairwise cosine ${f(s.raw.meanCosine)} > ${th.meanCosine}: the vectors share one dominant direction (centered: ${f(s.centered.meanCosine)}); consider postprocess: [center] or [remove-top-k]`,
    });
  }
  if (s.raw.negationCosine !== null && s.raw.negationCosine > th.negationCosine) {
    const c = s.centered.negationCosine;
    w.push({
      code: "negation-erased",
      value: s.raw.negationCosine,
      threshold: th.negationCosine,
      message: `"X" and "Not X" have mean cosine ${f(s.raw.negationCosine)} > ${th.negationCosine} over ${s.negationPairs} pairs: the embedding barely tells a finding from its absence${c !== null ? ` (centered: ${f(c)})` : ""}`,
    });
  }
  if (s.withoutVectorShare > th.withoutVectorShare) {
    w.push({
      code: "missing-vectors",
      value: s.withoutVectorShare,
      threshold: th.withoutVectorShare,
      message: `${s.withoutVector} of ${s.tokens} tokens (${(100 * s.withoutVectorShare).toFixed(1)}%) have no vector`,
    });
  }
  return w;
}
