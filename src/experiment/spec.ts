import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { TokenTextSettings } from "../concepts/token-text.js";
import { SiteSpec } from "../data/sites/site-spec.js";
import { TaskSpec } from "../data/task.js";
import { decodeUtf8 } from "../data/text-file.js";
import { EmbeddingSpec } from "../embed/registry.js";
import { paperCnn } from "../model/architecture.js";
import { RECIPE_NAMES, RECIPES, TrainSettings } from "../model/train-settings.js";
import { SCENARIO_NAMES } from "../transfer/scenarios.js";
import { InputError } from "../util/errors.js";
import { parseInput } from "../util/parse-input.js";
import { SAFE_NAME, SAFE_NAME_RULE } from "../util/safe-path.js";

/**
 * The experiment spec: settings as data (OHDSI PatientLevelPrediction's idea). A spec plus the code
 * version determines every result, so another site can rerun exactly the same analysis. YAML or JSON.
 */

export const SPEC_VERSION = 1;

export { SplitSpec } from "../data/sites/site-spec.js";
export { SCENARIO_NAMES, SiteSpec, TaskSpec };

export const ScenarioName = z.enum(SCENARIO_NAMES);
export type ScenarioName = z.infer<typeof ScenarioName>;

export const DirectionSpec = z
  .object({
    source: z.string().describe("Site the model learns at (a key of sites)."),
    target: z.string().describe("Site it is evaluated at (a key of sites; must differ from source)."),
  })
  .strict();

/** The paper's CNN shape: the defaults of the model block (model/architecture.ts defines them). */
const PAPER_CNN = paperCnn(1, 2);

export const ModelSpec = z
  .object({
    /** The paper's concept CNN, and/or the logistic baseline on the mean token embedding. */
    kinds: z
      .array(z.enum(["cnn", "logistic"]))
      .min(1, "at least one model kind: a grid without a model has no cells")
      .describe("The paper's concept CNN and/or the logistic baseline on the mean token embedding.")
      .default(["cnn", "logistic"]),
    kernelSizes: z
      .array(z.number().int().positive("a kernel covers at least one token"))
      .min(1, "the CNN needs at least one convolution branch")
      .describe("Convolution kernel sizes (tokens), one branch each (the paper's 1, 2, 3).")
      .default(PAPER_CNN.kernelSizes),
    filters: z
      .array(z.number().int().positive("a branch needs at least one filter"))
      .min(1, "one filter count per kernel size")
      .describe("Filters per branch, one per kernel size.")
      .default(PAPER_CNN.filters),
    dropout: z
      .number()
      .min(0, "dropout is a probability")
      .lt(1, "dropout 1 would drop every feature")
      .describe("Dropout before the dense layer.")
      .default(PAPER_CNN.dropout),
  })
  .strict();
export type ModelSpec = z.infer<typeof ModelSpec>;

export const EvaluationSpec = z
  .object({
    /** Bootstrap resamples for CIs that have no closed form (multi-class macro AUROC); eval's default when omitted. */
    bootstrap: z
      .number()
      .int()
      .min(
        1000,
        "at least 1000 resamples: the 2.5% and 97.5% percentiles of a 95% interval must each rest on 25 or more resampled values, or the interval's ends jump from run to run",
      )
      .describe(
        "Bootstrap resamples for intervals without a closed form (multi-class macro AUROC); 2000 when omitted.",
      )
      .optional(),
    confidence: z
      .number()
      .gt(0.5, "an interval below 50% confidence is not an interval anyone reports")
      .lt(1, "100% confidence would give an infinitely wide interval")
      .describe("Confidence level of the stored intervals.")
      .default(0.95),
  })
  .strict();

export const ExcludeSpec = z
  .object({
    scenario: ScenarioName.describe("Drop cells of this scenario.").optional(),
    embedding: z.string().describe("Drop cells of this embedding (a key of embeddings).").optional(),
    model: z.enum(["cnn", "logistic"]).describe("Drop cells of this model kind.").optional(),
    source: z.string().describe("Drop cells with this source site.").optional(),
    target: z.string().describe("Drop cells with this target site.").optional(),
  })
  .strict()
  .refine((e) => Object.keys(e).length > 0, "an exclude entry must name at least one field");

