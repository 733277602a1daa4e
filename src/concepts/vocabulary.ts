import type { ObservationValue, SiteDataset } from "../data/types.js";
import { tokenKey } from "../data/types.js";
import { DEFAULT_TOKEN_TEXT, type TokenTextSettings, tokenText } from "./token-text.js";

/** One token of a site vocabulary: a (concept, value) pair with its text. */
export interface VocabularyToken {
  /** tokenKey(code, value): equal keys at two sites mean identical code and value. */
  key: string;
  code: string;
  value: ObservationValue;
  /** The concept's own text (without the value), e.g. "dyspnea". */
  conceptText: string;
  /** The token's text, e.g. "Not dyspnea". This is what language-model providers embed. */
  text: string;
  system?: string;
  metadata?: Record<string, string>;
}

/**
 * A site vocabulary. Token i of `tokens` has model id i + 1: id 0 is reserved for padding, whose
 * embedding is the zero vector and which is masked out of the max-pool.
 */
export interface Vocabulary {
  site: string;
  tokens: VocabularyToken[];
}

/** Token sequences ready for a model: CSR layout of 1-based vocabulary ids (0 never appears). */
export interface TokenSequences {
  count: number;
  offsets: Uint32Array;
  tokens: Uint32Array;
}

/**
 * Build a site's vocabulary from the observation types that occur in it (sorted by key so that the
 * vocabulary, and everything downstream, does not depend on file row order), and the mapping from
 * observation type id to model token id (0 = no token, e.g. a dropped missing value).
 */
export function buildVocabulary(
  ds: SiteDataset,
  settings: TokenTextSettings = DEFAULT_TOKEN_TEXT,
): { vocabulary: Vocabulary; typeToToken: Uint32Array } {
  const entries: { type: number; token: VocabularyToken }[] = [];
  ds.observationTypes.forEach((ot, type) => {
    const concept = ds.concepts[ot.concept];
    const text = tokenText(concept, ot.value, settings);
    if (text === null) return;
    entries.push({
      type,
      token: {
        key: tokenKey(concept.code, ot.value),
        code: concept.code,
        value: ot.value,
        conceptText: concept.text,
        text,
        ...(concept.system !== undefined ? { system: concept.system } : {}),
        ...(concept.metadata !== undefined ? { metadata: concept.metadata } : {}),
      },
    });
  });
  entries.sort((a, b) => (a.token.key < b.token.key ? -1 : a.token.key > b.token.key ? 1 : 0));
  const typeToToken = new Uint32Array(ds.observationTypes.length);
  const tokens: VocabularyToken[] = [];
  const seen = new Map<string, number>();
  for (const e of entries) {
    let id = seen.get(e.token.key);
    if (id === undefined) {
      tokens.push(e.token);
      id = tokens.length;
      seen.set(e.token.key, id);
    }
    typeToToken[e.type] = id;
  }
  return { vocabulary: { site: ds.name, tokens }, typeToToken };
}

/**
 * Encode encounters (all, or a subset given by index) as token sequences. Dropped values vanish and
 * duplicate tokens within an encounter are kept once (the max-pool would ignore them anyway for
 * kernel size 1; for wider kernels order is the dataset's observation order).
 */
export function encodeEncounters(
  ds: SiteDataset,
  typeToToken: Uint32Array,
  subset?: ArrayLike<number>,
): TokenSequences {
  const t = ds.encounters;
  const n = subset ? subset.length : t.count;
  let total = 0;
  for (let k = 0; k < n; k++) {
    const i = subset ? subset[k] : k;
    total += t.offsets[i + 1] - t.offsets[i];
  }
  const offsets = new Uint32Array(n + 1);
  const tokens = new Uint32Array(total);
  let pos = 0;
  const seen = new Set<number>();
  for (let k = 0; k < n; k++) {
    const i = subset ? subset[k] : k;
    seen.clear();
    for (let j = t.offsets[i]; j < t.offsets[i + 1]; j++) {
      const id = typeToToken[t.observations[j]];
      if (id === 0 || seen.has(id)) continue;
      seen.add(id);
      tokens[pos++] = id;
    }
    offsets[k + 1] = pos;
  }
  return { count: n, offsets, tokens: tokens.slice(0, pos) };
}
