import { performance } from "node:perf_hooks";
import { concatLabeled, type LabeledSequences, remapLabeled } from "../concepts/sequences.js";
import type { EmbeddedSite } from "../embed/embedded-site.js";
import type { BowModel } from "../model/bow-logistic.js";
import { predictProba, tunedEmbedding } from "../model/predict.js";
import { type TrainResult, trainModel } from "../model/train.js";
import type { TrainSettings } from "../model/train-settings.js";
import type { EmbeddingRef, ModelArchitecture, ModelSnapshot } from "../model/types.js";
import { type ArmProbs, L2SP_STRENGTHS, localBow, pickL2sp, stacked } from "./adaptive.js";
import { poolTables } from "./pool-tables.js";
import { trainValidationSplit } from "./training-data.js";

/**
 * The transfer scenarios: the one implementation the experiment grid, the CLI (`train`, `transfer`)
 * and the library all call. Transfer carries model weights only: the target embeds its own tokens
 * with the same provider (the paper's "swap in the target's embedding matrix"), so a source model's
 * conv and dense layers apply to target tokens it never saw.
 */
export const SCENARIOS = {
  local: "trained and tested at the target only",
  "local-bow":
    "tuned logistic regression on the target's bag of tokens (L2 strength by 3-fold CV, 2-fold from 5,000 encounters)",
  pooled: "trained on source + target training data (what sharing data would buy)",
  "source-only": "the source model applied to the target unchanged",
  "finetune-dense": "source model, conv frozen, dense layer tuned at the target",
  "finetune-conv": "source model, conv + dense tuned at the target",
  "finetune-all": "source model, embeddings + conv + dense tuned at the target",
  "finetune-l2sp":
    "source model, conv + dense tuned with L2-SP towards the source weights (strength on validation)",
  stacked: "logistic regression at the target on the source model's logits + the target's bag of tokens",
  auto: "the arm nested cross-validation inside the target's training data picks",
} as const;

export type Scenario = keyof typeof SCENARIOS;
/** Every scenario, in the order tables list them. */
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as [Scenario, ...Scenario[]];
export const SCENARIO_DESCRIPTIONS: Record<Scenario, string> = SCENARIOS;
/** Scenarios that fine-tune a transferred model at the target (`conceptbridge transfer --scenario`). */
export const FINETUNE_SCENARIOS = [
  "finetune-dense",
  "finetune-conv",
  "finetune-all",
  "finetune-l2sp",
] as const;
export type FinetuneScenario = (typeof FINETUNE_SCENARIOS)[number];

/** Arms that start from (or read) the trained source model; auto's transfer candidates do too. */
export function needsSourceModel(s: Scenario): boolean {
  return s === "source-only" || s === "stacked" || s === "auto" || s.startsWith("finetune-");
}

/** How a site's pool is split into training and validation data (stratified, seeded). */
export interface SplitSettings {
  validationFraction: number;
  seed: number;
}

export interface ScenarioInput {
  scenario: Scenario;
  architecture: ModelArchitecture;
  classes: string[];
  /** The target: `pool` is the arm's training data (already subsampled to its size), `test` what it is scored on. */
  target: EmbeddedSite;
  /** Source site (pooled) and the trained source model (source-only, finetune-*). */
  source?: EmbeddedSite;
  sourceModel?: ModelSnapshot;
  /** Settings of models trained from scratch (local, pooled). */
  training: TrainSettings;
  /** Settings of fine-tuning (finetune-*); the scenario sets what is frozen. */
  finetuning: TrainSettings;
  /** The target's (and source's) train / validation split. */
  split: SplitSettings;
  onEpoch?: (epoch: number, epochs: number, validationAuroc: number) => void;
}

export interface ScenarioOutput {
  /** Target test probabilities, N x C row-major. */
  testProbs: Float64Array;
  /** Target validation probabilities (for recalibration fitted at the target). */
  validationProbs: Float64Array;
  /** The target's validation labels, in the order of validationProbs. */
  validationLabels: Int32Array;
  /** The trained model (null for the logistic-regression arms, local-bow and stacked, which are no CNN). */
  model: ModelSnapshot | null;
  bestValidationAuroc: number | null;
  bestEpoch: number | null;
  trainSeconds: number;
  /** The training engine that ran (null: nothing was trained, e.g. source-only). */
  engine: TrainResult["engine"] | null;
  counts: { train: number; validation: number; test: number };
  /** What an adaptive arm chose (penalty strength, L2-SP strength, auto's winner and CV scores). */
  selection?: { winner?: string; scores?: Record<string, number>; chosen?: Record<string, number> };
  /**
   * Out-of-fold probabilities over the whole pool on the given folds, where the arm computes them
   * anyway (the cross-validated logistic arms): `auto` scores the arm with them instead of training
   * it again inside each of its folds.
   */
  crossFit?: { folds: number[][]; probs: Float64Array };
  /**
   * The logistic arms' fitted regression (local-bow: tokens only; stacked: tokens + the source
   * model's logits), refitted on the whole pool: transfer/site-model.ts writes it as a site model.
   */
  bowModel?: BowModel;
  /** How training ended: the kept epoch against the last one, the validation loss at both. */
  convergence?: {
    bestEpoch: number;
    epochsRun: number;
    bestValidationLoss: number;
    lastValidationLoss: number;
  };
}

