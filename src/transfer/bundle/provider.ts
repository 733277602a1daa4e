import type { VocabularyToken } from "../../concepts/vocabulary.js";
import { baseInfoOf, withPostprocess } from "../../embed/postprocessed.js";
import { createHashingProvider, hashingSettingsFromInfo } from "../../embed/providers/hashing.js";
import { createOneHotProvider } from "../../embed/providers/onehot.js";
import { createProvider, type EmbeddingSpecInput } from "../../embed/registry.js";
import { type EmbeddingProvider, type ProviderInfo, providerId } from "../../embed/types.js";
import { InputError } from "../../util/errors.js";
import { checkEmbeddingCompatible, type OpenedBundle } from "./bundle.js";

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
    const provider = await createProvider(spec, {
      sourceVocabulary,
      // A postprocessed embedding applies the transform fitted at the source, never a new fit.
      ...(b.embeddingTransform ? { postprocessTransform: b.embeddingTransform } : {}),
    });
    checkEmbeddingCompatible(
      b.header,
      { providerId: providerId(provider.info), dimension: provider.info.dimension },
      file,
    );
    return provider;
  }
  if (!info)
    throw new InputError(`bundle's embedding provider id is not a provider description: ${pid}`, { file });
  // A postprocessed embedding: rebuild the base provider from its part of the id, then apply the
  // transform fitted at the source, which the bundle carries.
  const transform = info.postprocess !== undefined ? b.embeddingTransform : null;
  if (info.postprocess !== undefined && !transform) {
    throw new InputError(
      `the bundle's embedding is postprocessed (${info.postprocess}) but it carries no transform`,
      {
        file,
        field: "model.embedding",
      },
    );
  }
  const baseInfo = transform ? baseInfoOf(info, transform, { file, field: "model.embedding" }) : info;
  let provider: EmbeddingProvider;
  switch (baseInfo.provider) {
    case "hashing": {
      provider = createHashingProvider(hashingSettingsFromInfo(baseInfo), {
        idfTexts: sourceVocabulary.tokens.map((t) => t.text),
      });
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
  if (transform)
    provider = withPostprocess(provider, transform, { where: { file, field: "model.embedding" } });
  checkEmbeddingCompatible(
    b.header,
    { providerId: providerId(provider.info), dimension: info.dimension },
    file,
  );
  return provider;
}

/** A vocabulary token known only by key and text (all one-hot needs). */
function keyOnlyToken(key: string, text: string): VocabularyToken {
  return { key, code: key.split("|")[0], value: { kind: "present" }, conceptText: text, text };
}
