import { performance } from "node:perf_hooks";
import type { LabeledSequences } from "../concepts/sequences.js";
import type { EmbeddingMatrix } from "../embed/types.js";
import { InputError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { validateArchitecture } from "./architecture.js";
import { macroAuroc } from "./auroc.js";
import { BatchSampler } from "./batch-sampler.js";
import { chooseEngine, ENGINES } from "./engines/choose.js";
import type { Engine, EngineInput, EngineName } from "./engines/engine.js";
import { optimizerConfig } from "./engines/optimizer.js";
import { initParams, type ModelParams, paramsFromWeights, paramsToWeights } from "./params.js";
import { checkTokenIds } from "./predict.js";
import { epochSteps, TrainSettings } from "./train-settings.js";
import type { EmbeddingRef, ModelArchitecture, ModelSnapshot } from "./types.js";

/** Token sequences with their class labels: the one definition is concepts/sequences.ts. */
export type { LabeledSequences };

export interface TrainInput {
  architecture: ModelArchitecture;
  /** rows = vocabulary size + 1; row 0 is padding (zero). */
  embedding: EmbeddingMatrix;
  embeddingRef: EmbeddingRef;
  classes: string[];
  train: LabeledSequences;
  validation: LabeledSequences;
  /** Start from these weights (fine-tuning a transferred model) instead of a fresh initialisation. */
  init?: ModelSnapshot;
  settings: TrainSettings;
  onProgress?: (epoch: number, epochs: number, valAuroc: number) => void;
  vocabulary: { key: string; text: string }[];
}

export interface TrainResult {
  snapshot: ModelSnapshot;
  /** NaN when the validation set is empty or has one class (then the last epoch is kept). */
  bestValidationAuroc: number;
  /** 1-based epoch whose weights were kept. */
  bestEpoch: number;
  /** Wall-clock seconds of training (steps and per-epoch validation). */
  seconds: number;
  /** Validation AUROC after each epoch run. */
  history: number[];
  /** Validation log loss after each epoch run. */
  lossHistory: number[];
  /** Epochs run (fewer than the budget when early stopping ended training). */
  epochsRun: number;
  /** Which engine trained the model. */
  engine: EngineName;
}

/**
 * Train the concept CNN or the mean-logistic baseline: seeded initialisation (or `init`), batches
 * drawn as the PyTorch peer draws them (a fresh permutation of the training set whenever fewer than
 * a batch remain), validation AUROC (macro one-vs-rest for multi-class) after each epoch, the best
 * epoch's weights kept, optional early stopping.
 */
export function trainModel(input: TrainInput): TrainResult {
  const t0 = performance.now();
  const settings = TrainSettings.parse(input.settings);
  const arch = input.architecture;
  validateArchitecture(arch);
  const { embedding } = input;
  const rows = embedding.rows;
  checkInputs(input, settings);

  const rng = new Rng(settings.seed);
  const initRng = rng.fork("init");
  const batchRng = rng.fork("batches");
  const dropoutRng = rng.fork("dropout");
  const params: ModelParams = input.init ? initFrom(input.init, arch) : initParams(arch, initRng);
  const C = arch.numClasses;
  const engineInput: EngineInput = {
    params,
    embedding: embedding.data,
    rows,
    train: input.train,
    classWeights: classWeightVector(settings, input.train.labels, C),
    trainEmbedding: !settings.freeze.embedding,
    trainConv: arch.kind === "concept-cnn" && !settings.freeze.conv,
    trainDense: !settings.freeze.dense,
    dropoutRng,
  };
  const engine = createEngine(engineInput, scaledSettings(settings, embedding), arch, rows);

  const sampler = new BatchSampler(input.train.seqs.count, settings.batchSize, batchRng);
  const stepsPerEpoch = epochSteps(settings, input.train.seqs.count);
  // Shorter epochs, the same budget of steps (epochs x itersPerEpoch): only the validation is more frequent.
  const epochs = Math.ceil((settings.epochs * settings.itersPerEpoch) / stepsPerEpoch);
  const history: number[] = [];
  const lossHistory: number[] = [];
  // The selection score: higher is better (validation AUROC, or minus the validation log loss).
  const scoreOf = (v: ValidationScores) => (settings.selection === "loss" ? -v.loss : v.auroc);
  let best = Number.NEGATIVE_INFINITY;
  let bestAuroc = Number.NaN;
  let bestEpoch = 0;
  let bestCp: unknown = null;
  let sinceBest = 0;
  if (input.init && settings.keepInitial) {
    // Epoch 0: the model as it arrived is a candidate like any epoch.
    const v = validationScores(engine, input.validation, C);
    if (!Number.isNaN(scoreOf(v))) {
      best = scoreOf(v);
      bestAuroc = v.auroc;
      bestCp = engine.capture();
    }
  }
  const anyTrainable = engineInput.trainEmbedding || engineInput.trainConv || engineInput.trainDense;
  let epochsRun = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    if (anyTrainable)
      for (let it = 0; it < stepsPerEpoch; it++) {
        const { order, start } = sampler.next();
        engine.step(order, start, sampler.batchSize);
      }
    epochsRun = epoch;
    const v = validationScores(engine, input.validation, C);
    const val = scoreOf(v);
    history.push(v.auroc);
    lossHistory.push(v.loss);
    input.onProgress?.(epoch, epochs, v.auroc);
    // Epochs before the minimum may be skipped as candidates (selectAfterMinSteps); the last epoch of
    // a shorter run always is one, so something is kept.
    const eligible =
      !settings.selectAfterMinSteps ||
      epoch * stepsPerEpoch >= settings.earlyStoppingMinSteps ||
      epoch === epochs;
    if (!eligible) {
      // Not a candidate; counts nothing towards patience (stopping waits for the minimum anyway).
    } else if (val > best || (Number.isNaN(val) && epoch === epochs && bestCp === null)) {
      best = val;
      bestAuroc = v.auroc;
      bestEpoch = epoch;
      bestCp = engine.capture();
      sinceBest = 0;
    } else if (!Number.isNaN(val)) {
      sinceBest++;
      if (
        settings.earlyStoppingPatience !== null &&
        sinceBest >= settings.earlyStoppingPatience &&
        epoch * stepsPerEpoch >= settings.earlyStoppingMinSteps
      )
        break;
    }
  }
  if (bestCp === null) {
    // Validation never gave a number (empty or one class): keep the last weights.
    bestCp = engine.capture();
    bestEpoch = history.length;
    bestAuroc = Number.NaN;
  }
  const exported = (engine as Engine<unknown>).export(bestCp);
  const weights = paramsToWeights(exported.params);
  if (exported.embedding)
    weights.embedding = { shape: [rows, arch.embeddingDim], data: Float32Array.from(exported.embedding) };
  const snapshot: ModelSnapshot = {
    format: "conceptbridge.model",
    version: 1,
    architecture: arch,
    weights,
    embedding: { ...input.embeddingRef, dimension: arch.embeddingDim, trainable: !settings.freeze.embedding },
    classes: [...input.classes],
    vocabulary: input.vocabulary.map((v) => ({ key: v.key, text: v.text })),
  };
  return {
    snapshot,
    bestValidationAuroc: bestAuroc,
    bestEpoch,
    seconds: (performance.now() - t0) / 1000,
    history,
    lossHistory,
    epochsRun,
    engine: engine.name,
  };
}

