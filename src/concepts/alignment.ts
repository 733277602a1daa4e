import { z } from "zod";
import type { VocabularyToken } from "./vocabulary.js";

/**
 * Cross-site concept alignment: for every target-site token, its nearest source-site tokens by cosine
 * similarity. This stage sits below embed/, so it takes plain vectors (the CLI embeds both
 * vocabularies with one provider and hands the matrices over).
 */

/** Row-major float32 vectors, one row per token (same shape as embed/'s EmbeddingMatrix). */
export interface VectorTable {
  rows: number;
  dim: number;
  data: Float32Array;
}

export const AlignmentSettings = z
  .object({
    /** Candidates kept per target token. */
    top: z.number().int().positive().default(5),
    /** Cosine at or above which a target token counts as covered by a close source match. */
    threshold: z.number().min(-1).max(1).default(0.8),
    /**
     * Candidates whose cosine is at or below this are no match at all: orthogonal vectors say nothing
     * (one-hot's "unknown" slot, an empty text's zero vector), and ranking them would be arbitrary.
     */
    minScore: z.number().min(-1).max(1).default(0),
    /** Rows per block of the blocked matrix product (keeps a source block in cache). */
    blockSize: z.number().int().positive().default(128),
  })
  .strict();
export type AlignmentSettings = z.infer<typeof AlignmentSettings>;
export const DEFAULT_ALIGNMENT: AlignmentSettings = AlignmentSettings.parse({});

/**
 * Ranked candidate lists, `top` slots per target row: `indices[t * top + r]` is the source row of rank
 * r (-1 when fewer candidates passed `minScore`), `scores` its cosine.
 */
export interface NeighbourLists {
  top: number;
  rows: number;
  indices: Int32Array;
  scores: Float32Array;
}

export interface AlignmentSide {
  site: string;
  tokens: readonly VocabularyToken[];
  vectors: VectorTable;
}

export interface Alignment {
  source: { site: string; tokens: readonly VocabularyToken[] };
  target: { site: string; tokens: readonly VocabularyToken[] };
  settings: AlignmentSettings;
  neighbours: NeighbourLists;
}

/** Unit-length copy of each row; zero rows stay zero (their cosine with anything is 0). */
export function normalizeRows(m: VectorTable): Float32Array {
  checkTable(m, "vectors");
  const out = new Float32Array(m.rows * m.dim);
  for (let i = 0; i < m.rows; i++) {
    const off = i * m.dim;
    let ss = 0;
    for (let j = 0; j < m.dim; j++) ss += m.data[off + j] * m.data[off + j];
    if (ss === 0) continue;
    const inv = 1 / Math.sqrt(ss);
    for (let j = 0; j < m.dim; j++) out[off + j] = m.data[off + j] * inv;
  }
  return out;
}

/**
 * Top-k source rows by cosine for every target row. Rows are normalised once, then a blocked
 * dot-product sweep keeps a block of source rows in cache while a block of target rows passes over
 * it. Hand-written rather than ml-matrix: we need only a running top-k per row, not the full T x S
 * product in float64 (which for a few thousand tokens would be tens of MB of boxed rows).
 * Ties keep the lower source index first, so results do not depend on anything but the inputs.
 */