/**
 * A training block of the spec, parsed once into full TrainSettings over its recipe's defaults.
 * Settings the grid decides itself are refused rather than silently overridden: the seed comes from
 * `seeds`, what fine-tuning freezes from the scenario, and a fine-tuned arm validates on its
 * target's split (`training.validationFraction`), so that arms are compared on the same encounters.
 */
function parseBlock(
  raw: Record<string, unknown>,
  defaults: TrainSettings,
  decidedElsewhere: Record<string, string>,
  field: string,
  ctx: z.RefinementCtx,
): TrainSettings {
  for (const [key, why] of Object.entries(decidedElsewhere)) {
    if (key in raw) {
      ctx.addIssue({ code: "custom", message: `cannot be set here: ${why}`, path: [field, key] });
      return z.NEVER;
    }
  }
  const r = TrainSettings.safeParse({ ...defaults, ...raw });
  if (!r.success) {
    const i = r.error.issues[0];
    const keys = (i as { keys?: string[] }).keys;
    const path = i.code === "unrecognized_keys" && keys?.length ? [...i.path, keys[0]] : i.path;
    ctx.addIssue({ code: "custom", message: i.message, path: [field, ...path] });
    return z.NEVER;
  }
  return r.data;
}

const SEED_FROM_SEEDS = "each arm's seed comes from the spec's `seeds` list";
const Block = z.record(z.string(), z.unknown()).default({});

/**
 * Names that become parts of output paths and file names (the spec's name: the default output
 * folder; site and embedding keys: source model files): safe slugs only (util/safe-path.ts), so a
 * spec shared between sites can never write outside its output folder.
 */
const SafeName = z.string().regex(SAFE_NAME, SAFE_NAME_RULE);

/** Report settings a spec may fix; the CLI's `report --small-cell-threshold` overrides them. */
export const ReportSpec = z
  .object({
    smallCellThreshold: z
      .number()
      .int()
      .min(1, "a threshold of 0 would suppress nothing")
      .describe(
        "Counts of people below this are suppressed in reports, exports and data summaries (the usual disclosure rule: 11).",
      )
      .default(11),
  })
  .strict();

/** The spec's fields as written (training blocks not yet parsed over their recipe). */
export const ExperimentSpecFields = z
  .object({
    version: z.literal(SPEC_VERSION).describe("Spec format version (1)."),
    name: SafeName.describe("Experiment name: the default output folder and the report's title."),
    description: z.string().describe("What the experiment asks; shown at the top of the report.").optional(),
    sites: z
      .record(SafeName, SiteSpec)
      .refine((s) => Object.keys(s).length > 0, "at least one site")
      .describe("The sites by name: each an adapter with its files and its split."),
    task: TaskSpec.describe("The prediction task."),
    /** Embeddings by the name used in tables; each an embed-registry spec ({ provider: ..., ... }). */
    embeddings: z
      .record(SafeName, EmbeddingSpec)
      .refine((e) => Object.keys(e).length > 0, "at least one embedding")
      .describe("Embeddings by the name tables use; each an embed-registry spec ({ provider: ..., ... })."),
    scenarios: z
      .array(ScenarioName)
      .min(1, "at least one scenario: a grid without one has no cells")
      .describe("Transfer scenarios to run (transfer/scenarios.ts)."),
    /** Ordered (source, target) pairs, or "all-pairs" for every ordered pair of sites. */
    directions: z
      .union([z.literal("all-pairs"), z.array(DirectionSpec).min(1, "at least one direction, or all-pairs")])
      .describe('Ordered (source, target) pairs, or "all-pairs" for every ordered pair of sites.'),
    /** Target training sizes for the learning curve; "all" = the whole target training pool. */
    targetSizes: z
      .array(z.union([z.number().int().positive("a target size counts encounters"), z.literal("all")]))
      .min(1, "at least one target size")
      .describe('Target training sizes for the learning curve; "all" = the whole target training pool.')
      .default(["all"]),
    seeds: z
      .array(z.number().int())
      .min(1, "at least one seed")
      .describe("Seeds: every arm runs once per seed (training randomness; the test set stays the same).")
      .default([1]),
    model: ModelSpec.describe("Model kinds and the CNN's shape.").default(ModelSpec.parse({})),
    /**
     * The defaults of the three training blocks below: `converged` (Adam, epochs picked by validation
     * loss, early stopping; fine-tuning may keep the source model) or `paper` (the seed paper's exact
     * schedule; every reproduction spec pins it). model/train-settings.ts RECIPES.
     */
    recipe: z
      .enum(RECIPE_NAMES)
      .describe(
        "Defaults of the three training blocks: converged (trains to convergence) or paper (the seed paper's schedule).",
      )
      .default("converged"),
    /** Training settings of the CNN (over the recipe's defaults). */
    training: Block.describe(
      "Training settings of the CNN, over the recipe's defaults (fields: TrainSettings).",
    ),
    /** Training settings of the logistic baseline (over the recipe's defaults). */
    baselineTraining: Block.describe(
      "Training settings of the logistic baseline, over the recipe's defaults.",
    ),
    /** Fine-tuning settings (over the recipe's defaults). */
    finetuning: Block.describe("Fine-tuning settings, over the recipe's defaults."),
    /** Recalibration at the target after transfer (evaluated with and without). */
    recalibration: z
      .array(z.enum(["none", "intercept", "logistic"]))
      .min(1, 'at least one setting ("none": as transferred)')
      .describe(
        "Recalibration at the target after transfer, each evaluated as its own arm (none = as transferred).",
      )
      .default(["none"]),
    evaluation: EvaluationSpec.describe("Uncertainty settings of the stored metrics.").default(
      EvaluationSpec.parse({}),
    ),
    /**
     * Arms left out of the grid: each entry drops the cells matching every field it names (e.g.
     * { scenario: finetune-all, embedding: onehot }). For arms too costly or meaningless in one
     * setting; the report lists what a spec excluded.
     */
    exclude: z
      .array(ExcludeSpec)
      .describe("Arms left out of the grid: each entry drops the cells matching every field it names.")
      .default([]),
    /** Token text templates (concepts/token-text). */
    tokenText: TokenTextSettings.describe(
      "How a concept and its value become the text that is embedded.",
    ).optional(),
    /**
     * Report settings that belong to the experiment (not to the cells: changing them never reruns a
     * cell). Optional, so a spec without it parses to the same object as before.
     */
    report: ReportSpec.describe("Settings of the report built from the results.").optional(),
  })
  .strict();