/**
 * The pooled arm's settings: its minimum of steps before stopping (converged recipe) counts the
 * target's share of each batch, so the target's few encounters are seen as often as a local model
 * on them would see them before validation on the target may end training: min steps x (pooled /
 * target) encounters, at most the step budget. Without it a pooled model on 2,800 source and 160
 * target encounters stopped after 13 one-pass epochs with its target tokens under-trained
 * (calibration slope 2.7 at the target; 1.6 and +0.035 AUROC when it trained 3,000 steps).
 */
export function pooledSettings(s: TrainSettings, sourceTrain: number, targetTrain: number): TrainSettings {
  if (s.earlyStoppingMinSteps === 0 || targetTrain === 0) return s;
  const budget = s.epochs * s.itersPerEpoch;
  const scaled = Math.ceil((s.earlyStoppingMinSteps * (sourceTrain + targetTrain)) / targetTrain);
  return { ...s, earlyStoppingMinSteps: Math.min(budget, Math.max(s.earlyStoppingMinSteps, scaled)) };
}

function refOf(site: EmbeddedSite, trainable = false): EmbeddingRef {
  return {
    providerId: site.providerId,
    dimension: site.embedding.dim,
    trainable,
    ...(site.postprocess ? { postprocess: site.postprocess } : {}),
  };
}

/** Train the source model once per (source, embedding, seed); every transfer arm starts from it. */
export function trainSourceModel(input: {
  architecture: ModelArchitecture;
  classes: string[];
  training: TrainSettings;
  source: EmbeddedSite;
  split: SplitSettings;
  onEpoch?: ScenarioInput["onEpoch"];
}): TrainResult {
  const { source } = input;
  const data = trainValidationSplit(source.pool, input.split.validationFraction, input.split.seed);
  return trainModel({
    architecture: input.architecture,
    embedding: source.embedding,
    embeddingRef: refOf(source),
    classes: input.classes,
    train: data.train,
    validation: data.validation,
    settings: input.training,
    vocabulary: source.vocabulary,
    ...(input.onEpoch ? { onProgress: input.onEpoch } : {}),
  });
}

