import { z } from "zod";
import type { TokenSequences, Vocabulary } from "../concepts/vocabulary.js";
import { InputError } from "../util/errors.js";
import { resolveDataPath } from "../util/paths.js";
import type { EmbeddingCache } from "./cache.js";
import { describeSteps, needsFit, PostprocessSettings } from "./postprocess.js";
import { type FittedPostprocess, fitPostprocessedProvider, withPostprocess } from "./postprocessed.js";
import { CooccurrenceSettings, fitCooccurrenceProvider } from "./providers/cooccurrence.js";
import { createHashingProvider, HashingSettings } from "./providers/hashing.js";
import { createOneHotProvider } from "./providers/onehot.js";
import { createOnnxProvider, OnnxSettings } from "./providers/onnx.js";
import { createOpenAIProvider, OpenAISettings } from "./providers/openai.js";
import { createTableProvider } from "./providers/table.js";
import { createVectorsProvider, VectorsSettings } from "./providers/vectors.js";
import type { EmbeddingProvider } from "./types.js";

/**
 * Which embedding to use, as a plain settings object (experiment specs, CLI). Every provider's
 * defaults live in its own settings schema; this only adds the `provider` discriminator, and to every
 * top-level spec the optional `postprocess` conditioning (postprocess.ts), fitted on the source
 * vocabulary. Fallback providers take no postprocess of their own: the outer one covers their vectors.
 */
const HashingBase = z
  .object({
    provider: z
      .literal("hashing")
      .describe("Feature hashing of character n-grams and words: no model, no network, deterministic."),
    ...HashingSettings.shape,
  })
  .strict();
const OnnxBase = z
  .object({
    provider: z
      .literal("onnx")
      .describe("A local transformer encoder (BERT family) exported to ONNX, run offline."),
    ...OnnxSettings.shape,
  })
  .strict();
const OpenAIBase = z
  .object({
    provider: z
      .literal("openai")
      .describe("Any OpenAI-compatible /v1/embeddings endpoint (OpenAI, Azure, Ollama, vLLM, TEI)."),
    ...OpenAISettings.shape,
  })
  .strict();
const Fallback = z.discriminatedUnion("provider", [HashingBase, OnnxBase, OpenAIBase]);
const postprocess = { postprocess: PostprocessSettings.optional() };

export const HashingSpec = HashingBase.extend(postprocess).strict();
export const OnnxSpec = OnnxBase.extend(postprocess).strict();
export const OpenAISpec = OpenAIBase.extend(postprocess).strict();
export const OneHotSpec = z
  .object({
    provider: z
      .literal("onehot")
      .describe(
        "One-hot vectors over the source vocabulary (the seed paper's baseline); unmatched target tokens share one unknown dimension.",
      ),
    ...postprocess,
  })
  .strict();
export const CooccurrenceSpec = z
  .object({
    provider: z
      .literal("cooccurrence")
      .describe(
        "Vectors learned from the source site's own encounters (PPMI co-occurrence + truncated SVD).",
      ),
    ...CooccurrenceSettings.shape,
    /** Embeds target texts the fitting site never had (same dimension required); default zero vector. */
    fallback: Fallback.describe(
      "Embeds target texts the fitting site never had (same dimension required); default: the zero vector.",
    ).optional(),
    ...postprocess,
  })
  .strict();
export const TableSpec = z
  .object({
    provider: z
      .literal("table")
      .describe(
        "Precomputed vectors from a file (HDF5, NPY, CSV, JSON or Parquet), keyed as in the seed paper.",
      ),
    /** Path (relative to the spec's folder) or `shared:<path>` inside the shared data folder. */
    file: z
      .string()
      .min(1)
      .describe(
        "The vector file: a path relative to the spec's folder, or shared:<path> inside the shared data folder.",
      ),
    format: z
      .enum(["h5", "npy", "csv", "json", "parquet"])
      .describe("Force a file format; default: from the file's extension.")
      .optional(),
    indexFile: z
      .string()
      .describe(
        "NPY: the file with one key per line (or a JSON array); default <name>.keys.txt, <name>.txt or <name>.json.",
      )
      .optional(),
    keyColumn: z
      .string()
      .describe(
        'CSV/Parquet/JSON: the column holding the keys; default "key", else the first column (JSON: the text field).',
      )
      .optional(),
    vectorColumn: z
      .string()
      .describe(
        "CSV/Parquet/JSON: a column holding the whole vector (list, JSON array or space-separated numbers); default: detected (a vector or embedding column, else one column per dimension).",
      )
      .optional(),
    /** Embeds tokens the file has no vector for (otherwise they are an error). */
    fallback: Fallback.describe(
      "Embeds tokens the file has no vector for; without it they are an error that lists them.",
    ).optional(),
    ...postprocess,
  })
  .strict();
/** Static word vectors (word2vec / fastText / GloVe files); `file` as for table. */
export const VectorsSpec = z
  .object({
    provider: z
      .literal("vectors")
      .describe("Static word vectors from a word2vec, fastText or GloVe file, composed per text, offline."),
    ...VectorsSettings.shape,
    ...postprocess,
  })
  .strict();

export const EmbeddingSpec = z.discriminatedUnion("provider", [
  OneHotSpec,
  HashingSpec,
  CooccurrenceSpec,
  TableSpec,
  VectorsSpec,
  OnnxSpec,
  OpenAISpec,
]);
export type EmbeddingSpec = z.infer<typeof EmbeddingSpec>;
export type EmbeddingSpecInput = z.input<typeof EmbeddingSpec>;