/** The spec, parsed: every training block full TrainSettings over the recipe's defaults. */
export const ExperimentSpec = ExperimentSpecFields.transform((s, ctx) => {
  const recipe = RECIPES[s.recipe];
  return {
    ...s,
    training: parseBlock(s.training, recipe.training, { seed: SEED_FROM_SEEDS }, "training", ctx),
    baselineTraining: parseBlock(
      s.baselineTraining,
      recipe.baseline,
      { seed: SEED_FROM_SEEDS },
      "baselineTraining",
      ctx,
    ),
    finetuning: parseBlock(
      s.finetuning,
      recipe.finetuning,
      {
        seed: SEED_FROM_SEEDS,
        freeze: "each fine-tuning scenario (finetune-dense, -conv, -all, -l2sp) decides what is frozen",
        validationFraction:
          "a fine-tuned arm is validated on its target's split, training.validationFraction",
      },
      "finetuning",
      ctx,
    ),
  };
});
export type ExperimentSpec = z.infer<typeof ExperimentSpec>;

export interface LoadedSpec {
  spec: ExperimentSpec;
  /** The spec as written in the file (what reports show; `spec` is its parsed, defaulted form). */
  raw?: unknown;
  /** Absolute path of the spec file (paths inside resolve against its folder). */
  path: string;
  dir: string;
}

/** Read and validate a spec file; errors name the file and the offending spec path. */
export async function loadSpec(path: string): Promise<LoadedSpec> {
  const abs = resolve(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(abs);
  } catch {
    throw new InputError("cannot read spec file", { file: path });
  }
  // Strict UTF-8, as for data files: a silently repaired byte would be a different site path or text.
  const text = decodeUtf8(bytes, path);
  let raw: unknown;
  try {
    raw = abs.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new InputError(`not valid ${abs.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message}`, {
      file: path,
    });
  }
  return { spec: parseSpec(raw, path), raw, path: abs, dir: dirname(abs) };
}

export function parseSpec(raw: unknown, file = "<spec>"): ExperimentSpec {
  checkNamesAsWritten(raw, file);
  const spec = parseInput(ExperimentSpec, raw, { file });
  validateReferences(spec, file);
  return spec;
}

