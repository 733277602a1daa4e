import { paperCnn } from "../../../src/model/architecture.js";
import { initParams, paramsToWeights } from "../../../src/model/params.js";
import type { ModelSnapshot } from "../../../src/model/types.js";
import { Rng } from "../../../src/util/rng.js";

/** A small concept CNN with seeded random weights (what a trained model looks like to a bundle). */
export function smallSnapshot(seed = 1, dim = 6, filters = 4, vocabSize = 5): ModelSnapshot {
  const arch = { ...paperCnn(dim, 2), filters: [filters] };
  const params = initParams(arch, new Rng(seed));
  return {
    format: "conceptbridge.model",
    version: 1,
    architecture: arch,
    weights: paramsToWeights(params),
    embedding: {
      providerId: JSON.stringify({ dimension: dim, provider: "hashing" }),
      dimension: dim,
      trainable: false,
    },
    classes: ["Alive", "Expired"],
    vocabulary: Array.from({ length: vocabSize }, (_, i) => ({ key: `D${i}|present`, text: `drug ${i}` })),
  };
}
