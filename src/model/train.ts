import { performance } from "node:perf_hooks";
import type { TokenSequences } from "../concepts/vocabulary.js";
import type { EmbeddingMatrix } from "../embed/types.js";
import { InputError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { validateArchitecture } from "./architecture.js";
import { macroAuroc } from "./auroc.js";
import { BatchSampler } from "./batch-sampler.js";
import type { Engine, EngineInput, EngineName } from "./engine.js";
import { DirectCnnEngine } from "./engine-direct.js";
import { FactorizedCnnEngine } from "./engine-factorized.js";
import { LogisticEngine } from "./engine-logistic.js";
import { SubspaceCnnEngine, subspaceBound } from "./engine-subspace.js";
import { SPARSE_E_DENSITY } from "./gram.js";
import { optimizerConfig } from "./optimizer.js";
import { initParams, type ModelParams, paramsFromWeights, paramsToWeights } from "./params.js";
import { checkTokenIds } from "./predict.js";
import { TrainSettings } from "./train-settings.js";
import type { EmbeddingRef, ModelArchitecture, ModelSnapshot } from "./types.js";

export interface LabeledSequences {
  seqs: TokenSequences;
  /** Class index per encounter (0 .. classes.length - 1). */
  labels: Int32Array;
}

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
  const engine = createEngine(engineInput, settings, arch, rows);

  const sampler = new BatchSampler(input.train.seqs.count, settings.batchSize, batchRng);
  const history: number[] = [];
  let best = Number.NEGATIVE_INFINITY;
  let bestEpoch = 0;
  let bestCp: unknown = null;
  let sinceBest = 0;
  const anyTrainable = engineInput.trainEmbedding || engineInput.trainConv || engineInput.trainDense;
  for (let epoch = 1; epoch <= settings.epochs; epoch++) {
    if (anyTrainable)
      for (let it = 0; it < settings.itersPerEpoch; it++) {
        const { order, start } = sampler.next();
        engine.step(order, start, sampler.batchSize);
      }
    const val = validationAuroc(engine, input.validation, C);
    history.push(val);
    input.onProgress?.(epoch, settings.epochs, val);
    if (val > best || (Number.isNaN(val) && epoch === settings.epochs && bestCp === null)) {
      best = val;
      bestEpoch = epoch;
      bestCp = engine.capture();
      sinceBest = 0;
    } else if (!Number.isNaN(val)) {
      sinceBest++;
      if (settings.earlyStoppingPatience !== null && sinceBest >= settings.earlyStoppingPatience) break;
    }
  }
  if (bestCp === null) {
    // Validation never gave a number (empty or one class): keep the last weights.
    bestCp = engine.capture();
    bestEpoch = history.length;
    best = Number.NaN;
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
    bestValidationAuroc: best,
    bestEpoch,
    seconds: (performance.now() - t0) / 1000,
    history,
    engine: engine.name,
  };
}

function validationAuroc(engine: Engine<unknown>, v: LabeledSequences, C: number): number {
  if (v.seqs.count === 0) return Number.NaN;
  return macroAuroc(v.labels, engine.probs(v.seqs), C);
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

/** What the engine choice looks at besides the settings. */
export interface EngineProblem {
  rows: number;
  /** Mean tokens per training encounter. */
  meanTokens: number;
  /** Fraction of non-zero embedding entries (one-hot: 1 / D). */
  density: number;
}

/**
 * Pick the engine. The factorized one is exact only for a frozen embedding with SGD on the conv
 * weights, and needs the rows x rows Gram matrix; the subspace one only for SGD and pays when the
 * initial tokens and filters span far fewer than D dimensions. Among valid engines take the cheapest
 * by a count of multiply-adds (setup + steps), counting only non-zeros of a sparse embedding.
 */
export function chooseEngine(
  settings: TrainSettings,
  arch: ModelArchitecture,
  problem: EngineProblem,
): EngineName {
  if (arch.kind === "mean-logistic") return "logistic";
  const { rows, meanTokens, density } = problem;
  const factorizable =
    settings.freeze.embedding &&
    (settings.freeze.conv || settings.optimizer === "sgd") &&
    rows <= MAX_FACTORIZED_ROWS;
  const D = arch.embeddingDim;
  const bound = subspaceBound(rows, arch.kernelSizes, arch.filters);
  const subspaceValid = !settings.freeze.embedding && settings.optimizer === "sgd";
  if (settings.engine === "factorized" && !factorizable)
    throw new InputError(
      `the factorized engine needs a frozen embedding, SGD for the conv layer and at most ${MAX_FACTORIZED_ROWS} tokens`,
      { field: "settings.engine" },
    );
  if (settings.engine === "subspace" && !subspaceValid)
    throw new InputError("the subspace engine needs a trained embedding and SGD", {
      field: "settings.engine",
    });
  if (settings.engine !== "auto") return settings.engine;
  if (subspaceValid) return bound < 0.8 * D ? "subspace" : "direct";
  if (!factorizable) return "direct";
  // Frozen conv: the factorized engine pools each encounter once and then trains the dense layer alone.
  if (settings.freeze.conv) return "factorized";
  const steps = settings.epochs * settings.itersPerEpoch;
  const FK = arch.filters.reduce((s, f, i) => s + f * arch.kernelSizes[i], 0);
  const perRow = Math.max(1, density * D);
  const distinct = Math.min(rows, settings.batchSize * Math.max(1, meanTokens));
  // Both engines pool every batch; the direct one scans every token (about 3 operations per token and
  // filter), the factorized one walks its kept ranking (a few per filter).
  const direct = steps * (distinct * perRow * FK * 2 + settings.batchSize * Math.max(1, meanTokens) * FK * 3);
  // Two rows share a column with probability about perRow^2 / D: the non-zeros of a row of K.
  const kRow = Math.min(rows, 1 + (rows * perRow * perRow) / D);
  const gramCost = density < SPARSE_E_DENSITY ? D * (rows * density) ** 2 : rows * rows * D;
  const factorized =
    gramCost + rows * perRow * FK + steps * (settings.batchSize * FK * (kRow + 5) + 8 * rows * FK);
  return factorized <= direct ? "factorized" : "direct";
}

/** Largest vocabulary (+1) for the factorized engine: its Gram matrix takes rows^2 x 8 bytes (<= 256 MB). */
export const MAX_FACTORIZED_ROWS = 5792;

function createEngine(
  ei: EngineInput,
  settings: TrainSettings,
  arch: ModelArchitecture,
  rows: number,
): Engine<unknown> {
  const cfg = optimizerConfig(settings);
  const seqs = ei.train.seqs;
  const meanTokens = seqs.count > 0 ? seqs.offsets[seqs.count] / seqs.count : 0;
  let nnz = 0;
  for (const x of ei.embedding) if (x !== 0) nnz++;
  const density = nnz / Math.max(1, ei.embedding.length);
  const kind = chooseEngine(settings, arch, { rows, meanTokens, density });
  if (kind === "logistic") return new LogisticEngine(ei, cfg) as Engine<unknown>;
  if (kind === "factorized") return new FactorizedCnnEngine(ei, cfg) as Engine<unknown>;
  if (kind === "subspace") return new SubspaceCnnEngine(ei, cfg) as Engine<unknown>;
  return new DirectCnnEngine(ei, cfg) as Engine<unknown>;
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
