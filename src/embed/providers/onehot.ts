import { createHash } from "node:crypto";
import type { Vocabulary } from "../../concepts/vocabulary.js";
import type { EmbeddingProvider, ProviderInfo } from "../types.js";

/**
 * The seed paper's one-hot baseline. In transfer the space is the *source* vocabulary's: a target
 * token gets the source's one-hot row only when its key (code + value) is identical, and every other
 * token shares one "unknown" dimension (the last), so a model trained at the source sees unmatched
 * target concepts as one undifferentiated signal rather than as a source concept they are not.
 */
export function createOneHotProvider(sourceVocabulary: Vocabulary): EmbeddingProvider {
  const index = new Map<string, number>();
  sourceVocabulary.tokens.forEach((t, i) => {
    if (!index.has(t.key)) index.set(t.key, i);
  });
  const dim = sourceVocabulary.tokens.length + 1;
  const unknown = dim - 1;
  const hash = createHash("sha256");
  for (const t of sourceVocabulary.tokens) hash.update(`${t.key}\n`);
  const info: ProviderInfo = {
    provider: "onehot",
    model: sourceVocabulary.site,
    // The vocabulary (its keys in order) defines the space: a different source is a different embedding.
    revision: `sha256:${hash.digest("hex")}`,
    dimension: dim,
  };
  return {
    info,
    async embed(tokens, opts) {
      const data = new Float32Array(tokens.length * dim);
      tokens.forEach((t, i) => {
        data[i * dim + (index.get(t.key) ?? unknown)] = 1;
      });
      opts?.onProgress?.(tokens.length, tokens.length);
      return { rows: tokens.length, dim, data };
    },
  };
}