/**
 * Site and embedding keys checked on the spec as written, before zod parses it: zod's records drop a
 * `__proto__` key without a word, and its key errors do not say what a safe name is.
 */
function checkNamesAsWritten(raw: unknown, file: string): void {
  if (raw === null || typeof raw !== "object") return;
  for (const block of ["sites", "embeddings"]) {
    const v = Object.hasOwn(raw, block) ? (raw as Record<string, unknown>)[block] : undefined;
    if (v === null || typeof v !== "object" || Array.isArray(v)) continue;
    for (const key of Object.keys(v)) {
      if (!SAFE_NAME.test(key))
        throw new InputError(`"${key}" ${SAFE_NAME_RULE}`, { file, field: `${block}.${key}` });
    }
  }
}

/** Checks zod cannot express: references between parts of the spec. */
function validateReferences(spec: ExperimentSpec, file: string): void {
  const sites = Object.keys(spec.sites);
  if (spec.directions !== "all-pairs") {
    spec.directions.forEach((d, i) => {
      for (const role of ["source", "target"] as const) {
        if (!sites.includes(d[role])) {
          throw new InputError(
            `site "${d[role]}" is not defined under sites (defined: ${sites.join(", ")})`,
            {
              file,
              field: `directions.${i}.${role}`,
            },
          );
        }
      }
      if (d.source === d.target) {
        throw new InputError("source and target must differ", { file, field: `directions.${i}` });
      }
    });
  } else if (sites.length < 2) {
    throw new InputError("all-pairs needs at least two sites", { file, field: "directions" });
  }
  if (spec.model.kernelSizes.length !== spec.model.filters.length) {
    throw new InputError("kernelSizes and filters must have the same length", {
      file,
      field: "model.filters",
    });
  }
  spec.exclude.forEach((e, i) => {
    const known: [keyof typeof e, string[]][] = [
      ["scenario", spec.scenarios],
      ["embedding", Object.keys(spec.embeddings)],
      ["model", spec.model.kinds],
      ["source", sites],
      ["target", sites],
    ];
    for (const [field, names] of known) {
      const v = e[field];
      if (v !== undefined && !names.includes(v))
        throw new InputError(`"${v}" is not one of the spec's ${field}s (${names.join(", ")})`, {
          file,
          field: `exclude.${i}.${field}`,
        });
    }
  });
  // A list entry given twice would train and store the same cells twice (or, for directions, the
  // same job): bad input, not something to deduplicate silently.
  const lists: [string, unknown[]][] = [
    ["scenarios", spec.scenarios],
    ["seeds", spec.seeds],
    ["targetSizes", spec.targetSizes],
    ["recalibration", spec.recalibration],
    ["model.kinds", spec.model.kinds],
    [
      "directions",
      spec.directions === "all-pairs" ? [] : spec.directions.map((d) => `${d.source} -> ${d.target}`),
    ],
  ];
  for (const [field, values] of lists) {
    const seen = new Set<string>();
    values.forEach((v, i) => {
      const k = JSON.stringify(v);
      if (seen.has(k))
        throw new InputError(`${typeof v === "string" ? `"${v}"` : String(v)} is listed twice`, {
          file,
          field: `${field}.${i}`,
        });
      seen.add(k);
    });
  }
}

/**
 * The spec as reports show it: the parsed spec (top-level defaults filled in), with the blocks whose
 * defaults live elsewhere shown as written (training settings, embeddings, token texts), so a report
 * lists what the user chose, not 17 settings per training block.
 */
export function specAsWritten(loaded: LoadedSpec): unknown {
  const raw = (loaded.raw ?? {}) as Record<string, unknown>;
  const asWritten = (k: string) => (raw[k] !== undefined ? raw[k] : {});
  return {
    ...loaded.spec,
    embeddings: raw.embeddings ?? loaded.spec.embeddings,
    training: asWritten("training"),
    baselineTraining: asWritten("baselineTraining"),
    finetuning: asWritten("finetuning"),
    tokenText: raw.tokenText,
  };
}

export function directionsOf(spec: ExperimentSpec): { source: string; target: string }[] {
  if (spec.directions !== "all-pairs") return spec.directions;
  const sites = Object.keys(spec.sites);
  const out: { source: string; target: string }[] = [];
  for (const source of sites) for (const target of sites) if (source !== target) out.push({ source, target });
  return out;
}
