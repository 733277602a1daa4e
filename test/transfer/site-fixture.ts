import type { LabeledSequences } from "../../src/concepts/sequences.js";
import type { VocabularyToken } from "../../src/concepts/vocabulary.js";
import type { EmbeddedSite } from "../../src/embed/embedded-site.js";
import type { EmbeddingMatrix } from "../../src/embed/types.js";

/** Vocabulary tokens from keys (text = key): what a test site needs of a vocabulary. */
export function tokens(keys: string[]): VocabularyToken[] {
  return keys.map((k) => ({ key: k, code: k, value: { kind: "present" }, conceptText: k, text: k }));
}

/** An embedded site from parts (provider id "test"). */
export function testSite(
  name: string,
  embedding: EmbeddingMatrix,
  vocabulary: VocabularyToken[],
  pool: LabeledSequences,
  test: LabeledSequences,
): EmbeddedSite {
  return { name, embedding, vocabulary, pool, test, providerId: "test" };
}
