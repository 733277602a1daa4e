import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { TrainSettings } from "../model/train-settings.js";
import { InputError } from "../util/errors.js";

/**
 * The experiment spec: settings as data (OHDSI PatientLevelPrediction's idea). A spec plus the code
 * version determines every result, so another site can rerun exactly the same analysis. YAML or JSON.
 */

export const SPEC_VERSION = 1;

/** How a site without a separate test file is split into a training pool and a test set. */
export const SplitSpec = z
  .object({
    /** "none": the whole site is a training pool (a site used only as a source needs no test set). */
    kind: z.enum(["stratified", "grouped", "temporal", "none"]).default("stratified"),
    testFraction: z.number().gt(0).lt(1).default(0.3),
    /** temporal: periods that form the test set (like the paper's test season). */
    testPeriods: z.array(z.string()).optional(),
    /** Seed of the site split (fixed across experiment seeds so all arms share one test set). */
    seed: z.number().int().default(20240913),
  })
  .strict();
export type SplitSpec = z.infer<typeof SplitSpec>;

const common = {
  /** Adapter-specific options, validated by the adapter's own schema when the site is loaded. */
  options: z.record(z.string(), z.unknown()).optional(),
  split: SplitSpec.optional(),
};

export const SiteSpec = z.discriminatedUnion("adapter", [
  z
    .object({
      adapter: z.literal("findings"),
      /** Training pool (one findings CSV). */
      train: z.string(),
      /** Held-out test file; without it the training pool is split by `split`. */
      test: z.string().optional(),
      catalog: z.string(),
      ...common,
    })
    .strict(),
  z
    .object({
      adapter: z.literal("event-table"),
      events: z.string(),
      labels: z.string(),
      ...common,
    })
    .strict(),
  z
    .object({
      adapter: z.literal("eicu"),
      dir: z.string().default("shared:eicu-demo"),
      region: z.string().optional(),
      hospitals: z.array(z.number().int()).optional(),
      ...common,
    })
    .strict(),
  z
    .object({
      adapter: z.literal("synthetic"),
      /** Settings of the synthetic world (see data/synthetic); the same world object for every site of a spec. */
      world: z.record(z.string(), z.unknown()).default({}),
      /** Which site of the world: its name or index. */
      site: z.union([z.string(), z.number().int().nonnegative()]),
      ...common,
    })
    .strict(),
  z
    .object({
      adapter: z.literal("omop"),
      ...common,
    })
    .strict(),
]);
export type SiteSpec = z.infer<typeof SiteSpec>;

export const TaskSpec = z.discriminatedUnion("type", [
  z.object({ type: z.literal("binary"), name: z.string(), positive: z.string() }).strict(),
  z.object({ type: z.literal("multiclass"), name: z.string() }).strict(),
]);
export type TaskSpec = z.infer<typeof TaskSpec>;

export const SCENARIO_NAMES = [
  "local",
  "pooled",
  "source-only",
  "finetune-dense",
  "finetune-conv",
  "finetune-all",
] as const;
export const ScenarioName = z.enum(SCENARIO_NAMES);
export type ScenarioName = z.infer<typeof ScenarioName>;

export const DirectionSpec = z.object({ source: z.string(), target: z.string() }).strict();

export const ModelSpec = z
  .object({
    /** The paper's concept CNN, and/or the logistic baseline on the mean token embedding. */
    kinds: z
      .array(z.enum(["cnn", "logistic"]))
      .min(1)
      .default(["cnn", "logistic"]),
    kernelSizes: z.array(z.number().int().positive()).min(1).default([1]),
    filters: z.array(z.number().int().positive()).min(1).default([100]),
    dropout: z.number().min(0).lt(1).default(0.5),
  })
  .strict();
export type ModelSpec = z.infer<typeof ModelSpec>;

export const EvaluationSpec = z
  .object({
    /** Bootstrap resamples for CIs that have no closed form (multi-class macro AUROC); eval's default when omitted. */
    bootstrap: z.number().int().min(1000).optional(),
    confidence: z.number().gt(0.5).lt(1).default(0.95),
  })
  .strict();

export const ExcludeSpec = z
  .object({
    scenario: ScenarioName.optional(),
    embedding: z.string().optional(),
    model: z.enum(["cnn", "logistic"]).optional(),
    source: z.string().optional(),
    target: z.string().optional(),
  })
  .strict()
  .refine((e) => Object.keys(e).length > 0, "an exclude entry must name at least one field");

