import { encodeAllEncounters, encodeDataset } from "../concepts/encoded-site.js";
import { labelsForClasses } from "../data/task.js";
import type { SiteDataset } from "../data/types.js";
import { type EmbeddedSite, type EmbedSiteOptions, embedSite } from "../embed/embedded-site.js";
import { withPaddingRow } from "../embed/matrix.js";
import type { EmbeddingProvider } from "../embed/types.js";
import { meanLogistic, paperCnn } from "../model/architecture.js";
import { predictProba, tunedEmbedding } from "../model/predict.js";
import type { TrainResult } from "../model/train.js";
import { type RecipeName, RECIPES, TrainSettings, type TrainSettingsInput } from "../model/train-settings.js";
import type { ModelSnapshot } from "../model/types.js";
import { InputError } from "../util/errors.js";
import { parseInput } from "../util/parse-input.js";
import { type FinetuneScenario, runScenario, type ScenarioOutput, trainSourceModel } from "./scenarios.js";

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
  const settings = parseInput(
    TrainSettings,
    { ...RECIPES[o.recipe ?? "converged"].finetuning, ...(o.settings ?? {}) },
    { field: "finetuning" },
  );
  const labeled = site.pool.labels.length;
  if (labeled < 10)
    throw new InputError(`only ${labeled} labeled encounters at the site; too few to fine-tune`);
  return runScenario({
    scenario: o.scenario ?? "finetune-conv",
    architecture: model.architecture,
    classes: model.classes,
    target: site,
    sourceModel: model,
    training: settings,
    finetuning: settings,
    split: { validationFraction: settings.validationFraction, seed: settings.seed },
    ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}),
  });
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
