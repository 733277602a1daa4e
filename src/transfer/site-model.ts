import { z } from "zod";
import { encodeAllEncounters } from "../concepts/encoded-site.js";
import type { TokenSequences } from "../concepts/vocabulary.js";
import { readTextFile } from "../data/text-file.js";
import type { SiteDataset } from "../data/types.js";
import { withPaddingRow } from "../embed/matrix.js";
import type { EmbeddingProvider } from "../embed/types.js";
import { type BowModel, predictBow } from "../model/bow-logistic.js";
import { modelFromJson, serializeModel } from "../model/model-file.js";
import type { ModelSnapshot } from "../model/types.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { InputError, isInputError } from "../util/errors.js";
import { parseInput } from "../util/parse-input.js";
import { stackedFeatures } from "./adaptive.js";
import type { ScenarioOutput } from "./scenarios.js";

/**
 * Site models: the two logistic arms, `local-bow` (the tuned regression on the site's bag of tokens)
 * and `stacked` (the same with the source model's logits as features), as a file the site deploys.
 * They are no CNN, so they have no model file of their own kind: their weights belong to the site's
 * tokens (keyed by token key, so a later extract with other token ids scores the same), and a stacked
 * model carries the source model whose logits it reads. Weights are stored as JSON numbers, which
 * round-trip a float64 exactly: a model read back predicts bit for bit what the fit predicted. These
 * files stay at the site; `bundle export` packs CNN models only.
 */

export const SITE_MODEL_FORMAT = "conceptbridge.site-model";
export const SITE_MODEL_VERSION = 1;
export const SITE_MODEL_SCENARIOS = ["local-bow", "stacked"] as const;
export type SiteModelScenario = (typeof SITE_MODEL_SCENARIOS)[number];

export interface SiteModel {
  format: typeof SITE_MODEL_FORMAT;
  version: typeof SITE_MODEL_VERSION;
  scenario: SiteModelScenario;
  classes: string[];
  /** The tokens the weights belong to (the site's vocabulary at fitting time): token i has row i + 1. */
  vocabulary: { key: string; text: string }[];
  /** The L2 strength cross-validation chose. */
  lambda: number;
  /** (vocabulary + 1) x C token weights; row 0 (padding) is zero. */
  tokenWeights: Float64Array;
  /** F x C weights of the source model's logits (stacked: F = 1 for binary, C for multi-class; local-bow: empty). */
  sourceWeights: Float64Array;
  /** C intercepts. */
  bias: Float64Array;
  /** stacked: the source model whose logits are features. */
  sourceModel?: ModelSnapshot;
}

/** The site model of a logistic arm's output (runScenario with scenario local-bow or stacked). */
export function siteModelOf(
  out: ScenarioOutput,
  scenario: SiteModelScenario,
  classes: string[],
  vocabulary: readonly { key: string; text: string }[],
  sourceModel?: ModelSnapshot,
): SiteModel {
  const m = out.bowModel;
  if (!m) throw new Error(`${scenario} returned no fitted regression`);
  if (m.vocab !== vocabulary.length || m.classes !== classes.length)
    throw new Error(
      `${scenario}: ${m.vocab} x ${m.classes} weights for ${vocabulary.length} tokens, ${classes.length} classes`,
    );
  if (scenario === "stacked" && !sourceModel) throw new Error("a stacked site model needs its source model");
  return {
    format: SITE_MODEL_FORMAT,
    version: SITE_MODEL_VERSION,
    scenario,
    classes: [...classes],
    vocabulary: vocabulary.map((v) => ({ key: v.key, text: v.text })),
    lambda: m.lambda,
    tokenWeights: m.tokenW,
    sourceWeights: m.denseW,
    bias: m.bias,
    ...(scenario === "stacked" && sourceModel ? { sourceModel } : {}),
  };
}

/** Source features per encounter: 1 (binary log-odds) or C (centred log-probabilities). */
function featureCount(m: SiteModel): number {
  return m.scenario === "stacked" ? (m.classes.length === 2 ? 1 : m.classes.length) : 0;
}

