import { observationValueKey } from "../data/types.js";
import { own } from "../util/dict.js";
import { candidatesOf, type NeighbourLists } from "./alignment.js";
import { indexByText, normalizeTokenText } from "./alignment-text.js";
import type { VocabularyToken } from "./vocabulary.js";

/**
 * Scoring an alignment against an answer key: a function giving each token the identity it should be
 * matched by (eICU drugs: their HICL code; a synthetic site: its latent fact id). A target token counts
 * only when some source token has the same key: nothing else could be a right answer.
 */
export type AnswerKey = (token: VocabularyToken) => string | undefined;

/**
 * Answer key from a concept metadata field (e.g. "hicl", "fact"), joined with the token's value so that
 * "Not cough" is not counted a correct match for "cough". A level value is translated to its canonical
 * name where the concept's metadata has one (`"level:<site level>": "<canonical>"`, as the synthetic
 * world records it), since sites may name the same level differently.
 */
export function metadataAnswerKey(field: string): AnswerKey {
  return (token) => {
    const v = own(token.metadata, field);
    if (v === undefined || v === "") return undefined;
    const value = token.value;
    if (value.kind === "level")
      return `${v}|level:${own(token.metadata, `level:${value.level}`) ?? value.level}`;
    return `${v}|${observationValueKey(value)}`;
  };
}

/** A proportion with its Wilson 95% interval (well behaved near 0 and 1 and for small n). */
export interface Proportion {
  correct: number;
  total: number;
  value: number;
  ci95: [number, number];
}

export function proportion(correct: number, total: number): Proportion {
  if (total === 0) return { correct, total, value: Number.NaN, ci95: [Number.NaN, Number.NaN] };
  const z = 1.959963984540054;
  const p = correct / total;
  const z2n = (z * z) / total;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / total + z2n / (4 * total))) / (1 + z2n);
  return { correct, total, value: p, ci95: [Math.max(0, centre - half), Math.min(1, centre + half)] };
}

export interface TopKAccuracy {
  /** Right answer ranked first. */
  top1: Proportion;
  /** Right answer among the first k candidates. */
  topK: Proportion;
  k: number;
}

export interface AlignmentScore {
  k: number;
  targetTokens: number;
  /** Target tokens the answer key knows. */
  targetWithKey: number;
  /** ... of which the source has a token with the same key: the evaluated set. */
  evaluated: number;
  all: TopKAccuracy;
  /** Evaluated tokens whose normalised text matches no source token: where exact match cannot help. */
  withoutExactText: TopKAccuracy;
  /** Evaluated tokens whose normalised text matches some source token. */
  withExactText: TopKAccuracy;
}

/**
 * Top-1 / top-k accuracy of neighbour lists (target rows = `target` tokens, indices into `source`)
 * against an answer key. k is the lists' width unless given smaller.
 */
export function scoreNeighbours(
  neighbours: NeighbourLists,
  source: readonly VocabularyToken[],
  target: readonly VocabularyToken[],
  answerKey: AnswerKey,
  k: number = neighbours.top,
): AlignmentScore {
  if (neighbours.rows !== target.length) throw new Error("scoreNeighbours: rows != target tokens");
  if (k > neighbours.top) throw new Error(`scoreNeighbours: k ${k} > list width ${neighbours.top}`);
  const sourceKeys = source.map(answerKey);
  const sourceKeySet = new Set(sourceKeys.filter((v): v is string => v !== undefined));
  const sourceTexts = indexByText(source);
  const tally = { all: new Tally(), without: new Tally(), with: new Tally() };
  let withKey = 0;
  target.forEach((tok, t) => {
    const key = answerKey(tok);
    if (key === undefined) return;
    withKey++;
    if (!sourceKeySet.has(key)) return;
    const cands = candidatesOf(neighbours, t).slice(0, k);
    const rank = cands.findIndex((c) => sourceKeys[c.source] === key);
    const hasExact = sourceTexts.has(normalizeTokenText(tok.text));
    tally.all.add(rank, k);
    (hasExact ? tally.with : tally.without).add(rank, k);
  });
  return {
    k,
    targetTokens: target.length,
    targetWithKey: withKey,
    evaluated: tally.all.total,
    all: tally.all.result(k),
    withoutExactText: tally.without.result(k),
    withExactText: tally.with.result(k),
  };
}

class Tally {
  total = 0;
  first = 0;
  inTop = 0;
  add(rank: number, k: number): void {
    this.total++;
    if (rank === 0) this.first++;
    if (rank >= 0 && rank < k) this.inTop++;
  }
  result(k: number): TopKAccuracy {
    return { top1: proportion(this.first, this.total), topK: proportion(this.inTop, this.total), k };
  }
}
