import type { Alignment } from "./alignment.js";
import { indexByText, normalizeTokenText } from "./alignment-text.js";
import type { VocabularyToken } from "./vocabulary.js";

/**
 * How well two vocabularies can meet at all, before any answer key: how many target tokens find a
 * close source token, which tokens have unusable text, and how much the sites share verbatim.
 */
export interface CoverageDiagnostics {
  sourceTokens: number;
  targetTokens: number;
  threshold: number;
  /** Target tokens whose best source candidate has cosine >= threshold. */
  aboveThreshold: number;
  shareAboveThreshold: number;
  /** Target tokens with no candidate at all (every cosine <= minScore). */
  noCandidate: number;
  /** Keys of tokens whose normalised text is empty. */
  emptyText: { source: string[]; target: string[] };
  /** Groups of tokens of one site that share a normalised text but not a key (ambiguous for text matching). */
  duplicateText: { source: DuplicateGroup[]; target: DuplicateGroup[] };
  /** Tokens present at both sites / only at one, by identical key and by identical normalised text. */
  byKey: OverlapCounts;
  byText: OverlapCounts;
}

export interface DuplicateGroup {
  text: string;
  keys: string[];
}

export interface OverlapCounts {
  shared: number;
  onlySource: number;
  onlyTarget: number;
}

export function coverageDiagnostics(alignment: Alignment): CoverageDiagnostics {
  const { neighbours, settings } = alignment;
  const src = alignment.source.tokens;
  const tgt = alignment.target.tokens;
  let above = 0;
  let none = 0;
  for (let t = 0; t < neighbours.rows; t++) {
    const idx = neighbours.indices[t * neighbours.top];
    if (idx < 0) none++;
    else if (neighbours.scores[t * neighbours.top] >= settings.threshold) above++;
  }
  return {
    sourceTokens: src.length,
    targetTokens: tgt.length,
    threshold: settings.threshold,
    aboveThreshold: above,
    shareAboveThreshold: tgt.length > 0 ? above / tgt.length : 0,
    noCandidate: none,
    emptyText: { source: emptyTextKeys(src), target: emptyTextKeys(tgt) },
    duplicateText: { source: duplicateTextGroups(src), target: duplicateTextGroups(tgt) },
    byKey: overlap(new Set(src.map((t) => t.key)), new Set(tgt.map((t) => t.key))),
    byText: overlap(new Set(indexByText(src).keys()), new Set(indexByText(tgt).keys())),
  };
}

export function emptyTextKeys(tokens: readonly VocabularyToken[]): string[] {
  return tokens.filter((t) => normalizeTokenText(t.text) === "").map((t) => t.key);
}

export function duplicateTextGroups(tokens: readonly VocabularyToken[]): DuplicateGroup[] {
  const groups: DuplicateGroup[] = [];
  for (const [text, idx] of indexByText(tokens)) {
    if (idx.length > 1) groups.push({ text, keys: idx.map((i) => tokens[i].key) });
  }
  return groups.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
}

function overlap(source: Set<string>, target: Set<string>): OverlapCounts {
  let shared = 0;
  for (const k of target) if (source.has(k)) shared++;
  return { shared, onlySource: source.size - shared, onlyTarget: target.size - shared };
}
