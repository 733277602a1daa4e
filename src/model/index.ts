/**
 * The public face of model/: what a trained model is (types, architectures, model files), how it is
 * trained (settings, presets, trainModel) and scored (predictProba). The training engines and their
 * kernels live in engines/ and are reached only through trainModel; the choice among them is
 * exported so callers can see (and tests pin) which engine a setting gets.
 */
export {
  type CnnArchitecture,
  kimCnn,
  type LogisticArchitecture,
  meanLogistic,
  paperCnn,
  validateArchitecture,
} from "./architecture.js";
export { binaryAuroc, macroAuroc } from "./auroc.js";
export { chooseEngine, ENGINE_NAMES } from "./engines/choose.js";
export type { EngineName, EngineProblem } from "./engines/engine.js";
export {
  ArchitectureSchema,
  loadModel,
  MODEL_FORMAT,
  MODEL_VERSION,
  parseModel,
  saveModel,
  serializeModel,
} from "./model-file.js";
export { checkWeights, initParams, paramsToWeights } from "./params.js";
export { predictProba, tunedEmbedding } from "./predict.js";
export { type LabeledSequences, type TrainInput, type TrainResult, trainModel } from "./train.js";
export {
  BASELINE_SETTINGS,
  FINETUNE_SETTINGS,
  PAPER_SETTINGS,
  TRAIN_PRESETS,
  TrainSettings,
  type TrainSettingsInput,
  trainSettings,
} from "./train-settings.js";
export type { EmbeddingRef, ModelArchitecture, ModelSnapshot, Tensor } from "./types.js";