export interface ProviderContext {
  /**
   * The source site's vocabulary: defines the one-hot space, hashing IDF and every fitted postprocess
   * step are fitted on it, and the vectors provider reads its words on creation.
   */
  sourceVocabulary?: Vocabulary;
  /** Unlabeled encounters of the site a cooccurrence embedding is learned at. */
  fitData?: { vocab: Vocabulary; seqs: TokenSequences };
  /** Folder that relative file paths in the spec are relative to (default: the working directory). */
  baseDir?: string;
  /**
   * A postprocess transform fitted elsewhere (the one a bundle carries): used instead of fitting one,
   * after checking that it is the spec's postprocess setting.
   */
  postprocessTransform?: FittedPostprocess;
  /** Cache for the base provider's vectors while a postprocess transform is fitted and applied. */
  cache?: EmbeddingCache | null;
}

/**
 * Whether the provider a spec gives depends on the source vocabulary it is created with (one-hot,
 * co-occurrence, hashing with IDF, any fitted postprocess step): such a provider must be created per
 * training anchor, never shared between transfer directions.
 */
export function needsSourceVocabulary(spec: EmbeddingSpecInput): boolean {
  const s = parseEmbeddingSpec(spec);
  if (s.postprocess && needsFit(s.postprocess)) return true;
  return s.provider === "onehot" || s.provider === "cooccurrence" || (s.provider === "hashing" && s.idf);
}

/** Validate a spec from a file or the command line; problems become one InputError naming `where`. */
export function parseEmbeddingSpec(input: unknown, where = "embedding"): EmbeddingSpec {
  const r = EmbeddingSpec.safeParse(input);
  if (!r.success) {
    const msg = r.error.issues
      .map((i) => `${[where, ...i.path.map(String)].join(".")}: ${i.message}`)
      .join("; ");
    throw new InputError(`invalid embedding settings: ${msg}`, { field: where });
  }
  return r.data;
}

export async function createProvider(
  spec: EmbeddingSpecInput,
  ctx: ProviderContext = {},
): Promise<EmbeddingProvider> {
  const s = parseEmbeddingSpec(spec);
  const steps = s.postprocess ?? [];
  const base = await createBaseProvider(s, ctx);
  if (steps.length === 0) {
    if (ctx.postprocessTransform) {
      throw new InputError(
        `the model's embedding was postprocessed (${ctx.postprocessTransform.requested}); the spec has no postprocess setting`,
        { field: "embedding.postprocess" },
      );
    }
    return base;
  }
  const where = { field: "embedding.postprocess" };
  const opts = { cache: ctx.cache ?? null, where };
  if (ctx.postprocessTransform) {
    const want = describeSteps(steps);
    if (ctx.postprocessTransform.requested !== want) {
      throw new InputError(
        `postprocess ${want} differs from the transform fitted at the source (${ctx.postprocessTransform.requested})`,
        where,
      );
    }
    return withPostprocess(base, ctx.postprocessTransform, opts);
  }
  const source = ctx.sourceVocabulary ?? ctx.fitData?.vocab;
  if (needsFit(steps) && !source) {
    throw new InputError(
      `postprocess ${describeSteps(steps)} is fitted on the source vocabulary, which is missing`,
      where,
    );
  }
  return fitPostprocessedProvider(base, steps, source?.tokens ?? [], opts);
}

/** The provider a spec names, before any postprocess. */
async function createBaseProvider(s: EmbeddingSpec, ctx: ProviderContext): Promise<EmbeddingProvider> {
  const baseDir = ctx.baseDir ?? ".";
  switch (s.provider) {
    case "onehot":
      if (!ctx.sourceVocabulary)
        throw new InputError("onehot needs the source vocabulary", { field: "embedding" });
      return createOneHotProvider(ctx.sourceVocabulary);
    case "hashing": {
      const { provider: _, postprocess: __, ...settings } = s;
      const texts = (ctx.sourceVocabulary ?? ctx.fitData?.vocab)?.tokens.map((t) => t.text);
      return createHashingProvider(settings, settings.idf ? { idfTexts: texts } : {});
    }
    case "cooccurrence": {
      if (!ctx.fitData) {
        throw new InputError("cooccurrence needs the encounters of the site to learn from", {
          field: "embedding",
        });
      }
      const { provider: _, fallback, postprocess: __, ...settings } = s;
      const fb = fallback
        ? await createProvider(fallback, { ...ctx, postprocessTransform: undefined })
        : undefined;
      return fitCooccurrenceProvider(
        ctx.fitData.vocab,
        ctx.fitData.seqs,
        settings,
        fb ? { fallback: fb } : {},
      );
    }
    case "table": {
      const fb = s.fallback
        ? await createProvider(s.fallback, { ...ctx, postprocessTransform: undefined })
        : undefined;
      return createTableProvider({
        file: resolveDataPath(s.file, baseDir),
        ...(s.format ? { format: s.format } : {}),
        ...(s.indexFile ? { indexFile: resolveDataPath(s.indexFile, baseDir) } : {}),
        ...(s.keyColumn ? { keyColumn: s.keyColumn } : {}),
        ...(s.vectorColumn ? { vectorColumn: s.vectorColumn } : {}),
        ...(fb ? { fallback: fb } : {}),
      });
    }
    case "vectors": {
      const { provider: _, postprocess: __, ...settings } = s;
      const source = ctx.sourceVocabulary ?? ctx.fitData?.vocab;
      return createVectorsProvider(
        { ...settings, file: resolveDataPath(settings.file, baseDir) },
        source ? { preload: source.tokens } : {},
      );
    }
    case "onnx": {
      const { provider: _, postprocess: __, ...settings } = s;
      return createOnnxProvider({ ...settings, modelDir: resolveDataPath(settings.modelDir, baseDir) });
    }
    case "openai": {
      const { provider: _, postprocess: __, ...settings } = s;
      return createOpenAIProvider(settings);
    }
  }
}
