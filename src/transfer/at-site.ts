import { encodeAllEncounters, encodeDataset } from "../concepts/encoded-site.js";
import { labelsForClasses } from "../data/task.js";
import { readTextFile } from "../data/text-file.js";
import type { SiteDataset } from "../data/types.js";
import { type EmbeddedSite, type EmbedSiteOptions, embedSite } from "../embed/embedded-site.js";
import { withPaddingRow } from "../embed/matrix.js";
import type { EmbeddingSpecInput } from "../embed/registry.js";
import type { EmbeddingProvider } from "../embed/types.js";
import { meanLogistic, paperCnn } from "../model/architecture.js";
import { modelFromJson } from "../model/model-file.js";
import { predictProba, tunedEmbedding } from "../model/predict.js";
import type { TrainResult } from "../model/train.js";
import { RECIPES, type RecipeName, TrainSettings, type TrainSettingsInput } from "../model/train-settings.js";
import type { ModelSnapshot } from "../model/types.js";
import { InputError } from "../util/errors.js";
import { parseInput } from "../util/parse-input.js";
import { AUTO_FOLDS, runAuto } from "./auto.js";
import { providerForModel } from "./bundle/provider.js";
import {
  FINETUNE_SCENARIOS,
  type FinetuneScenario,
  runScenario,
  type Scenario,
  type ScenarioInput,
  type ScenarioOutput,
  trainSourceModel,
} from "./scenarios.js";
import {
  isSiteModelJson,
  type SiteModel,
  scoreSiteWithSiteModel,
  siteModelFromJson,
  siteModelOf,
} from "./site-model.js";

/**
 * The target-site half of "models travel, data stays": a model that arrived (from a bundle) scores
 * this site's encounters, or is fine-tuned on them with the experiment's own scenarios. Everything
 * these functions return stays at the site.
 */

/** A site's labeled encounters, in the model's class order, embedded with the model's provider. */
export async function siteForModel(
  ds: SiteDataset,
  model: Pick<ModelSnapshot, "classes">,
  provider: EmbeddingProvider,
  opts: EmbedSiteOptions & { file?: string } = {},
): Promise<EmbeddedSite> {
  const labels = labelsForClasses(ds, model.classes, opts.file !== undefined ? { file: opts.file } : {});
  return embedSite(encodeDataset(ds, labels), provider, opts);
}

/** Class probabilities (N x C row-major) for every encounter of the site, in file order. */
export async function scoreSite(
  model: ModelSnapshot,
  ds: SiteDataset,
  provider: EmbeddingProvider,
  opts: EmbedSiteOptions = {},
): Promise<{ ids: string[]; probs: Float64Array }> {
  const { vocabulary, seqs } = encodeAllEncounters(ds);
  const total = vocabulary.length;
  const m = await provider.embed(vocabulary, {
    ...(opts.onProgress ? { onProgress: (done: number) => opts.onProgress?.(done, total) } : {}),
  });
  // Rows a model tuned (finetune-all) belong to the vocabulary it was tuned on: used only for that one.
  const sameVocabulary =
    model.vocabulary.length === vocabulary.length &&
    model.vocabulary.every((v, i) => v.key === vocabulary[i].key);
  const table = (sameVocabulary ? tunedEmbedding(model) : null) ?? withPaddingRow(m);
  return { ids: ds.encounters.ids, probs: predictProba(model, table, seqs) };
}

/** Scores as CSV: encounter_id, then one probability column per class. */
export function predictionsCsv(classes: string[], ids: readonly string[], probs: Float64Array): string {
  const C = classes.length;
  const lines = [["encounter_id", ...classes.map((c) => `p_${c}`)].map(csvField).join(",")];
  ids.forEach((id, i) => {
    const row = [csvField(id)];
    for (let c = 0; c < C; c++) row.push(String(probs[i * C + c]));
    lines.push(row.join(","));
  });
  return `${lines.join("\n")}\n`;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export interface FineTuneOptions {
  scenario?: FinetuneScenario;
  /** Training recipe whose fine-tuning defaults the settings override (default `converged`). */
  recipe?: RecipeName;
  /** Fine-tuning settings over the recipe's; `freeze` is the scenario's. */
  settings?: Omit<TrainSettingsInput, "freeze">;
  onEpoch?: (epoch: number, epochs: number, validationAuroc: number) => void;
}

/**
 * Fine-tune a transferred model on the site's labeled encounters: exactly the experiment's
 * fine-tuning scenario (transfer/scenarios.ts), its pool this site's labeled encounters, its
 * validation split `settings.validationFraction` with `settings.seed`.
 */
export function fineTuneAtSite(
  model: ModelSnapshot,
  site: EmbeddedSite,
  o: FineTuneOptions = {},
): ScenarioOutput {
  return transferAtSite(model, site, {
    scenario: o.scenario ?? "finetune-conv",
    ...(o.recipe ? { recipe: o.recipe } : {}),
    ...(o.settings ? { settings: o.settings } : {}),
    ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}),
  }).output;
}

