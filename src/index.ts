/**
 * ConceptBridge as a library: one function per verb of the pipeline, in the order data flows
 * (data -> concepts -> embed -> model -> transfer -> eval -> experiment -> report). The CLI is a
 * thin shell over exactly these functions.
 *
 *   const ds = await readSite("synthetic:A");                       // load a site
 *   const { site, classes } = prepareSite(ds, { type: "multiclass", name: "dx" });
 *   const provider = await createProvider({ provider: "hashing" }, { sourceVocabulary: vocabularyOf(site) });
 *   const source = await embedSite(site, provider);                 // embed its vocabulary
 *   const model = trainAtSite(source, classes).snapshot;            // train
 *   const out = runScenario({ scenario: "finetune-dense", ... });   // transfer at another site
 *   const metrics = evaluate(labels, probs, classes);               // evaluate
 */

// concepts/: vocabularies and encoded sites.
export {
  type EncodedSite,
  encodeAllEncounters,
  encodeDataset,
  encodeSite,
  prepareSite,
  vocabularyOf,
} from "./concepts/encoded-site.js";
export { type LabeledSequences, subsetLabeled, unionByKey } from "./concepts/sequences.js";
export type { TokenSequences, Vocabulary, VocabularyToken } from "./concepts/vocabulary.js";
export { type SiteSpec, SplitSpec } from "./data/sites/site-spec.js";
// data/: sites, their specs and splits, tasks.
export {
  resolveSite as readSite,
  resolveSource as readSource,
  type SourceOptions,
  sourceSpecs,
} from "./data/sources.js";
export { generateWorld } from "./data/synthetic/world.js";
export { labelsForClasses, type TaskSpec, taskClasses, taskLabels } from "./data/task.js";
export type { SiteDataset } from "./data/types.js";

// embed/: providers behind one interface, embedded sites.
export { type EmbeddedSite, embedSite } from "./embed/embedded-site.js";
export {
  createProvider,
  type EmbeddingSpec,
  type EmbeddingSpecInput,
  parseEmbeddingSpec,
} from "./embed/registry.js";
export { type EmbeddingMatrix, type EmbeddingProvider, providerId } from "./embed/types.js";
// eval/: metrics with uncertainty.
export { type SummarizeOptions, summarizePredictions as evaluate } from "./eval/summarize.js";
export type { CellKey, CellResult } from "./experiment/results.js";
export { type RunOptions, type RunSummary, runExperiment } from "./experiment/runner.js";
// experiment/: specs as data, the resumable grid.
export { type ExperimentSpec, type LoadedSpec, loadSpec, parseSpec } from "./experiment/spec.js";
// model/: architectures, training, model files, prediction.
export {
  BASELINE_SETTINGS,
  type EngineName,
  FINETUNE_SETTINGS,
  kimCnn,
  loadModel,
  type ModelArchitecture,
  type ModelSnapshot,
  meanLogistic,
  PAPER_SETTINGS,
  paperCnn,
  predictProba,
  saveModel,
  type TrainResult,
  TrainSettings,
  type TrainSettingsInput,
  trainModel,
} from "./model/index.js";
export type { MetricSummary } from "./model/metric-summary.js";
// report/: the report of a results store.
export { buildReport } from "./report/build.js";
// The answer to "which model do I deploy?" from result cells (what the report and demo lead with).
export {
  formatRecommendation,
  type RecommendationRow,
  recommendFromCells,
} from "./report/recommendation.js";
export { ALIGN_METHODS, type AlignRun, type AlignRunOptions, runAlignment } from "./transfer/align-sites.js";
export {
  type DeployedModel,
  type FineTuneOptions,
  fineTuneAtSite,
  loadDeployedModel,
  predictionsCsv,
  SITE_SCENARIOS,
  type SiteScenario,
  scoreSite,
  scoreSiteWithModel,
  siteForModel,
  type TrainAtSiteOptions,
  type TransferAtSiteOptions,
  type TransferAtSiteResult,
  trainAtSite,
  transferAtSite,
} from "./transfer/at-site.js";
export { type OpenedBundle, readBundleFile, writeBundleFile } from "./transfer/bundle/bundle.js";
export { providerForBundle, providerForModel } from "./transfer/bundle/provider.js";
export { generateSigningKeys } from "./transfer/bundle/signing.js";
export {
  type BundleTrust,
  describeBundle,
  describeTrust,
  exportBundle,
  importBundle,
  openBundle,
  type TrustOptions,
  verifyBundle,
} from "./transfer/bundle/workflow.js";
// transfer/: the scenarios, training and fine-tuning at a site, alignment, bundles.
export {
  FINETUNE_SCENARIOS,
  type FinetuneScenario,
  runScenario,
  SCENARIO_NAMES,
  type Scenario,
  type ScenarioInput,
  type ScenarioOutput,
  trainSourceModel,
} from "./transfer/scenarios.js";
export {
  loadSiteModel,
  parseSiteModel,
  predictSiteModel,
  type SiteModel,
  saveSiteModel,
  scoreSiteWithSiteModel,
} from "./transfer/site-model.js";
export { subsamplePool, trainValidationSplit } from "./transfer/training-data.js";

// util/: the error every user-input problem is reported with.
export { InputError, isInputError } from "./util/errors.js";
export { CODE_VERSION } from "./util/version.js";
