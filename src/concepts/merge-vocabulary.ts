import type { SiteDataset } from "../data/types.js";
import { DEFAULT_TOKEN_TEXT, type TokenTextSettings } from "./token-text.js";
import { buildVocabulary, type TokenSequences, type Vocabulary, type VocabularyToken } from "./vocabulary.js";

/**
 * One vocabulary for a site whose encounters come in several files (e.g. a training file and a
 * test file): the union of their tokens by key, sorted, with a map from each file's observation
 * types to the shared token ids.
 */
export function buildSiteVocabulary(
  site: string,
  datasets: SiteDataset[],
  settings: TokenTextSettings = DEFAULT_TOKEN_TEXT,
): { vocabulary: Vocabulary; typeToToken: Uint32Array[] } {
  const parts = datasets.map((ds) => buildVocabulary(ds, settings));
  const byKey = new Map<string, VocabularyToken>();
  for (const p of parts) for (const t of p.vocabulary.tokens) if (!byKey.has(t.key)) byKey.set(t.key, t);
  const keys = [...byKey.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const idOf = new Map(keys.map((k, i) => [k, i + 1]));
  const typeToToken = parts.map((p) =>
    p.typeToToken.map((local) => (local === 0 ? 0 : (idOf.get(p.vocabulary.tokens[local - 1].key) ?? 0))),
  );
  return { vocabulary: { site, tokens: keys.map((k) => byKey.get(k)!) }, typeToToken };
}

/** The encounters at the given positions of a sequence set (a copy, in the given order). */
export function subsetSequences(s: TokenSequences, idx: ArrayLike<number>): TokenSequences {
  let total = 0;
  for (let k = 0; k < idx.length; k++) total += s.offsets[idx[k] + 1] - s.offsets[idx[k]];
  const offsets = new Uint32Array(idx.length + 1);
  const tokens = new Uint32Array(total);
  let pos = 0;
  for (let k = 0; k < idx.length; k++) {
    const a = s.offsets[idx[k]];
    const b = s.offsets[idx[k] + 1];
    tokens.set(s.tokens.subarray(a, b), pos);
    pos += b - a;
    offsets[k + 1] = pos;
  }
  return { count: idx.length, offsets, tokens };
}
