import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import type { VocabularyToken } from "../../concepts/vocabulary.js";
import { createHashingProvider, HashingSettings } from "../../embed/providers/hashing.js";
import { createOneHotProvider } from "../../embed/providers/onehot.js";
import { createProvider, type EmbeddingSpecInput, parseEmbeddingSpec } from "../../embed/registry.js";
import { type EmbeddingProvider, type ProviderInfo, providerId } from "../../embed/types.js";
import { checkEmbeddingCompatible, type OpenedBundle } from "../../transfer/bundle/bundle.js";
import { InputError } from "../../util/errors.js";

/** The embedding side of a bundle at the target: which provider reproduces the source's space. */

/**
 * Re-create the embedding the bundle's model was trained with: from `spec` when given (a local
 * language model, an embedding table), otherwise from the bundle's provider id where that is possible
 * without the source's data (hashing: its settings; one-hot: the bundle's own vocabulary). Either way
 * the provider id and dimension must equal the bundle's. A co-occurrence embedding fitted on the
 * source's encounters cannot be rebuilt at the target, and is refused by that check.
 */
export async function providerForBundle(
  b: OpenedBundle,
  file: string,
  spec?: EmbeddingSpecInput,
): Promise<EmbeddingProvider> {
  const pid = b.header.model.embedding.providerId;
  let info: ProviderInfo | undefined;
  try {
    info = JSON.parse(pid) as ProviderInfo;
  } catch {
    info = undefined;
  }
  // The source vocabulary as the bundle carries it (keys and texts): one-hot's space, hashing's IDF texts.
  const sourceVocabulary = {
    site: info?.model ?? "source",
    tokens: b.snapshot.vocabulary.map((v) => keyOnlyToken(v.key, v.text)),
  };
  if (spec !== undefined) {
    const provider = await createProvider(spec, { sourceVocabulary });
    checkEmbeddingCompatible(
      b.header,
      { providerId: providerId(provider.info), dimension: provider.info.dimension },
      file,
    );
    return provider;
  }
  if (!info)
    throw new InputError(`bundle's embedding provider id is not a provider description: ${pid}`, { file });
  let provider: EmbeddingProvider;
  switch (info.provider) {
    case "hashing": {
      provider = createHashingProvider(
        {
          ...(info.dimension !== undefined ? { dimension: info.dimension } : {}),
          ...(info.normalize !== undefined ? { normalize: info.normalize } : {}),
          ...hashingParams(info.params ?? {}),
        },
        { idfTexts: sourceVocabulary.tokens.map((t) => t.text) },
      );
      break;
    }
    case "onehot":
      // One-hot's space is the source vocabulary's keys, which the bundle carries.
      provider = createOneHotProvider(sourceVocabulary);
      break;
    default:
      throw new InputError(
        `the bundle's model uses a "${info.provider}" embedding, which cannot be rebuilt from the bundle alone; pass the same provider with --embedding`,
        { file, field: "model.embedding" },
      );
  }
  checkEmbeddingCompatible(
    b.header,
    { providerId: providerId(provider.info), dimension: info.dimension },
    file,
  );
  return provider;
}

/** The hashing settings recorded in a provider id's params (every key the settings schema knows). */
function hashingParams(
  p: Record<string, string | number | boolean>,
): Record<string, string | number | boolean> {
  const known = new Set(Object.keys(HashingSettings.shape));
  return Object.fromEntries(Object.entries(p).filter(([k]) => known.has(k)));
}

/** A vocabulary token known only by key and text (all one-hot needs). */
function keyOnlyToken(key: string, text: string): VocabularyToken {
  return { key, code: key.split("|")[0], value: { kind: "present" }, conceptText: text, text };
}

export const EMBEDDING_HELP =
  'the embedding the bundle was trained with: JSON (\'{"provider":"table","file":"vectors.h5"}\'), a JSON/YAML file, or a provider name; default: rebuilt from the bundle (hashing, onehot)';

/** `--embedding` as inline JSON, a JSON/YAML file, or a bare provider name ("hashing"). */
export async function readEmbeddingSpecArg(v: string | undefined): Promise<EmbeddingSpecInput | undefined> {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (t.startsWith("{")) {
    try {
      return parseEmbeddingSpec(JSON.parse(t), "--embedding");
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`--embedding is not valid JSON: ${(e as Error).message}`, {
        field: "--embedding",
      });
    }
  }
  if (existsSync(t)) {
    const text = await readFile(t, "utf8");
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch (e) {
      throw new InputError(`not valid JSON/YAML: ${(e as Error).message}`, { file: t });
    }
    return parseEmbeddingSpec(raw, t);
  }
  return parseEmbeddingSpec({ provider: t }, "--embedding");
}