/** What `conceptbridge transfer --scenario` runs at the site: a fine-tuning, a logistic arm, or auto. */
export const SITE_SCENARIOS = [...FINETUNE_SCENARIOS, "local-bow", "stacked", "auto"] as const;
export type SiteScenario = (typeof SITE_SCENARIOS)[number];

/** The model a site deploys: a CNN (a model file) or a logistic arm (a site model file). */
export type DeployedModel = { kind: "cnn"; model: ModelSnapshot } | { kind: "site-model"; model: SiteModel };

export interface TransferAtSiteOptions {
  scenario?: SiteScenario;
  /** Training recipe whose defaults the settings override (default `converged`). */
  recipe?: RecipeName;
  /** Over the recipe's fine-tuning settings and (auto's local CNN) its training settings. */
  settings?: Omit<TrainSettingsInput, "freeze">;
  /** Epochs of a fine-tuning (not reported under auto, whose many trainings report by onFold). */
  onEpoch?: (epoch: number, epochs: number, validationAuroc: number) => void;
  /** auto: after each candidate's fold (done, total, what). */
  onFold?: (done: number, total: number, what: string) => void;
}

export interface TransferAtSiteResult {
  scenario: SiteScenario;
  /** The arm whose model is deployed: the scenario itself, or the candidate auto chose. */
  arm: Scenario;
  output: ScenarioOutput;
  deployed: DeployedModel;
}

/**
 * Adapt a transferred model to the site, or choose by cross-validation at the site whether to
 * (`auto`): exactly the experiment's scenarios (transfer/scenarios.ts, transfer/auto.ts), their pool
 * the site's labeled encounters, so what is deployed is what an experiment cell with the same seed
 * and data would train. Fine-tuning validates on `settings.validationFraction` of the pool; the
 * logistic arms and auto cross-validate over all of it.
 */
export function transferAtSite(
  model: ModelSnapshot,
  site: EmbeddedSite,
  o: TransferAtSiteOptions = {},
): TransferAtSiteResult {
  const scenario = o.scenario ?? "finetune-conv";
  const recipe = RECIPES[o.recipe ?? "converged"];
  const finetuning = parseInput(
    TrainSettings,
    { ...recipe.finetuning, ...(o.settings ?? {}) },
    { field: "finetuning" },
  );
  const training = parseInput(
    TrainSettings,
    { ...recipe.training, ...(o.settings ?? {}) },
    { field: "training" },
  );
  checkEnoughLabels(site, model.classes, scenario);
  const input: ScenarioInput = {
    scenario,
    architecture: model.architecture,
    classes: model.classes,
    target: site,
    sourceModel: model,
    training,
    finetuning,
    split: { validationFraction: finetuning.validationFraction, seed: finetuning.seed },
    ...(o.onEpoch && scenario !== "auto" ? { onEpoch: o.onEpoch } : {}),
  };
  const trained = new Map<Scenario, ScenarioOutput>();
  const plain = (s: Scenario): ScenarioOutput => {
    let out = trained.get(s);
    if (!out) {
      out = runScenario({ ...input, scenario: s });
      trained.set(s, out);
    }
    return out;
  };
  const output =
    scenario === "auto" ? runAuto(input, plain, o.onFold ? { onFold: o.onFold } : {}) : plain(scenario);
  const arm = (scenario === "auto" ? output.selection?.winner : scenario) as Scenario;
  const deployed: DeployedModel =
    arm === "local-bow" || arm === "stacked"
      ? { kind: "site-model", model: siteModelOf(output, arm, model.classes, site.vocabulary, model) }
      : { kind: "cnn", model: output.model ?? model };
  return { scenario, arm, output, deployed };
}