export function runScenario(input: ScenarioInput): ScenarioOutput {
  const { target } = input;
  const data = trainValidationSplit(target.pool, input.split.validationFraction, input.split.seed);
  const testCount = target.test.labels.length;
  const onProgress = input.onEpoch ? { onProgress: input.onEpoch } : {};
  // A model whose embedding was tuned at the target (finetune-all) carries the target's tuned rows
  // and is scored with them; every other model with the target's own table.
  const predictTarget = (model: ModelSnapshot): { test: Float64Array; validation: Float64Array } => {
    const table = tunedEmbedding(model) ?? target.embedding;
    return {
      test: predictProba(model, table, target.test.seqs),
      validation: predictProba(model, table, data.validation.seqs),
    };
  };
  const output = (r: TrainResult, model: ModelSnapshot, train: number): ScenarioOutput => {
    const p = predictTarget(model);
    return {
      testProbs: p.test,
      validationProbs: p.validation,
      validationLabels: data.validation.labels,
      model,
      bestValidationAuroc: r.bestValidationAuroc,
      bestEpoch: r.bestEpoch,
      trainSeconds: r.seconds,
      engine: r.engine,
      counts: { train, validation: data.validation.labels.length, test: testCount },
      convergence: convergenceOf(r),
    };
  };
  const logistic = (p: ArmProbs): ScenarioOutput => ({
    testProbs: p.testProbs,
    validationProbs: p.validationProbs,
    validationLabels: p.validationLabels,
    model: null,
    bestValidationAuroc: null,
    bestEpoch: null,
    trainSeconds: 0,
    engine: null,
    counts: { train: target.pool.labels.length, validation: p.validationLabels.length, test: testCount },
    selection: { chosen: p.chosen },
    crossFit: p.crossFit,
    bowModel: p.model,
  });

  switch (input.scenario) {
    case "local-bow":
      return timed(() => logistic(localBow(target, input.classes.length, input.split.seed)));
    case "stacked": {
      const model = required(input.sourceModel, "stacked needs the source model");
      return timed(() => logistic(stacked(target, model, input.classes.length, input.split.seed)));
    }
    case "finetune-l2sp": {
      const init = withoutEmbedding(required(input.sourceModel, "finetune-l2sp needs the source model"));
      const runs = L2SP_STRENGTHS.map((strength) =>
        trainModel({
          architecture: input.architecture,
          embedding: target.embedding,
          embeddingRef: refOf(target),
          classes: input.classes,
          train: data.train,
          validation: data.validation,
          init,
          settings: {
            ...input.finetuning,
            freeze: finetuneFreeze("finetune-conv"),
            weightDecay: strength,
            decayTo: "initial",
            keepInitial: true,
          },
          vocabulary: target.vocabulary,
          ...onProgress,
        }),
      );
      const k = pickL2sp(runs, data, input.classes.length);
      const out = output(runs[k], runs[k].snapshot, data.train.labels.length);
      out.trainSeconds = runs.reduce((t, r) => t + r.seconds, 0);
      out.selection = {
        chosen: { strength: L2SP_STRENGTHS[k], bestEpoch: runs[k].bestEpoch },
        scores: Object.fromEntries(
          runs.map((r, i) => [`strength ${L2SP_STRENGTHS[i]}`, r.bestValidationAuroc]),
        ),
      };
      return out;
    }
    case "auto":
      throw new Error("auto runs through runAuto (transfer/auto.ts), which shares its candidates' training");
    case "local": {
      const r = trainModel({
        architecture: { ...input.architecture, embeddingDim: target.embedding.dim },
        embedding: target.embedding,
        embeddingRef: refOf(target),
        classes: input.classes,
        train: data.train,
        validation: data.validation,
        settings: input.training,
        vocabulary: target.vocabulary,
        ...onProgress,
      });
      return output(r, r.snapshot, data.train.labels.length);
    }
    case "pooled": {
      const source = required(input.source, "pooled needs a source site");
      const sourceData = trainValidationSplit(source.pool, input.split.validationFraction, input.split.seed);
      // One table holding both sites' tokens: each site keeps its own vectors for its own tokens
      // (a token with the same key and vector at both sites is one row).
      const { embedding, vocabulary, remap } = poolTables(source, target);
      const r = trainModel({
        // A fresh model sized for the pooled table (one-hot over both sites' tokens is wider).
        architecture: { ...input.architecture, embeddingDim: embedding.dim },
        embedding,
        embeddingRef: refOf(target),
        classes: input.classes,
        train: concatLabeled(sourceData.train, remapLabeled(data.train, remap)),
        // Model selection on the target's validation data: the target is what we deploy to.
        validation: remapLabeled(data.validation, remap),
        settings: pooledSettings(input.training, sourceData.train.labels.length, data.train.labels.length),
        vocabulary,
        ...onProgress,
      });
      // Score with the target's own table (the tokens' vectors are the same rows, re-indexed).
      const model = withVocabulary(r.snapshot, target.vocabulary);
      return output(r, model, sourceData.train.labels.length + data.train.labels.length);
    }
    case "source-only": {
      const model = required(input.sourceModel, "source-only needs the source model");
      const p = predictTarget(model);
      return {
        testProbs: p.test,
        validationProbs: p.validation,
        validationLabels: data.validation.labels,
        model,
        bestValidationAuroc: null,
        bestEpoch: null,
        trainSeconds: 0,
        engine: null,
        counts: { train: 0, validation: data.validation.labels.length, test: testCount },
      };
    }
    case "finetune-dense":
    case "finetune-conv":
    case "finetune-all": {
      const init = required(input.sourceModel, `${input.scenario} needs the source model`);
      const r = trainModel({
        architecture: input.architecture,
        embedding: target.embedding,
        embeddingRef: refOf(target, input.scenario === "finetune-all"),
        classes: input.classes,
        train: data.train,
        validation: data.validation,
        init: withoutEmbedding(init),
        settings: { ...input.finetuning, freeze: finetuneFreeze(input.scenario) },
        vocabulary: target.vocabulary,
        ...onProgress,
      });
      return output(r, r.snapshot, data.train.labels.length);
    }
  }
}

function convergenceOf(r: TrainResult): ScenarioOutput["convergence"] {
  const at = (epoch: number) => r.lossHistory[epoch - 1] ?? Number.NaN;
  return {
    bestEpoch: r.bestEpoch,
    epochsRun: r.epochsRun,
    bestValidationLoss: r.bestEpoch > 0 ? at(r.bestEpoch) : Number.NaN,
    lastValidationLoss: at(r.epochsRun),
  };
}

/** Time an arm that is not trained through trainModel. */
function timed(f: () => ScenarioOutput): ScenarioOutput {
  const t0 = performance.now();
  const out = f();
  out.trainSeconds = (performance.now() - t0) / 1000;
  return out;
}

/** What each fine-tuning scenario keeps fixed: the scenario, not a setting, decides it. */
export function finetuneFreeze(s: FinetuneScenario): TrainSettings["freeze"] {
  return { embedding: s !== "finetune-all", conv: s === "finetune-dense", dense: false };
}

/** The source's (possibly tuned) embedding rows belong to the source vocabulary: never carried over. */
function withoutEmbedding(m: ModelSnapshot): ModelSnapshot {
  if (!("embedding" in m.weights)) return m;
  const { embedding: _dropped, ...weights } = m.weights;
  return { ...m, weights, embedding: { ...m.embedding, trainable: false } };
}

function withVocabulary(
  m: ModelSnapshot,
  vocabulary: readonly { key: string; text: string }[],
): ModelSnapshot {
  return { ...withoutEmbedding(m), vocabulary: vocabulary.map((v) => ({ key: v.key, text: v.text })) };
}

function required<T>(v: T | undefined, msg: string): T {
  if (v === undefined) throw new Error(msg);
  return v;
}

export type { LabeledSequences };