export function nearestNeighbours(
  source: VectorTable,
  target: VectorTable,
  opts: { top: number; minScore?: number; blockSize?: number },
): NeighbourLists {
  if (source.dim !== target.dim) {
    throw new Error(`nearestNeighbours: source dim ${source.dim} != target dim ${target.dim}`);
  }
  const k = opts.top;
  const minScore = opts.minScore ?? DEFAULT_ALIGNMENT.minScore;
  const block = opts.blockSize ?? DEFAULT_ALIGNMENT.blockSize;
  const dim = source.dim;
  const s = normalizeRows(source);
  const t = normalizeRows(target);
  const indices = new Int32Array(target.rows * k).fill(-1);
  const scores = new Float32Array(target.rows * k).fill(Number.NEGATIVE_INFINITY);
  for (let s0 = 0; s0 < source.rows; s0 += block) {
    const s1 = Math.min(source.rows, s0 + block);
    for (let t0 = 0; t0 < target.rows; t0 += block) {
      const t1 = Math.min(target.rows, t0 + block);
      for (let ti = t0; ti < t1; ti++) {
        const toff = ti * dim;
        const base = ti * k;
        for (let si = s0; si < s1; si++) {
          const soff = si * dim;
          let dot = 0;
          for (let j = 0; j < dim; j++) dot += t[toff + j] * s[soff + j];
          // Float rounding can push a unit-vector dot product a hair past 1.
          if (dot > 1) dot = 1;
          else if (dot < -1) dot = -1;
          if (dot <= minScore || dot <= scores[base + k - 1]) continue;
          let r = k - 1;
          while (r > 0 && dot > scores[base + r - 1]) {
            scores[base + r] = scores[base + r - 1];
            indices[base + r] = indices[base + r - 1];
            r--;
          }
          scores[base + r] = dot;
          indices[base + r] = si;
        }
      }
    }
  }
  for (let i = 0; i < scores.length; i++) if (indices[i] < 0) scores[i] = Number.NaN;
  return { top: k, rows: target.rows, indices, scores };
}

/** Align a target vocabulary to a source vocabulary whose vectors come from the same embedding. */
export function alignVocabularies(
  source: AlignmentSide,
  target: AlignmentSide,
  settings: AlignmentSettings = DEFAULT_ALIGNMENT,
): Alignment {
  if (source.vectors.rows !== source.tokens.length) {
    throw new Error(
      `alignVocabularies: ${source.tokens.length} source tokens but ${source.vectors.rows} rows`,
    );
  }
  if (target.vectors.rows !== target.tokens.length) {
    throw new Error(
      `alignVocabularies: ${target.tokens.length} target tokens but ${target.vectors.rows} rows`,
    );
  }
  const neighbours = nearestNeighbours(source.vectors, target.vectors, settings);
  return {
    source: { site: source.site, tokens: source.tokens },
    target: { site: target.site, tokens: target.tokens },
    settings,
    neighbours,
  };
}

/** The candidates of target row t, best first. */
export function candidatesOf(n: NeighbourLists, t: number): { source: number; score: number }[] {
  const out: { source: number; score: number }[] = [];
  for (let r = 0; r < n.top; r++) {
    const idx = n.indices[t * n.top + r];
    if (idx < 0) break;
    out.push({ source: idx, score: n.scores[t * n.top + r] });
  }
  return out;
}

/**
 * Candidates of `primary` first, then those of `fallback` not already listed, up to `top`: e.g. exact
 * text matches first and embedding neighbours after them.
 */
export function combineNeighbours(
  primary: NeighbourLists,
  fallback: NeighbourLists,
  top: number,
): NeighbourLists {
  if (primary.rows !== fallback.rows) throw new Error("combineNeighbours: row counts differ");
  const indices = new Int32Array(primary.rows * top).fill(-1);
  const scores = new Float32Array(primary.rows * top).fill(Number.NaN);
  for (let t = 0; t < primary.rows; t++) {
    let r = 0;
    const seen = new Set<number>();
    for (const list of [primary, fallback]) {
      for (const c of candidatesOf(list, t)) {
        if (r >= top) break;
        if (seen.has(c.source)) continue;
        seen.add(c.source);
        indices[t * top + r] = c.source;
        scores[t * top + r] = c.score;
        r++;
      }
    }
  }
  return { top, rows: primary.rows, indices, scores };
}

function checkTable(m: VectorTable, what: string): void {
  if (m.data.length !== m.rows * m.dim) {
    throw new Error(`${what}: data length ${m.data.length} != rows ${m.rows} x dim ${m.dim}`);
  }
}

/** One target token's ranked source candidates, by key and text (what `align --json` prints). */
export interface TokenMatches {
  key: string;
  text: string;
  candidates: { key: string; text: string; score: number }[];
}

export function alignmentMatches(alignment: Alignment): TokenMatches[] {
  const src = alignment.source.tokens;
  return alignment.target.tokens.map((tok, t) => ({
    key: tok.key,
    text: tok.text,
    candidates: candidatesOf(alignment.neighbours, t).map((c) => ({
      key: src[c.source].key,
      text: src[c.source].text,
      score: c.score,
    })),
  }));
}