export const ExperimentSpec = z
  .object({
    version: z.literal(SPEC_VERSION),
    name: z.string().min(1),
    description: z.string().optional(),
    sites: z.record(z.string(), SiteSpec).refine((s) => Object.keys(s).length > 0, "at least one site"),
    task: TaskSpec,
    /** Embeddings by the name used in tables; each an embed-registry spec ({ provider: ..., ... }). */
    embeddings: z
      .record(z.string(), z.object({ provider: z.string() }).passthrough())
      .refine((e) => Object.keys(e).length > 0, "at least one embedding"),
    scenarios: z.array(ScenarioName).min(1),
    /** Ordered (source, target) pairs, or "all-pairs" for every ordered pair of sites. */
    directions: z.union([z.literal("all-pairs"), z.array(DirectionSpec).min(1)]),
    /** Target training sizes for the learning curve; "all" = the whole target training pool. */
    targetSizes: z
      .array(z.union([z.number().int().positive(), z.literal("all")]))
      .min(1)
      .default(["all"]),
    seeds: z.array(z.number().int()).min(1).default([1]),
    model: ModelSpec.default(ModelSpec.parse({})),
    /** Training settings (model/train-settings defaults apply to omitted fields). */
    training: z.record(z.string(), z.unknown()).default({}),
    /** Training settings of the logistic baseline (defaults: model/train-settings BASELINE_SETTINGS). */
    baselineTraining: z.record(z.string(), z.unknown()).default({}),
    /** Fine-tuning settings (defaults: the `finetune` preset, the paper's SGD lr 1e-2). */
    finetuning: z.record(z.string(), z.unknown()).default({}),
    /** Recalibration at the target after transfer (evaluated with and without). */
    recalibration: z
      .array(z.enum(["none", "intercept", "logistic"]))
      .min(1)
      .default(["none"]),
    evaluation: EvaluationSpec.default(EvaluationSpec.parse({})),
    /**
     * Arms left out of the grid: each entry drops the cells matching every field it names (e.g.
     * { scenario: finetune-all, embedding: onehot }). For arms too costly or meaningless in one
     * setting; the report lists what a spec excluded.
     */
    exclude: z.array(ExcludeSpec).default([]),
    /** Token text templates (concepts/token-text). */
    tokenText: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type ExperimentSpec = z.infer<typeof ExperimentSpec>;

export interface LoadedSpec {
  spec: ExperimentSpec;
  /** Absolute path of the spec file (paths inside resolve against its folder). */
  path: string;
  dir: string;
}

/** Read and validate a spec file; errors name the file and the offending spec path. */
export async function loadSpec(path: string): Promise<LoadedSpec> {
  const abs = resolve(path);
  let text: string;
  try {
    text = await readFile(abs, "utf8");
  } catch {
    throw new InputError("cannot read spec file", { file: path });
  }
  let raw: unknown;
  try {
    raw = abs.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new InputError(`not valid ${abs.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message}`, {
      file: path,
    });
  }
  return { spec: parseSpec(raw, path), path: abs, dir: dirname(abs) };
}

export function parseSpec(raw: unknown, file = "<spec>"): ExperimentSpec {
  const r = ExperimentSpec.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InputError(issue.message, { file, field: issue.path.join(".") || "(root)" });
  }
  validateReferences(r.data, file);
  return r.data;
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
  for (const field of ["training", "finetuning", "baselineTraining"] as const) {
    const r = TrainSettings.safeParse(spec[field]);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new InputError(issue.message, { file, field: [field, ...issue.path].join(".") });
    }
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
  const seen = new Set<string>();
  spec.scenarios.forEach((s, i) => {
    if (seen.has(s)) throw new InputError(`scenario "${s}" listed twice`, { file, field: `scenarios.${i}` });
    seen.add(s);
  });
}

export function directionsOf(spec: ExperimentSpec): { source: string; target: string }[] {
  if (spec.directions !== "all-pairs") return spec.directions;
  const sites = Object.keys(spec.sites);
  const out: { source: string; target: string }[] = [];
  for (const source of sites) for (const target of sites) if (source !== target) out.push({ source, target });
  return out;
}
