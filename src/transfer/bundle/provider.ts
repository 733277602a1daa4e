import type { VocabularyToken } from "../../concepts/vocabulary.js";
import { FittedPostprocess } from "../../embed/postprocess.js";
import { baseInfoOf, withPostprocess } from "../../embed/postprocessed.js";
import { createHashingProvider, hashingSettingsFromInfo } from "../../embed/providers/hashing.js";
import { createOneHotProvider } from "../../embed/providers/onehot.js";
import { createProvider, type EmbeddingSpecInput } from "../../embed/registry.js";
import { type EmbeddingProvider, type ProviderInfo, providerId } from "../../embed/types.js";
import type { ModelSnapshot } from "../../model/types.js";
import { InputError } from "../../util/errors.js";
import { checkEmbeddingMatches, type OpenedBundle } from "./bundle.js";

/** The embedding side of a model at the target: which provider reproduces the source's space. */

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
  // decodeBundle puts the bundle's transform into the snapshot, so the model alone carries everything.
  const snapshot: ModelSnapshot = {
    ...b.snapshot,
    embedding: { ...b.snapshot.embedding, providerId: b.header.model.embedding.providerId },
  };
  return providerForModel(snapshot, file, spec, "model.embedding");
}

/**
 * The same for a model as a model file holds it (or the source model inside a site model): its
 * provider id, dimension, vocabulary and fitted transform are all there. `field` prefixes the
 * fields errors name ("embedding" in a model file).
 */
export async function providerForModel(
  model: ModelSnapshot,
  file: string,
  spec?: EmbeddingSpecInput,
  field = "embedding",
): Promise<EmbeddingProvider> {
  const pid = model.embedding.providerId;
  let info: ProviderInfo | undefined;
  try {
    info = JSON.parse(pid) as ProviderInfo;
  } catch {
    info = undefined;
  }
  const where = { file, field };
  const fitted = model.embedding.postprocess
    ? FittedPostprocess.fromJSON(model.embedding.postprocess, { file, field: `${field}.postprocess` })
    : null;
  // The source vocabulary as the model carries it (keys and texts): one-hot's space, hashing's IDF texts.
  const sourceVocabulary = {
    site: info?.model ?? "source",
    tokens: model.vocabulary.map((v) => keyOnlyToken(v.key, v.text)),
  };
  if (spec !== undefined) {
    const provider = await createProvider(spec, {
      sourceVocabulary,
      // A postprocessed embedding applies the transform fitted at the source, never a new fit.
      ...(fitted ? { postprocessTransform: fitted } : {}),
    });
    checkEmbeddingMatches(
      model.embedding,
      { providerId: providerId(provider.info), dimension: provider.info.dimension },
      where,
    );
    return provider;
  }
  if (!info)
    throw new InputError(`the model's embedding provider id is not a provider description: ${pid}`, where);
  // A postprocessed embedding: rebuild the base provider from its part of the id, then apply the
  // transform fitted at the source, which the model carries.
  const transform = info.postprocess !== undefined ? fitted : null;
  if (info.postprocess !== undefined && !transform) {
    throw new InputError(
      `the model's embedding is postprocessed (${info.postprocess}) but it carries no transform`,
      where,
    );
  }
  const baseInfo = transform ? baseInfoOf(info, transform, where) : info;
  let provider: EmbeddingProvider;
  switch (baseInfo.provider) {
    case "hashing": {
      provider = createHashingProvider(hashingSettingsFromInfo(baseInfo), {
        idfTexts: sourceVocabulary.tokens.map((t) => t.text),
      });
      break;
    }
    case "onehot":
      // One-hot's space is the source vocabulary's keys, which the model carries.
      provider = createOneHotProvider(sourceVocabulary);
      break;
    default:
      throw new InputError(
        `the model uses a "${info.provider}" embedding, which cannot be rebuilt from the model alone; pass the same provider with --embedding`,
        where,
      );
  }
  if (transform) provider = withPostprocess(provider, transform, { where });
  checkEmbeddingMatches(
    model.embedding,
    { providerId: providerId(provider.info), dimension: info.dimension },
    where,
  );
  return provider;
}

/** A vocabulary token known only by key and text (all one-hot needs). */
function keyOnlyToken(key: string, text: string): VocabularyToken {
  return { key, code: key.split("|")[0], value: { kind: "present" }, conceptText: text, text };
}