/** The settings the engine runs with: the learning rate divided by the tokens' RMS norm (when above 1) if asked. */
function scaledSettings(settings: TrainSettings, embedding: EmbeddingMatrix): TrainSettings {
  if (settings.lrScale === "none") return settings;
  const { rows, dim, data } = embedding;
  let sq = 0;
  for (let i = dim; i < rows * dim; i++) sq += data[i] * data[i];
  const rms = Math.sqrt(sq / Math.max(1, rows - 1));
  // Only large vectors slow the rate down: a table of small vectors (co-occurrence SVD rows) would
  // otherwise get a rate several times the recipe's and overshoot in the first epochs.
  return rms > 1 ? { ...settings, lr: settings.lr / rms } : settings;
}

interface ValidationScores {
  auroc: number;
  /** Mean negative log-likelihood of the true class. */
  loss: number;
}

function validationScores(engine: Engine<unknown>, v: LabeledSequences, C: number): ValidationScores {
  if (v.seqs.count === 0) return { auroc: Number.NaN, loss: Number.NaN };
  const probs = engine.probs(v.seqs);
  let nll = 0;
  for (let i = 0; i < v.labels.length; i++) nll -= Math.log(Math.max(probs[i * C + v.labels[i]], 1e-15));
  return { auroc: macroAuroc(v.labels, probs, C), loss: nll / v.labels.length };
}

