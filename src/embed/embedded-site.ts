import type { EncodedSite } from "../concepts/encoded-site.js";
import { withPaddingRow } from "./matrix.js";
import type { PostprocessJson } from "./postprocess.js";
import { postprocessOf } from "./postprocessed.js";
import { type EmbeddingMatrix, type EmbeddingProvider, providerId } from "./types.js";

/**
 * An encoded site with its vocabulary embedded by one provider: the second (and last) site shape.
 * `embedding` has one row per token id, row 0 the zero padding vector. Only the site's own process
 * ever holds these rows; a model that travels carries `providerId` so the next site embeds its own
 * tokens the same way.
 */
export interface EmbeddedSite extends EncodedSite {
  /** (vocabulary size + 1) x D. */
  embedding: EmbeddingMatrix;
  providerId: string;
  /**
   * The transform a postprocessed provider fitted (at the source; carried unchanged to the target):
   * a model trained on this site carries it in its model file, so `bundle export` can ship it.
   */
  postprocess?: PostprocessJson;
}

export interface EmbedSiteOptions {
  /** Texts embedded so far (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

/** Embed a site's vocabulary with a provider (row 0 = padding). */
export async function embedSite(
  site: EncodedSite,
  provider: EmbeddingProvider,
  opts: EmbedSiteOptions = {},
): Promise<EmbeddedSite> {
  const total = site.vocabulary.length;
  const m = await provider.embed(site.vocabulary, {
    ...(opts.onProgress ? { onProgress: (done: number) => opts.onProgress?.(done, total) } : {}),
  });
  const transform = postprocessOf(provider);
  const embedded = withEmbedding(site, withPaddingRow(m), providerId(provider.info));
  // Only a fitted transform travels (an l2-only one has no parameters and the id says it all).
  return transform?.fit !== undefined ? { ...embedded, postprocess: transform.toJSON() } : embedded;
}

/** A site with a given (already padded) table. */
export function withEmbedding(site: EncodedSite, embedding: EmbeddingMatrix, id: string): EmbeddedSite {
  if (embedding.rows !== site.vocabulary.length + 1)
    throw new Error(
      `embedding has ${embedding.rows} rows for ${site.vocabulary.length} tokens (expected tokens + 1)`,
    );
  return { ...site, embedding, providerId: id };
}
