import { SiteDatasetBuilder } from "../../../src/data/builder.js";
import type { SiteDataset } from "../../../src/data/types.js";
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

/**
 * A tiny labeled site: encounters with recognisable ids ("stay-7731-000" ...) whose label depends on
 * two of eight concepts, so training finds signal and the privacy test has ids to search for.
 */
export function tinySite(seed = 5, n = 80): SiteDataset {
  const rng = new Rng(seed);
  const b = new SiteDatasetBuilder("tiny", { labelClasses: ["Alive", "Expired"] });
  const types: number[] = [];
  for (let c = 0; c < 8; c++) {
    const concept = b.addConcept({
      code: `DRUG${c}`,
      text: `drug number ${c}`,
      metadata: { hicl: String(100 + c) },
    });
    types.push(b.typeId(concept, { kind: "present" }));
  }
  for (let i = 0; i < n; i++) {
    const present = types.filter(() => rng.bernoulli(0.4));
    const risk = (present.includes(types[0]) ? 2 : 0) + (present.includes(types[1]) ? 1 : 0);
    const label = rng.bernoulli(risk >= 2 ? 0.8 : 0.15) ? "Expired" : "Alive";
    b.beginEncounter(`stay-7731-${String(i).padStart(3, "0")}`, { label });
    for (const t of present) b.addObservation(t);
  }
  return b.build({ adapter: "test", files: [] });
}
