import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { buildVocabulary, encodeEncounters, type Vocabulary } from "../../src/concepts/vocabulary.js";
import { readFindingsTable } from "../../src/data/adapters/findings-table.js";
import { binaryLabels } from "../../src/data/task.js";
import type { SiteDataset } from "../../src/data/types.js";
import { withPaddingRow } from "../../src/embed/matrix.js";
import { createTableProvider } from "../../src/embed/providers/table.js";
import { providerId } from "../../src/embed/types.js";
import { paperCnn } from "../../src/model/architecture.js";
import { binaryAuroc } from "../../src/model/auroc.js";
import { predictProba } from "../../src/model/predict.js";
import { trainModel } from "../../src/model/train.js";
import { trainSettings } from "../../src/model/train-settings.js";
import { PROJECT_ROOT, sharedData } from "../../src/util/paths.js";
import { Rng } from "../../src/util/rng.js";

/*
 * The paper's CNN on influenza-dtl (same-setting source train file, 80/20 train/validation split,
 * target test file, influenza vs rest, frozen BERT concept embeddings, paper settings) trained by
 * ConceptBridge (3 seeds) and by the PyTorch peer ../shared/bench/torch_reference.py (2 threads).
 * Token sets per encounter are the peer's: every column's token (CUI present/absent, missing dropped;
 * all temperature levels incl. M; age group), and the vocabulary spans train and test tokens as the
 * peer's HDF5-wide vocabulary does (a test-only token still passes through the trained conv layer).
 *
 * CONCEPTBRIDGE_BENCH_TORCH_JSON=<file> reuses a saved line of the peer's output instead of running
 * it (75-700 s on a busy machine); the result then says so in `torch_source`.
 */
const TRAIN = ["influenza-dtl", "source_train", "findings_final_0814_seed1591536269_size10000.csv"];
const TEST = ["influenza-dtl", "target_test", "findings_final_0814_seed-1494714102_size10000.csv"];
const SEEDS = [215, 216, 217];

interface TorchResult {
  engine: string;
  threads: number;
  val_auroc: number;
  test_auroc: number;
  train_seconds: number;
}

/** Vocabulary over train and test tokens (train's first), with each dataset's type -> token map. */
function jointVocabulary(
  a: SiteDataset,
  b: SiteDataset,
): { vocab: Vocabulary; mapA: Uint32Array; mapB: Uint32Array } {
  const va = buildVocabulary(a);
  const vb = buildVocabulary(b);
  const tokens = [...va.vocabulary.tokens];
  const byKey = new Map(tokens.map((t, i) => [t.key, i + 1]));
  for (const t of vb.vocabulary.tokens)
    if (!byKey.has(t.key)) {
      tokens.push(t);
      byKey.set(t.key, tokens.length);
    }
  const mapB = vb.typeToToken.map((id) => (id === 0 ? 0 : byKey.get(vb.vocabulary.tokens[id - 1].key)!));
  return { vocab: { site: a.name, tokens }, mapA: va.typeToToken, mapB };
}

async function runTorch(): Promise<{ result: TorchResult; source: string }> {
  const cached = process.env.CONCEPTBRIDGE_BENCH_TORCH_JSON;
  if (cached) {
    const line = (await readFile(cached, "utf8")).trim().split("\n").pop()!;
    return { result: JSON.parse(line) as TorchResult, source: `cached ${cached}` };
  }
  const script = join(PROJECT_ROOT, "..", "shared", "bench", "torch_reference.py");
  const { stdout } = await promisify(execFile)(
    "/usr/bin/python3",
    [script, "--embedding", "bert", "--threads", "2"],
    {
      maxBuffer: 1 << 20,
    },
  );
  const line = stdout.trim().split("\n").pop()!;
  return { result: JSON.parse(line) as TorchResult, source: "run" };
}

export async function run(): Promise<Record<string, number | string>> {
  const catalog = sharedData("influenza-embeddings", "concept_pair.txt");
  const train = await readFindingsTable({ file: sharedData(...TRAIN), catalog });
  const test = await readFindingsTable({ file: sharedData(...TEST), catalog });
  const { vocab, mapA, mapB } = jointVocabulary(train, test);
  const provider = await createTableProvider({
    file: sharedData("influenza-embeddings", "concept_pair_bert.h5"),
  });
  const embedding = withPaddingRow(await provider.embed(vocab.tokens));
  const testSeqs = encodeEncounters(test, mapB);
  const yAll = binaryLabels(train, "I");
  const yTest = binaryLabels(test, "I");
  const D = embedding.dim;

  const out: Record<string, number | string> = {};
  const times: number[] = [];
  const aurocs: number[] = [];
  for (const seed of SEEDS) {
    // 80/20 split by a seeded permutation, as the peer does with torch.randperm.
    const perm = new Rng(seed).permutation(train.encounters.count);
    const cut = Math.floor(0.8 * perm.length);
    const part = (idx: Uint32Array) => ({
      seqs: encodeEncounters(train, mapA, idx),
      labels: Int32Array.from(idx, (i) => yAll[i]),
    });
    const r = trainModel({
      architecture: paperCnn(D, 2),
      embedding,
      embeddingRef: { providerId: providerId(provider.info), dimension: D, trainable: false },
      classes: ["rest", "influenza"],
      train: part(perm.subarray(0, cut)),
      validation: part(perm.subarray(cut)),
      settings: trainSettings({ seed }),
      vocabulary: vocab.tokens.map((t) => ({ key: t.key, text: t.text })),
    });
    const p = predictProba(r.snapshot, embedding, testSeqs);
    const auc = binaryAuroc(
      yTest,
      Float64Array.from({ length: testSeqs.count }, (_, i) => p[i * 2 + 1]),
    );
    times.push(r.seconds);
    aurocs.push(auc);
    out[`ours_seed${seed}_train_seconds`] = round(r.seconds, 3);
    out[`ours_seed${seed}_test_auroc`] = round(auc, 4);
    out[`ours_seed${seed}_val_auroc`] = round(r.bestValidationAuroc, 4);
    out.ours_engine = r.engine;
    console.error(`ours seed ${seed}: ${r.seconds.toFixed(2)} s, test AUROC ${auc.toFixed(4)} (${r.engine})`);
  }
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  const ours = mean(times);
  const { result: torch, source } = await runTorch();
  console.error(`torch: ${torch.train_seconds} s, test AUROC ${torch.test_auroc}`);
  return {
    torch_train_seconds: torch.train_seconds,
    ours_train_seconds: round(ours, 3),
    speedup: round(torch.train_seconds / ours, 1),
    torch_test_auroc: torch.test_auroc,
    ours_test_auroc: round(mean(aurocs), 4),
    auroc_difference: round(mean(aurocs) - torch.test_auroc, 4),
    torch_val_auroc: torch.val_auroc,
    torch_threads: torch.threads,
    torch_engine: torch.engine,
    torch_source: source,
    ours_tokens_per_encounter: round(testSeqs.offsets[testSeqs.count] / testSeqs.count, 2),
    ours_vocabulary: vocab.tokens.length,
    ...out,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
