import { z } from "zod";
import type { TokenSequences, Vocabulary } from "../concepts/vocabulary.js";
import { InputError } from "../util/errors.js";
import { resolveDataPath } from "../util/paths.js";
import { CooccurrenceSettings, fitCooccurrenceProvider } from "./providers/cooccurrence.js";
import { createHashingProvider, HashingSettings } from "./providers/hashing.js";
import { createOneHotProvider } from "./providers/onehot.js";
import { createOnnxProvider, OnnxSettings } from "./providers/onnx.js";
import { createOpenAIProvider, OpenAISettings } from "./providers/openai.js";
import { createTableProvider } from "./providers/table.js";
import type { EmbeddingProvider } from "./types.js";

/**
 * Which embedding to use, as a plain settings object (experiment specs, CLI). Every provider's
 * defaults live in its own settings schema; this only adds the `provider` discriminator.
 */
export const HashingSpec = z.object({ provider: z.literal("hashing"), ...HashingSettings.shape }).strict();
export const OnnxSpec = z.object({ provider: z.literal("onnx"), ...OnnxSettings.shape }).strict();
export const OpenAISpec = z.object({ provider: z.literal("openai"), ...OpenAISettings.shape }).strict();
export const OneHotSpec = z.object({ provider: z.literal("onehot") }).strict();
export const CooccurrenceSpec = z
  .object({
    provider: z.literal("cooccurrence"),
    ...CooccurrenceSettings.shape,
    /** Embeds target texts the fitting site never had (same dimension required); default zero vector. */
    fallback: z.discriminatedUnion("provider", [HashingSpec, OnnxSpec, OpenAISpec]).optional(),
  })
  .strict();
export const TableSpec = z
  .object({
    provider: z.literal("table"),
    /** Path (relative to the spec's folder) or `shared:<path>` inside the shared data folder. */
    file: z.string().min(1),
    format: z.enum(["h5", "npy", "csv", "json", "parquet"]).optional(),
    indexFile: z.string().optional(),
    keyColumn: z.string().optional(),
    vectorColumn: z.string().optional(),
    /** Embeds tokens the file has no vector for (otherwise they are an error). */
    fallback: z.discriminatedUnion("provider", [HashingSpec, OnnxSpec, OpenAISpec]).optional(),
  })
  .strict();

export const EmbeddingSpec = z.discriminatedUnion("provider", [
  OneHotSpec,
  HashingSpec,
  CooccurrenceSpec,
  TableSpec,
  OnnxSpec,
  OpenAISpec,
]);
export type EmbeddingSpec = z.infer<typeof EmbeddingSpec>;
export type EmbeddingSpecInput = z.input<typeof EmbeddingSpec>;

export interface ProviderContext {
  /** The source site's vocabulary: defines the one-hot space, and hashing IDF is fitted on its texts. */
  sourceVocabulary?: Vocabulary;
  /** Unlabeled encounters of the site a cooccurrence embedding is learned at. */
  fitData?: { vocab: Vocabulary; seqs: TokenSequences };
  /** Folder that relative file paths in the spec are relative to (default: the working directory). */
  baseDir?: string;
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
  const baseDir = ctx.baseDir ?? ".";
  switch (s.provider) {
    case "onehot":
      if (!ctx.sourceVocabulary)
        throw new InputError("onehot needs the source vocabulary", { field: "embedding" });
      return createOneHotProvider(ctx.sourceVocabulary);
    case "hashing": {
      const { provider: _, ...settings } = s;
      const texts = (ctx.sourceVocabulary ?? ctx.fitData?.vocab)?.tokens.map((t) => t.text);
      return createHashingProvider(settings, settings.idf ? { idfTexts: texts } : {});
    }
    case "cooccurrence": {
      if (!ctx.fitData) {
        throw new InputError("cooccurrence needs the encounters of the site to learn from", {
          field: "embedding",
        });
      }
      const { provider: _, fallback, ...settings } = s;
      const fb = fallback ? await createProvider(fallback, ctx) : undefined;
      return fitCooccurrenceProvider(
        ctx.fitData.vocab,
        ctx.fitData.seqs,
        settings,
        fb ? { fallback: fb } : {},
      );
    }
    case "table": {
      const fb = s.fallback ? await createProvider(s.fallback, ctx) : undefined;
      return createTableProvider({
        file: resolveDataPath(s.file, baseDir),
        ...(s.format ? { format: s.format } : {}),
        ...(s.indexFile ? { indexFile: resolveDataPath(s.indexFile, baseDir) } : {}),
        ...(s.keyColumn ? { keyColumn: s.keyColumn } : {}),
        ...(s.vectorColumn ? { vectorColumn: s.vectorColumn } : {}),
        ...(fb ? { fallback: fb } : {}),
      });
    }
    case "onnx": {
      const { provider: _, ...settings } = s;
      return createOnnxProvider({ ...settings, modelDir: resolveDataPath(settings.modelDir, baseDir) });
    }
    case "openai": {
      const { provider: _, ...settings } = s;
      return createOpenAIProvider(settings);
    }
  }
}
