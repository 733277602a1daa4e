import type { VocabularyToken } from "../concepts/vocabulary.js";
import { InputError, type InputLocation } from "../util/errors.js";
import { type EmbeddingCache, embedWithCache } from "./cache.js";
import { FittedPostprocess, fitPostprocess, type PostprocessStep } from "./postprocess.js";
import type { EmbeddingMatrix, EmbeddingProvider, EmbedOptions, ProviderInfo } from "./types.js";

/**
 * A provider followed by a postprocess transform (postprocess.ts). Its id is the base provider's plus
 * `postprocess` (the steps as requested) and `postprocessFit` (the hash of the fitted parameters), so
 * a cache or bundle never mixes vectors of two different fits; its dimension is the transform's
 * output dimension. The base provider's vectors go through the embedding cache under the base's own
 * id when a cache is given (an OpenAI embedding is never paid for twice because the conditioning
 * changed).
 */
export interface PostprocessedProvider extends EmbeddingProvider {
  readonly base: EmbeddingProvider;
  readonly transform: FittedPostprocess;
}

export interface PostprocessedOptions {
  /** Cache for the base provider's vectors (null or absent: none). */
  cache?: EmbeddingCache | null;
  /** Names the setting in errors, e.g. { file: "spec.yaml", field: "embeddings.bert.postprocess" }. */
  where?: InputLocation;
}

function baseEmbedder(base: EmbeddingProvider, cache: EmbeddingCache | null | undefined) {
  return async (tokens: readonly VocabularyToken[], opts?: EmbedOptions): Promise<EmbeddingMatrix> => {
    // The base's own batches are raw vectors: they must not reach a cache under the wrapper's id.
    const inner: EmbedOptions = {
      ...(opts?.signal ? { signal: opts.signal } : {}),
      ...(opts?.onProgress ? { onProgress: opts.onProgress } : {}),
    };
    if (cache) {
      const m = await embedWithCache(base, tokens, cache, inner);
      return { rows: m.rows, dim: m.dim, data: m.data };
    }
    return base.embed(tokens, inner);
  };
}

/** Wrap a provider with an already fitted transform (e.g. the one a bundle carries). */
export function withPostprocess(
  base: EmbeddingProvider,
  transform: FittedPostprocess,
  opts: PostprocessedOptions = {},
): PostprocessedProvider {
  const where = opts.where ?? {};
  const baseDim = base.info.dimension;
  if (transform.inputDimension !== null && baseDim !== undefined && baseDim !== transform.inputDimension) {
    throw new InputError(
      `the postprocess transform was fitted on dimension ${transform.inputDimension}, the provider gives ${baseDim}`,
      where,
    );
  }
  const out = transform.outputDimension ?? baseDim;
  const fit = transform.fit;
  const info: ProviderInfo = {
    ...base.info,
    ...(out !== undefined ? { dimension: out } : {}),
    postprocess: transform.requested,
    ...(fit ? { postprocessFit: fit } : {}),
  };
  const embedBase = baseEmbedder(base, opts.cache);
  return {
    info,
    base,
    transform,
    async embed(tokens, eopts) {
      return transform.apply(await embedBase(tokens, eopts), where);
    },
    ...(base.prefetch ? { prefetch: base.prefetch.bind(base) } : {}),
  };
}

/**
 * Fit `steps` on the base provider's vectors of the source vocabulary's tokens and wrap the provider
 * with the result (each token key once).
 */
export async function fitPostprocessedProvider(
  base: EmbeddingProvider,
  steps: readonly PostprocessStep[],
  sourceTokens: readonly VocabularyToken[],
  opts: PostprocessedOptions = {},
): Promise<PostprocessedProvider> {
  const seen = new Set<string>();
  const distinct = sourceTokens.filter((t) => {
    if (seen.has(t.key)) return false;
    seen.add(t.key);
    return true;
  });
  const m = await baseEmbedder(base, opts.cache)(distinct);
  return withPostprocess(base, fitPostprocess(steps, m, opts.where ?? {}), opts);
}

/** The fitted transform of a provider, when it is a postprocessed one (for bundles and model files). */
export function postprocessOf(p: EmbeddingProvider): FittedPostprocess | null {
  return "transform" in p && p.transform instanceof FittedPostprocess ? p.transform : null;
}

/**
 * The base provider's info inside a postprocessed provider's info: without the postprocess fields and
 * with the dimension the transform takes. Refuses a transform that is not the one the id names.
 */
export function baseInfoOf(
  info: ProviderInfo,
  transform: FittedPostprocess,
  where: InputLocation = {},
): ProviderInfo {
  if (info.postprocess !== transform.requested || info.postprocessFit !== transform.fit) {
    throw new InputError(
      `the postprocess transform (${transform.requested}, ${transform.fit ?? "not fitted"}) is not the one the embedding names (${info.postprocess}, ${info.postprocessFit ?? "not fitted"})`,
      where,
    );
  }
  const { postprocess: _, postprocessFit: __, dimension, ...rest } = info;
  const d = transform.inputDimension ?? dimension;
  return { ...rest, ...(d !== undefined ? { dimension: d } : {}) };
}

export { FittedPostprocess };
