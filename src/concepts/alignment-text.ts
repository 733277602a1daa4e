import type { NeighbourLists } from "./alignment.js";
import type { VocabularyToken } from "./vocabulary.js";

/**
 * Text normalisation for exact-match alignment: Unicode NFKC, lower case, every run of punctuation or
 * whitespace one space, trimmed ("5 ML VIAL : DILTIAZEM" = "5 ml vial diltiazem"). The same rule as
 * embed/text-normalize.ts (which this stage may not import), so the exact-match baseline and the
 * co-occurrence provider's text lookup agree on what "the same text" is. Deliberately nothing
 * cleverer (no stemming, no dose stripping): exact match is the baseline embeddings have to beat.
 */
export function normalizeTokenText(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** Token indices per normalised text (empty texts are left out: they match nothing). */
export function indexByText(tokens: readonly VocabularyToken[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  tokens.forEach((tok, i) => {
    const norm = normalizeTokenText(tok.text);
    if (norm === "") return;
    const list = m.get(norm);
    if (list) list.push(i);
    else m.set(norm, [i]);
  });
  return m;
}

/**
 * The exact-match baseline as neighbour lists: every source token whose normalised text equals the
 * target token's (in source order, score 1), up to `top`; none when no text matches.
 */
export function exactTextNeighbours(
  source: readonly VocabularyToken[],
  target: readonly VocabularyToken[],
  top: number,
): NeighbourLists {
  const bySource = indexByText(source);
  const indices = new Int32Array(target.length * top).fill(-1);
  const scores = new Float32Array(target.length * top).fill(Number.NaN);
  target.forEach((tok, t) => {
    const hits = bySource.get(normalizeTokenText(tok.text)) ?? [];
    for (let r = 0; r < Math.min(top, hits.length); r++) {
      indices[t * top + r] = hits[r];
      scores[t * top + r] = 1;
    }
  });
  return { top, rows: target.length, indices, scores };
}

/**
 * Anchor pairs for mapping one site's embedding space onto another's: (source, target) indices of
 * tokens whose normalised text occurs exactly once at each site. Needs no answer key: any two sites
 * can compute these from their vocabularies alone.
 */
export function uniqueTextAnchors(
  source: readonly VocabularyToken[],
  target: readonly VocabularyToken[],
): { source: number; target: number }[] {
  const s = indexByText(source);
  const t = indexByText(target);
  const pairs: { source: number; target: number }[] = [];
  for (const [text, ti] of t) {
    const si = s.get(text);
    if (si && si.length === 1 && ti.length === 1) pairs.push({ source: si[0], target: ti[0] });
  }
  pairs.sort((a, b) => a.target - b.target);
  return pairs;
}