function initFrom(init: ModelSnapshot, arch: ModelArchitecture): ModelParams {
  if (JSON.stringify(init.architecture) !== JSON.stringify(arch))
    throw new InputError("the initial model's architecture differs from the one to train", { field: "init" });
  return paramsFromWeights(arch, init.weights);
}

export function classWeightVector(
  settings: TrainSettings,
  labels: Int32Array,
  C: number,
): Float64Array | null {
  const cw = settings.classWeights;
  if (cw === "none") return null;
  if (cw === "balanced") {
    const counts = new Float64Array(C);
    for (const y of labels) counts[y]++;
    // sklearn's "balanced": n / (C * n_c); a class absent from training gets weight 0 (never used).
    return counts.map((n) => (n > 0 ? labels.length / (C * n) : 0));
  }
  if (cw.length !== C)
    throw new InputError(`has ${cw.length} weights for ${C} classes`, { field: "settings.classWeights" });
  return Float64Array.from(cw);
}

function createEngine(
  ei: EngineInput,
  settings: TrainSettings,
  arch: ModelArchitecture,
  rows: number,
): Engine<unknown> {
  const seqs = ei.train.seqs;
  const meanTokens = seqs.count > 0 ? seqs.offsets[seqs.count] / seqs.count : 0;
  let nnz = 0;
  for (const x of ei.embedding) if (x !== 0) nnz++;
  const density = nnz / Math.max(1, ei.embedding.length);
  const kind = chooseEngine(settings, arch, { rows, meanTokens, density });
  return ENGINES[kind].create(ei, optimizerConfig(settings));
}

function checkInputs(input: TrainInput, settings: TrainSettings): void {
  const { architecture: arch, embedding } = input;
  if (embedding.dim !== arch.embeddingDim)
    throw new InputError(`has dimension ${embedding.dim}, the architecture ${arch.embeddingDim}`, {
      field: "embedding",
    });
  if (embedding.data.length !== embedding.rows * embedding.dim)
    throw new InputError("data length is not rows x dim", { field: "embedding" });
  if (input.classes.length !== arch.numClasses)
    throw new InputError(`${input.classes.length} classes for a model with ${arch.numClasses} outputs`, {
      field: "classes",
    });
  if (input.vocabulary.length !== embedding.rows - 1)
    throw new InputError(
      `vocabulary has ${input.vocabulary.length} tokens, the embedding ${embedding.rows} rows (expected tokens + 1)`,
      { field: "vocabulary" },
    );
  if (input.train.seqs.count === 0) throw new InputError("no training encounters", { field: "train" });
  for (const [name, part] of [
    ["train", input.train],
    ["validation", input.validation],
  ] as const) {
    checkTokenIds(part.seqs, embedding.rows, `${name}.seqs`);
    if (part.labels.length !== part.seqs.count)
      throw new InputError(`${part.labels.length} labels for ${part.seqs.count} encounters`, {
        field: `${name}.labels`,
      });
    for (let i = 0; i < part.labels.length; i++) {
      const y = part.labels[i];
      if (!(y >= 0 && y < arch.numClasses))
        throw new InputError(`label ${y} of encounter ${i} is not a class index`, {
          field: `${name}.labels`,
        });
    }
  }
  if (Array.isArray(settings.classWeights) && settings.classWeights.length !== arch.numClasses)
    throw new InputError(`has ${settings.classWeights.length} weights for ${arch.numClasses} classes`, {
      field: "settings.classWeights",
    });
}
