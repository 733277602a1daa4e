import { buildVocabulary, encodeEncounters } from "../../src/concepts/vocabulary.js";
import { readFindingsTable } from "../../src/data/adapters/findings-table.js";
import { binaryLabels } from "../../src/data/task.js";
import { withPaddingRow } from "../../src/embed/matrix.js";
import { createTableProvider } from "../../src/embed/providers/table.js";
import { providerId } from "../../src/embed/types.js";
import { paperCnn } from "../../src/model/architecture.js";
import { predictProba, tunedEmbedding } from "../../src/model/predict.js";
import { trainModel } from "../../src/model/train.js";
import { trainSettings } from "../../src/model/train-settings.js";
import { sharedData } from "../../src/util/paths.js";
import { Rng } from "../../src/util/rng.js";

/*
 * finetune-all's cost: the paper's CNN with its embedding trained too (SGD lr 1e-2, momentum 0.9
 * Nesterov, weight decay 1e-3), influenza vs rest on the target site's training file, frozen-nothing,
 * 3 x 100 iterations, for BERT (D = 768) and OpenAI-small (D = 1,536): the direct engine (D-space)
 * against the subspace engine (the same trajectory in span(token vectors, filters)). Reports both
 * times, the speedup and the largest difference of the two models' probabilities (same seed).
 */
const TRAIN = ["influenza-dtl", "target_train", "findings_final_0814_seed2132231585_size10000.csv"];

export async function run(): Promise<Record<string, number | string>> {
  const catalog = sharedData("influenza-embeddings", "concept_pair.txt");
  const ds = await readFindingsTable({ file: sharedData(...TRAIN), catalog });
  const { vocabulary, typeToToken } = buildVocabulary(ds);
  const y = binaryLabels(ds, "I");
  const perm = new Rng(7).permutation(ds.encounters.count);
  const cut = Math.floor(0.8 * perm.length);
  const part = (idx: Uint32Array) => ({
    seqs: encodeEncounters(ds, typeToToken, idx),
    labels: Int32Array.from(idx, (i) => y[i]),
  });
  const train = part(perm.subarray(0, cut));
  const validation = part(perm.subarray(cut));
  const out: Record<string, number | string> = {};
  for (const name of ["bert", "openai_small"]) {
    const provider = await createTableProvider({
      file: sharedData("influenza-embeddings", `concept_pair_${name}.h5`),
    });
    const embedding = withPaddingRow(await provider.embed(vocabulary.tokens));
    const D = embedding.dim;
    const runWith = (engine: "direct" | "subspace") =>
      trainModel({
        architecture: paperCnn(D, 2),
        embedding,
        embeddingRef: { providerId: providerId(provider.info), dimension: D, trainable: true },
        classes: ["rest", "influenza"],
        train,
        validation,
        settings: trainSettings({
          lr: 1e-2,
          epochs: 3,
          itersPerEpoch: 100,
          freeze: { embedding: false },
          engine,
          seed: 3,
        }),
        vocabulary: vocabulary.tokens.map((t) => ({ key: t.key, text: t.text })),
      });
    const direct = runWith("direct");
    const sub = runWith("subspace");
    // Each model is scored with the embedding rows it tuned.
    const pd = predictProba(direct.snapshot, tunedEmbedding(direct.snapshot)!, validation.seqs);
    const ps = predictProba(sub.snapshot, tunedEmbedding(sub.snapshot)!, validation.seqs);
    let diff = 0;
    for (let i = 0; i < pd.length; i++) diff = Math.max(diff, Math.abs(pd[i] - ps[i]));
    out[`${name}_dim`] = D;
    out[`${name}_direct_seconds`] = round(direct.seconds);
    out[`${name}_subspace_seconds`] = round(sub.seconds);
    out[`${name}_speedup`] = round(direct.seconds / sub.seconds);
    out[`${name}_max_probability_difference`] = diff;
    console.error(
      `${name}: direct ${direct.seconds.toFixed(2)} s, subspace ${sub.seconds.toFixed(2)} s, max |dp| ${diff.toExponential(2)}`,
    );
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
