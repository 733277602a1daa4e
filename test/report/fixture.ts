import { writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { applyRecalibration, fitRecalibration } from "../../src/eval/recalibrate.js";
import { summarizePredictions } from "../../src/eval/summarize.js";
import type { CellResult } from "../../src/experiment/results.js";
import { Rng } from "../../src/util/rng.js";

/**
 * A synthetic results store with real metrics, shaped like the experiment runner's: two sites
 * (A, B), both transfer directions, scenarios local (CNN and the logistic baseline), finetune-all
 * (with and without logistic recalibration) and source-only (size "all" only, as the grid runs
 * it), three embeddings, three seeds, target sizes 50, 200 and all. Predictions are drawn from a
 * seeded Rng with a signal that grows with the embedding's quality and the target size, so the
 * tables and charts have structure.
 */

export const DISTINCTIVE_SCORE = 0.123456789;
export const ENCOUNTER_IDS = ["ENC-77341", "ENC-00912", "visit-5521-b"];
export const SECRET = "sk-test-DO-NOT-LEAK-1234";
const CODE_VERSION = "0.1.0+abcdef123456";

export interface SyntheticStore {
  dir: string;
  cells: CellResult[];
  /** Every stored score, for the privacy scan. */
  scores: number[];
}

const SIZES = [50, 200, "all"] as const;
const SEEDS = [1, 2, 3];
const EMBEDDINGS = ["onehot", "hashing", "bert"] as const;
const TEST_N = 240;

export interface SyntheticStoreOptions {
  /** Embedding names (default onehot, hashing, bert); names beyond those get a middling quality. */
  embeddings?: readonly string[];
  /** Add `auto` cells with a selection record, as the lead's auto scenario writes them. */
  auto?: boolean;
}

export async function writeSyntheticStore(
  dir: string,
  opts: SyntheticStoreOptions = {},
): Promise<SyntheticStore> {
  const embeddingNames = opts.embeddings ?? EMBEDDINGS;
  await mkdir(dir, { recursive: true });
  const cells: CellResult[] = [];
  const scores: number[] = [];
  type Key = Omit<CellResult["key"], "id" | "task" | "recalibration" | "model"> & Partial<CellResult["key"]>;
  const add = (key: Key, signal: number, offset: number, recal: boolean) => {
    const labels = testLabels(key.target, key.seed);
    const rng = new Rng(JSON.stringify(key));
    const logits = labels.map((y) => -1.1 + (y === 1 ? signal : -signal) * 0.9 + rng.normal());
    const raw = logits.map((z) => sigmoid(z + offset));
    // Logistic recalibration fitted on the test labels themselves: a fixture shortcut (a real run
    // fits on target training data), giving the calibration plot a visible before/after.
    const final = recal
      ? Array.from(applyRecalibration(fitRecalibration(labels, raw, "logistic"), raw))
      : raw;
    if (cells.length === 0) final[0] = DISTINCTIVE_SCORE;
    scores.push(...final);
    const classes = ["other", "influenza"];
    const size = key.targetSize === "all" ? 800 : key.targetSize;
    cells.push({
      key: {
        model: "cnn",
        recalibration: recal ? "logistic" : "none",
        task: "influenza-vs-rest",
        ...key,
        id: `cell-${cells.length}`,
      },
      status: "ok",
      metrics: summarizePredictions(labels, final, classes),
      ...(recal ? { metricsBeforeRecalibration: summarizePredictions(labels, raw, classes) } : {}),
      predictions: { classes, labels, scores: final },
      counts: {
        train: key.scenario === "source-only" ? 0 : size,
        validation: Math.round(size / 4),
        test: TEST_N,
      },
      trainSeconds: 1.5,
      finishedAt: "2026-11-25T09:00:00.000Z",
      codeVersion: CODE_VERSION,
    });
  };
  const qualities: Record<string, number> = { onehot: 0.35, hashing: 0.55, bert: 0.95 };
  const quality = (e: string) => qualities[e] ?? 0.45 + 0.07 * (e.length % 5);
  const localSignal = (size: (typeof SIZES)[number]) =>
    0.25 + 0.45 * Math.log10((size === "all" ? 800 : size) / 25);
  for (const target of ["A", "B"]) {
    for (const targetSize of SIZES) {
      for (const seed of SEEDS) {
        for (const embedding of embeddingNames) {
          add({ scenario: "local", embedding, target, targetSize, seed }, localSignal(targetSize), 0, false);
          if (embedding !== "hashing") {
            const signal = localSignal(targetSize) * 0.9;
            add(
              { scenario: "local", model: "logistic", embedding, target, targetSize, seed },
              signal,
              0,
              false,
            );
          }
        }
      }
    }
  }
  for (const [source, target] of [
    ["A", "B"],
    ["B", "A"],
  ]) {
    for (const targetSize of SIZES) {
      for (const seed of SEEDS) {
        for (const embedding of embeddingNames) {
          const signal = localSignal(targetSize) * 0.5 + quality(embedding);
          add({ scenario: "finetune-all", embedding, source, target, targetSize, seed }, signal, 0.9, false);
          add({ scenario: "finetune-all", embedding, source, target, targetSize, seed }, signal, 0.9, true);
          if (targetSize === "all") {
            add(
              { scenario: "source-only", embedding, source, target, targetSize, seed },
              quality(embedding),
              1.2,
              false,
            );
          }
          if (opts.auto && embedding === "bert") {
            // What nested CV would pick: fine-tuning at small sizes, the local model once data suffice.
            const winner = targetSize === "all" ? "local-logistic" : "finetune-all";
            const aSignal = targetSize === "all" ? localSignal(targetSize) : signal;
            add({ scenario: "auto", embedding, source, target, targetSize, seed }, aSignal, 0, false);
            (cells[cells.length - 1] as CellResult & { selection?: unknown }).selection = {
              winner,
              scores: { "local-logistic": 0.7 + 0.01 * seed, "finetune-all": 0.75, "source-only": 0.65 },
            };
          }
        }
      }
    }
  }
  cells.push({
    key: {
      id: "cell-failed",
      scenario: "finetune-all",
      model: "cnn",
      embedding: "bert",
      source: "A",
      target: "B",
      targetSize: 50,
      seed: 4,
      task: "influenza-vs-rest",
      recalibration: "none",
    },
    status: "error",
    error: `encounter ${ENCOUNTER_IDS[0]} has no tokens`,
    finishedAt: "2026-11-25T09:00:00.000Z",
    codeVersion: CODE_VERSION,
  });
  writeFileSync(join(dir, "results.jsonl"), `${cells.map((c) => JSON.stringify(c)).join("\n")}\n`);
  const spec = {
    name: "synthetic",
    seeds: SEEDS,
    embeddings: {
      onehot: { provider: "onehot" },
      openai: { provider: "openai", apiKey: SECRET, apiKeyEnv: "OPENAI_API_KEY" },
    },
  };
  // The runner's provenance.json (src/experiment/runner.ts writeProvenance), plus a field the report
  // does not know, which must never be shown.
  writeFileSync(
    join(dir, "provenance.json"),
    JSON.stringify({
      spec,
      specFile: "/home/analyst/experiments/synthetic.yaml",
      codeVersion: CODE_VERSION,
      node: "v20.19.0",
      seeds: SEEDS,
      classes: ["other", "influenza"],
      embeddingProviders: {
        onehot: "onehot:v1:vocab=412",
        hashing: "hashing:v1:dim=256:seed=0",
        bert: "onnx:bert-tiny@local:mean-pool",
      },
      sites: [
        {
          site: "A",
          poolEncounters: 800,
          testEncounters: 240,
          vocabularySize: 96,
          classCounts: { other: 780, influenza: 260 },
        },
        // B: one small class, so the other must be suppressed as well (recoverable from the total).
        {
          site: "B",
          poolEncounters: 290,
          testEncounters: 240,
          vocabularySize: 101,
          classCounts: { other: 522, influenza: 8 },
        },
        {
          site: "C",
          poolEncounters: 6,
          testEncounters: 3,
          vocabularySize: 70,
          classCounts: { other: 6, influenza: 3 },
        },
      ],
      writtenAt: "2026-11-25T08:00:00.000Z",
      encounterIds: ENCOUNTER_IDS,
    }),
  );
  return { dir, cells, scores };
}

/** Test-set labels for a target and seed: identical for every arm, as in a real grid. */
export function testLabels(target: string, seed: number): number[] {
  const rng = new Rng(`test|${target}|${seed}`);
  return Array.from({ length: TEST_N }, () => (rng.next() < 0.25 ? 1 : 0));
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}