/**
 * Read what `transfer` (or `train`, `bundle import`) wrote: a model file or a site model file,
 * told apart by its `format`; InputError naming the file and field when it is neither.
 */
export async function loadDeployedModel(path: string): Promise<DeployedModel> {
  const text = await readTextFile(path);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not a model file (invalid JSON: ${(e as Error).message})`, { file: path });
  }
  return isSiteModelJson(raw)
    ? { kind: "site-model", model: siteModelFromJson(raw, path) }
    : { kind: "cnn", model: modelFromJson(raw, path) };
}

/**
 * Score every encounter of a dataset with a deployed model, in file order. The embedding is rebuilt
 * from the model (providerForModel; `spec` for a language model or table); a local-bow site model
 * reads token keys only and needs none.
 */
export async function scoreSiteWithModel(
  deployed: DeployedModel,
  ds: SiteDataset,
  file: string,
  o: EmbedSiteOptions & { spec?: EmbeddingSpecInput } = {},
): Promise<{ ids: string[]; probs: Float64Array; classes: string[] }> {
  const { spec, ...embedOptions } = o;
  if (deployed.kind === "cnn") {
    const provider = await providerForModel(deployed.model, file, spec);
    return {
      ...(await scoreSite(deployed.model, ds, provider, embedOptions)),
      classes: deployed.model.classes,
    };
  }
  const m = deployed.model;
  const provider = m.sourceModel
    ? await providerForModel(m.sourceModel, file, spec, "sourceModel.embedding")
    : undefined;
  return { ...(await scoreSiteWithSiteModel(m, ds, provider)), classes: m.classes };
}

/**
 * Refuse a site too small for the arm before any training: fine-tuning needs 10 labeled encounters;
 * the cross-validated arms (and auto) also need every class in each of their folds.
 */
function checkEnoughLabels(site: EmbeddedSite, classes: string[], scenario: SiteScenario): void {
  const labels = site.pool.labels;
  if (labels.length < 10)
    throw new InputError(
      `only ${labels.length} labeled encounters at the site; too few to ${scenario.startsWith("finetune-") ? "fine-tune" : `run ${scenario}`}`,
    );
  if (scenario !== "local-bow" && scenario !== "stacked" && scenario !== "auto") return;
  const counts = new Array<number>(classes.length).fill(0);
  for (const y of labels) counts[y]++;
  const thin = counts.findIndex((n) => n < AUTO_FOLDS);
  if (thin >= 0)
    throw new InputError(
      `class "${classes[thin]}" has ${counts[thin]} labeled encounters at the site; ${scenario} cross-validates over ${AUTO_FOLDS} folds and needs at least ${AUTO_FOLDS}`,
    );
}

export interface TrainAtSiteOptions {
  /** "cnn" (the paper's concept CNN, default) or "logistic" (the baseline on the mean token embedding). */
  model?: "cnn" | "logistic";
  /** Training recipe whose defaults the settings override (default `converged`, as in experiment specs). */
  recipe?: RecipeName;
  /** Over the recipe's defaults for the model (its CNN or its logistic-baseline settings). */
  settings?: TrainSettingsInput;
  onEpoch?: (epoch: number, epochs: number, validationAuroc: number) => void;
}

/**
 * Train a model at one site from its whole pool (the source half of the travel workflow): the same
 * function and split the experiment's source models use, so a model trained here is the one an
 * experiment cell with this seed would start its transfer arms from.
 */
export function trainAtSite(site: EmbeddedSite, classes: string[], o: TrainAtSiteOptions = {}): TrainResult {
  const kind = o.model ?? "cnn";
  const recipe = RECIPES[o.recipe ?? "converged"];
  const defaults = kind === "logistic" ? recipe.baseline : recipe.training;
  const settings = parseInput(TrainSettings, { ...defaults, ...(o.settings ?? {}) }, { field: "training" });
  const D = site.embedding.dim;
  return trainSourceModel({
    architecture: kind === "logistic" ? meanLogistic(D, classes.length) : paperCnn(D, classes.length),
    classes,
    training: settings,
    source: site,
    split: { validationFraction: settings.validationFraction, seed: settings.seed },
    ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}),
  });
}
