import { prepareSite } from "../../src/concepts/encoded-site.js";
import type { LabeledSequences } from "../../src/concepts/sequences.js";
import type { VocabularyToken } from "../../src/concepts/vocabulary.js";
import { resolveSite } from "../../src/data/sources.js";
import type { TaskSpec } from "../../src/data/task.js";
import { type EmbeddedSite, embedSite } from "../../src/embed/embedded-site.js";
import { createHashingProvider } from "../../src/embed/providers/hashing.js";
import type { EmbeddingMatrix } from "../../src/embed/types.js";
import { paperCnn } from "../../src/model/architecture.js";
import type { TrainSettings } from "../../src/model/train-settings.js";
import type { ModelSnapshot } from "../../src/model/types.js";
import { type SplitSettings, trainSourceModel } from "../../src/transfer/scenarios.js";

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

/**
 * Sites A and B of the synthetic world, prepared for `task` and embedded with a 32-dimensional
 * hashing provider, and a paper CNN trained at A with `training` and `split`: what the adaptive
 * arms' tests transfer from and to.
 */
export async function syntheticTransfer(
  task: TaskSpec,
  encountersPerSite: number,
  training: TrainSettings,
  split: SplitSettings,
): Promise<{
  src: ReturnType<typeof prepareSite>;
  tgt: ReturnType<typeof prepareSite>;
  source: EmbeddedSite;
  target: EmbeddedSite;
  sourceModel: ModelSnapshot;
}> {
  const provider = createHashingProvider({ dimension: 32 });
  const world = { encountersPerSite };
  const src = prepareSite(await resolveSite("synthetic:A", { synthetic: world }), task);
  const tgt = prepareSite(await resolveSite("synthetic:B", { synthetic: world }), task);
  const source = await embedSite(src.site, provider);
  const target = await embedSite(tgt.site, provider);
  const sourceModel = trainSourceModel({
    architecture: paperCnn(32, src.classes.length),
    classes: src.classes,
    training,
    source,
    split,
  }).snapshot;
  return { src, tgt, source, target, sourceModel };
}
