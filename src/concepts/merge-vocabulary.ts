import type { SiteDataset } from "../data/types.js";
import { unionByKey } from "./sequences.js";
import { DEFAULT_TOKEN_TEXT, type TokenTextSettings } from "./token-text.js";
import { buildVocabulary, type Vocabulary } from "./vocabulary.js";

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
  const union = unionByKey(parts.map((p) => p.vocabulary.tokens));
  const typeToToken = parts.map((p, i) => p.typeToToken.map((local) => union.remaps[i][local]));
  return { vocabulary: { site, tokens: union.tokens }, typeToToken };
}