function bowModelOf(m: SiteModel): BowModel {
  return {
    classes: m.classes.length,
    vocab: m.vocabulary.length,
    denseCount: featureCount(m),
    tokenW: m.tokenWeights,
    denseW: m.sourceWeights,
    bias: m.bias,
    lambda: m.lambda,
  };
}

/**
 * Token sequences in the model's token ids: each token of `vocabulary` (id i + 1) is matched to the
 * model's by key; a token the model never saw carries no weight and is dropped.
 */
export function toModelTokens(
  m: Pick<SiteModel, "vocabulary">,
  vocabulary: readonly { key: string }[],
  seqs: TokenSequences,
): TokenSequences {
  const idOf = new Map(m.vocabulary.map((v, i) => [v.key, i + 1]));
  const map = Uint32Array.from({ length: vocabulary.length + 1 }, (_, t) =>
    t === 0 ? 0 : (idOf.get(vocabulary[t - 1].key) ?? 0),
  );
  const offsets = new Uint32Array(seqs.count + 1);
  const tokens: number[] = [];
  for (let i = 0; i < seqs.count; i++) {
    for (let k = seqs.offsets[i]; k < seqs.offsets[i + 1]; k++) {
      const t = map[seqs.tokens[k]];
      if (t !== 0) tokens.push(t);
    }
    offsets[i + 1] = tokens.length;
  }
  return { count: seqs.count, offsets, tokens: Uint32Array.from(tokens) };
}

/**
 * Class probabilities (N x C) of encounters given in the model's own token ids; `sourceFeatures`
 * (stacked only) are stackedFeatures of the source model on the same encounters.
 */
export function predictSiteModel(
  m: SiteModel,
  seqs: TokenSequences,
  sourceFeatures?: Float64Array,
): Float64Array {
  const F = featureCount(m);
  if (F > 0 && (!sourceFeatures || sourceFeatures.length !== seqs.count * F))
    throw new Error(`a stacked site model needs ${F} source feature(s) per encounter`);
  return predictBow(bowModelOf(m), seqs, F > 0 ? sourceFeatures : undefined);
}

/**
 * Score every encounter of a dataset, in file order (`predict --model`). A stacked model embeds the
 * dataset's tokens with `provider` (the source model's embedding, providerForModel) for its logits.
 */
export async function scoreSiteWithSiteModel(
  m: SiteModel,
  ds: SiteDataset,
  provider?: EmbeddingProvider,
): Promise<{ ids: string[]; probs: Float64Array }> {
  const { vocabulary, seqs } = encodeAllEncounters(ds);
  let features: Float64Array | undefined;
  if (m.sourceModel) {
    if (!provider) throw new Error("a stacked site model needs the source model's embedding provider");
    const table = withPaddingRow(await provider.embed(vocabulary));
    features = stackedFeatures(m.sourceModel, table, seqs, m.classes.length);
  }
  return { ids: ds.encounters.ids, probs: predictSiteModel(m, toModelTokens(m, vocabulary, seqs), features) };
}

const finiteNumbers = z.array(z.number().finite());

const SiteModelFileSchema = z
  .object({
    format: z.literal(SITE_MODEL_FORMAT),
    version: z.literal(SITE_MODEL_VERSION),
    scenario: z.enum(SITE_MODEL_SCENARIOS),
    classes: z.array(z.string().min(1)).min(2),
    vocabulary: z.array(z.object({ key: z.string().min(1), text: z.string() }).strict()),
    lambda: z.number().positive(),
    tokenWeights: finiteNumbers,
    sourceWeights: finiteNumbers,
    bias: finiteNumbers,
    sourceModel: z.unknown().optional(),
  })
  .strict();

