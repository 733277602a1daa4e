import { buildVocabulary, encodeEncounters } from "../../src/concepts/vocabulary.js";
import { readFindingsTable } from "../../src/data/adapters/findings-table.js";
import { binaryLabels, multiclassLabels } from "../../src/data/task.js";
import { withPaddingRow } from "../../src/embed/matrix.js";
import { createTableProvider } from "../../src/embed/providers/table.js";
import type { EmbeddingMatrix } from "../../src/embed/types.js";
import { BASELINE_SETTINGS, meanLogistic, trainModel } from "../../src/model/index.js";
import { sharedData } from "../../src/util/paths.js";
import { Rng } from "../../src/util/rng.js";

/*
 * The logistic baseline on a 3,072-dimensional embedding (the width of OpenAI's large model) on
 * influenza-dtl: a cell's training as the experiment runs it (source train file, 80/20
 * train/validation split, BASELINE_SETTINGS: Adam, 50 x 100 steps, a validation pass per epoch),
 * binary (influenza vs rest) and 4-class. No 3,072-wide table ships with the data, so each token's
 * vector is its three shipped ones side by side: OpenAI small (1,536) + BERT (768) + BioBERT (768).
 * Target: under 3 s per cell (it was 31-43 s).
 */
const TRAIN = ["influenza-dtl", "source_train", "findings_final_0814_seed1591536269_size10000.csv"];

export async function run(): Promise<Record<string, number | string>> {
  const catalog = sharedData("influenza-embeddings", "concept_pair.txt");
  const ds = await readFindingsTable({ file: sharedData(...TRAIN), catalog });
  const { vocabulary, typeToToken } = buildVocabulary(ds);
  const parts: EmbeddingMatrix[] = [];
  for (const name of ["openai_small", "bert", "biobert"]) {
    const provider = await createTableProvider({
      file: sharedData("influenza-embeddings", `concept_pair_${name}.h5`),
    });
    parts.push(withPaddingRow(await provider.embed(vocabulary.tokens)));
  }
  const rows = parts[0].rows;
  const D = parts.reduce((s, p) => s + p.dim, 0);
  const data = new Float32Array(rows * D);
  for (let v = 0; v < rows; v++) {
    let o = v * D;
    for (const p of parts) {
      data.set(p.data.subarray(v * p.dim, (v + 1) * p.dim), o);
      o += p.dim;
    }
  }
  const embedding: EmbeddingMatrix = { rows, dim: D, data };
  const perm = new Rng(7).permutation(ds.encounters.count);
  const cut = Math.floor(0.8 * perm.length);
  const out: Record<string, number | string> = { dim: D, vocabulary: rows - 1 };
  const multi = multiclassLabels(ds);
  for (const [task, labels, classes] of [
    ["binary", binaryLabels(ds, "I"), ["rest", "influenza"]],
    ["multiclass", multi.labels, multi.classes],
  ] as const) {
    const part = (idx: Uint32Array) => ({
      seqs: encodeEncounters(ds, typeToToken, idx),
      labels: Int32Array.from(idx, (i) => labels[i]),
    });
    const r = trainModel({
      architecture: meanLogistic(D, classes.length),
      embedding,
      embeddingRef: { providerId: "concat:openai_small+bert+biobert", dimension: D, trainable: false },
      classes: [...classes],
      train: part(perm.subarray(0, cut)),
      validation: part(perm.subarray(cut)),
      settings: { ...BASELINE_SETTINGS, seed: 3 },
      vocabulary: vocabulary.tokens.map((t) => ({ key: t.key, text: t.text })),
    });
    console.error(`${task}: ${r.seconds.toFixed(2)} s, validation AUROC ${r.bestValidationAuroc.toFixed(4)}`);
    out[`${task}_seconds`] = Math.round(r.seconds * 1000) / 1000;
    out[`${task}_validation_auroc`] = Math.round(r.bestValidationAuroc * 10000) / 10000;
    out[`${task}_engine`] = r.engine;
  }
  return out;
}
