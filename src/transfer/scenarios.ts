import { predictProba, tunedEmbedding } from "../model/predict.js";
import { type TrainResult, trainModel } from "../model/train.js";
import type { TrainSettings } from "../model/train-settings.js";
import type { EmbeddingRef, ModelArchitecture, ModelSnapshot } from "../model/types.js";
import {
  concatLabeled,
  type LabeledSequences,
  type PreparedSite,
  poolTables,
  remapSequences,
} from "./prepared.js";

/**
 * The transfer scenarios. Transfer carries model weights only: the target embeds its own tokens with
 * the same provider (the paper's "swap in the target's embedding matrix"), so a source model's conv
 * and dense layers apply to target tokens it never saw.
 */
export type Scenario =
  | "local"
  | "pooled"
  | "source-only"
  | "finetune-dense"
  | "finetune-conv"
  | "finetune-all";

export const SCENARIO_DESCRIPTIONS: Record<Scenario, string> = {
  local: "trained and tested at the target only",
  pooled: "trained on source + target training data (what sharing data would buy)",
  "source-only": "the source model applied to the target unchanged",
  "finetune-dense": "source model, conv frozen, dense layer tuned at the target",
  "finetune-conv": "source model, conv + dense tuned at the target",
  "finetune-all": "source model, embeddings + conv + dense tuned at the target",
};

export function needsSourceModel(s: Scenario): boolean {
  return s === "source-only" || s.startsWith("finetune-");
}

export interface ScenarioInput {
  scenario: Scenario;
  architecture: ModelArchitecture;
  embeddingRef: EmbeddingRef;
  classes: string[];
  /** Target training data (already subsampled to the arm's size) and its test set. */
  target: PreparedSite;
  targetTest: LabeledSequences;
  /** Source site (pooled) and the trained source model (source-only, finetune-*). */
  source?: PreparedSite;
  sourceModel?: ModelSnapshot;
  training: TrainSettings;
  finetuning: TrainSettings;
}

export interface ScenarioOutput {
  /** Target test probabilities, N x C row-major. */
  testProbs: Float64Array;
  /** Target validation probabilities (for recalibration fitted at the target). */
  validationProbs: Float64Array;
  model: ModelSnapshot;
  bestValidationAuroc: number | null;
  trainSeconds: number;
  counts: { train: number; validation: number; test: number };
}

/** Train the source model once per (source, embedding, seed); every transfer arm starts from it. */
export function trainSourceModel(
  input: Pick<ScenarioInput, "architecture" | "embeddingRef" | "classes" | "training"> & {
    source: PreparedSite;
  },
): TrainResult {
  const { source } = input;
  return trainModel({
    architecture: input.architecture,
    embedding: source.embedding,
    embeddingRef: input.embeddingRef,
    classes: input.classes,
    train: source.train,
    validation: source.validation,
    settings: input.training,
    vocabulary: source.vocabulary,
  });
}

export function runScenario(input: ScenarioInput): ScenarioOutput {
  const { target } = input;
  const testCount = input.targetTest.labels.length;
  // A model whose embedding was tuned at the target (finetune-all) carries the target's tuned rows
  // and is scored with them; every other model with the target's own table.
  const predictTarget = (model: ModelSnapshot): { test: Float64Array; validation: Float64Array } => {
    const table = tunedEmbedding(model) ?? target.embedding;
    return {
      test: predictProba(model, table, input.targetTest.seqs),
      validation: predictProba(model, table, target.validation.seqs),
    };
  };

  switch (input.scenario) {
    case "local": {
      const r = trainModel({
        architecture: { ...input.architecture, embeddingDim: target.embedding.dim },
        embedding: target.embedding,
        embeddingRef: input.embeddingRef,
        classes: input.classes,
        train: target.train,
        validation: target.validation,
        settings: input.training,
        vocabulary: target.vocabulary,
      });
      const p = predictTarget(r.snapshot);
      return output(r, p, target.train.labels.length, target.validation.labels.length, testCount);
    }
    case "pooled": {
      const source = required(input.source, "pooled needs a source site");
      // One table holding both sites' tokens: each site keeps its own vectors for its own tokens
      // (a token with the same key and vector at both sites is one row).
      const { embedding, vocabulary, remap } = poolTables(source, target);
      const targetPart = (p: LabeledSequences): LabeledSequences => ({
        seqs: remapSequences(p.seqs, remap),
        labels: p.labels,
      });
      const r = trainModel({
        // A fresh model sized for the pooled table (one-hot over both sites' tokens is wider).
        architecture: { ...input.architecture, embeddingDim: embedding.dim },
        embedding,
        embeddingRef: input.embeddingRef,
        classes: input.classes,
        train: concatLabeled(source.train, targetPart(target.train)),
        // Model selection on the target's validation data: the target is what we deploy to.
        validation: targetPart(target.validation),
        settings: input.training,
        vocabulary,
      });
      // Score with the target's own table (the tokens' vectors are the same rows, re-indexed).
      const model = withVocabulary(r.snapshot, target.vocabulary);
      const p = predictTarget(model);
      return output(
        { ...r, snapshot: model },
        p,
        source.train.labels.length + target.train.labels.length,
        target.validation.labels.length,
        testCount,
      );
    }
    case "source-only": {
      const model = required(input.sourceModel, "source-only needs the source model");
      const p = predictTarget(model);
      return {
        testProbs: p.test,
        validationProbs: p.validation,
        model,
        bestValidationAuroc: null,
        trainSeconds: 0,
        counts: { train: 0, validation: target.validation.labels.length, test: testCount },
      };
    }
    case "finetune-dense":
    case "finetune-conv":
    case "finetune-all": {
      const init = required(input.sourceModel, `${input.scenario} needs the source model`);
      const freeze = {
        embedding: input.scenario !== "finetune-all",
        conv: input.scenario === "finetune-dense",
        dense: false,
      };
      const r = trainModel({
        architecture: input.architecture,
        embedding: target.embedding,
        embeddingRef: { ...input.embeddingRef, trainable: !freeze.embedding },
        classes: input.classes,
        train: target.train,
        validation: target.validation,
        init: withoutEmbedding(init),
        settings: { ...input.finetuning, freeze },
        vocabulary: target.vocabulary,
      });
      const p = predictTarget(r.snapshot);
      return output(r, p, target.train.labels.length, target.validation.labels.length, testCount);
    }
  }
}

function output(
  r: TrainResult,
  p: { test: Float64Array; validation: Float64Array },
  train: number,
  validation: number,
  test: number,
): ScenarioOutput {
  return {
    testProbs: p.test,
    validationProbs: p.validation,
    model: r.snapshot,
    bestValidationAuroc: r.bestValidationAuroc,
    trainSeconds: r.seconds,
    counts: { train, validation, test },
  };
}

/** The source's (possibly tuned) embedding rows belong to the source vocabulary: never carried over. */
function withoutEmbedding(m: ModelSnapshot): ModelSnapshot {
  if (!("embedding" in m.weights)) return m;
  const { embedding: _dropped, ...weights } = m.weights;
  return { ...m, weights, embedding: { ...m.embedding, trainable: false } };
}

function withVocabulary(m: ModelSnapshot, vocabulary: { key: string; text: string }[]): ModelSnapshot {
  return { ...withoutEmbedding(m), vocabulary };
}

function required<T>(v: T | undefined, msg: string): T {
  if (v === undefined) throw new Error(msg);
  return v;
}