/** The site model as the JSON text of its file. */
export function serializeSiteModel(m: SiteModel): string {
  return JSON.stringify({
    format: m.format,
    version: m.version,
    scenario: m.scenario,
    classes: m.classes,
    vocabulary: m.vocabulary,
    lambda: m.lambda,
    tokenWeights: Array.from(m.tokenWeights),
    sourceWeights: Array.from(m.sourceWeights),
    bias: Array.from(m.bias),
    ...(m.sourceModel ? { sourceModel: JSON.parse(serializeModel(m.sourceModel)) } : {}),
  });
}

/** Whether a file's parsed JSON says it is a site model (so `predict --model` reads either kind). */
export function isSiteModelJson(raw: unknown): boolean {
  return (
    typeof raw === "object" && raw !== null && (raw as { format?: unknown }).format === SITE_MODEL_FORMAT
  );
}

/** Parse and validate a site model file; InputError naming `file` and the field when it is not one. */
export function parseSiteModel(text: string, file?: string): SiteModel {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not a site model file (invalid JSON: ${(e as Error).message})`, { file });
  }
  return siteModelFromJson(raw, file);
}

/** Validate a site model file's parsed JSON (loadDeployedModel parses once to tell the kinds apart). */
export function siteModelFromJson(raw: unknown, file?: string): SiteModel {
  const m = parseInput(SiteModelFileSchema, raw, { ...(file !== undefined ? { file } : {}) });
  const C = m.classes.length;
  const V = m.vocabulary.length;
  const F = m.scenario === "stacked" ? (C === 2 ? 1 : C) : 0;
  const shape = (field: string, got: number, want: number, what: string) => {
    if (got !== want) throw new InputError(`${got} numbers where ${what} need ${want}`, { file, field });
  };
  shape("tokenWeights", m.tokenWeights.length, (V + 1) * C, `${V} tokens (+ padding) x ${C} classes`);
  shape("sourceWeights", m.sourceWeights.length, F * C, `${F} source feature(s) x ${C} classes`);
  shape("bias", m.bias.length, C, `${C} classes`);
  if (new Set(m.vocabulary.map((v) => v.key)).size !== V)
    throw new InputError("token keys repeat", { file, field: "vocabulary" });
  let sourceModel: ModelSnapshot | undefined;
  if (m.scenario === "stacked") {
    if (m.sourceModel === undefined)
      throw new InputError("a stacked site model holds its source model", { file, field: "sourceModel" });
    try {
      // Validated without the file name, so the error's own prefix is only its field: re-prefixed below.
      sourceModel = modelFromJson(m.sourceModel);
    } catch (e) {
      if (!isInputError(e)) throw e;
      const field = e.location.field;
      const prefix = field !== undefined ? `field "${field}": ` : "";
      throw new InputError(e.message.slice(prefix.length), {
        ...(file !== undefined ? { file } : {}),
        field: field === undefined ? "sourceModel" : `sourceModel.${field}`,
      });
    }
    if (sourceModel.classes.join("\u0000") !== m.classes.join("\u0000"))
      throw new InputError("the source model's classes differ from the site model's", {
        file,
        field: "sourceModel.classes",
      });
  } else if (m.sourceModel !== undefined)
    throw new InputError("only a stacked site model holds a source model", { file, field: "sourceModel" });
  return {
    format: SITE_MODEL_FORMAT,
    version: SITE_MODEL_VERSION,
    scenario: m.scenario,
    classes: m.classes,
    vocabulary: m.vocabulary,
    lambda: m.lambda,
    tokenWeights: Float64Array.from(m.tokenWeights),
    sourceWeights: Float64Array.from(m.sourceWeights),
    bias: Float64Array.from(m.bias),
    ...(sourceModel ? { sourceModel } : {}),
  };
}

/** Write a site model file atomically. */
export async function saveSiteModel(path: string, m: SiteModel): Promise<void> {
  await writeFileAtomic(path, serializeSiteModel(m));
}

export async function loadSiteModel(path: string): Promise<SiteModel> {
  return parseSiteModel(await readTextFile(path), path);
}
