import type { VocabularyToken } from "../concepts/vocabulary.js";
import { stableStringify } from "../util/stable-json.js";

/** What identifies an embedding: the cache key and what a model bundle records. */
export interface ProviderInfo {
  /** Provider kind: "onehot" | "hashing" | "cooccurrence" | "table" | "vectors" | "onnx" | "openai". */
  provider: string;
  /** Model name or file, e.g. "bert-base-uncased", "text-embedding-3-small", "concept_pair_bert.h5". */
  model?: string;
  /** Model revision or content hash of the file/directory, so a changed model never hits an old cache. */
  revision?: string;
  pooling?: "cls" | "mean" | "none";
  normalize?: boolean;
  /** Output dimension, when known before embedding. */
  dimension?: number;
  /** Other settings that change the vectors (n-gram range, SVD rank, `dimensions` for OpenAI...). */
  params?: Record<string, string | number | boolean>;
  /** Conditioning applied after the provider (src/embed/postprocess.ts), e.g. "center,remove-top-k:8,l2". */
  postprocess?: string;
  /** "sha256:..." of the fitted transform's parameters, when a step was fitted on a source vocabulary. */
  postprocessFit?: string;
}

/** Row-major matrix of float32 vectors, one row per token. */
export interface EmbeddingMatrix {
  rows: number;
  dim: number;
  data: Float32Array;
}

export interface EmbeddingProvider {
  readonly info: ProviderInfo;
  /**
   * Embed tokens, in order. Text-based providers (hashing, onnx, openai) use `text`; token-based
   * providers (onehot, table) may also use `code` and `value`.
   */
  embed(tokens: readonly VocabularyToken[], opts?: EmbedOptions): Promise<EmbeddingMatrix>;
  /**
   * Optional: get ready to embed these tokens in one go (the `vectors` provider reads the words of all
   * of them in one pass over its file instead of one pass per chunk). embedWithCache calls it once.
   */
  prefetch?(tokens: readonly VocabularyToken[], opts?: EmbedOptions): Promise<void>;
}

export interface EmbedOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /**
   * Called by providers that embed in batches (openai, onnx) as each batch is finished and
   * validated: `vectors` row k belongs to `tokens[rows[k]]`. The cache persists batches through it
   * so that a killed run keeps every finished batch. Optional: providers may ignore it.
   */
  onBatch?: (rows: readonly number[], vectors: EmbeddingMatrix) => void;
}

/** Stable provider id string (cache key prefix, bundle field): sorted-key JSON of the info. */
export function providerId(info: ProviderInfo): string {
  return stableStringify(info);
}

export { stableStringify } from "../util/stable-json.js";
