import { z } from "zod";

/**
 * `<results dir>/provenance.json`: what the report needs to say how the results were made. Written
 * by the experiment runner; every field is optional so an older or hand-made store still renders.
 * Only aggregate counts belong here. Unknown keys are dropped on parsing, so nothing the report does
 * not know how to show (and vet) can reach it.
 */

/** One site as the experiment runner summarises it (src/experiment/prepare.ts SiteSummary). */
export const SiteSummary = z.object({
  site: z.string().min(1),
  /** Encounters available for training/validation. */
  poolEncounters: z.number().int().nonnegative(),
  /** Held-out test encounters. */
  testEncounters: z.number().int().nonnegative(),
  /** Distinct tokens (concept x value) in the site's vocabulary. */
  vocabularySize: z.number().int().nonnegative().optional(),
  /** Encounters per outcome class (pool + test). */
  classCounts: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** The same per part: a combined count is suppressed when a part of it is small. */
  poolClassCounts: z.record(z.string(), z.number().int().nonnegative()).optional(),
  testClassCounts: z.record(z.string(), z.number().int().nonnegative()).optional(),
});
export type SiteSummary = z.infer<typeof SiteSummary>;

/** An embedding as the report lists it: the spec's name and the provider id (model, version, settings). */
export interface EmbeddingProvenance {
  name: string;
  id: string;
}

/** The run's data checks (src/experiment/checks.ts), aggregates only. */
export const DataChecks = z.object({
  sharedGroups: z
    .array(
      z.object({
        a: z.string(),
        b: z.string(),
        shared: z.number().int().nonnegative(),
        groupsA: z.number().int().nonnegative(),
        groupsB: z.number().int().nonnegative(),
      }),
    )
    .default([]),
  coverage: z
    .array(z.object({ source: z.string(), target: z.string(), tokens: z.number(), occurrences: z.number() }))
    .default([]),
  embeddings: z
    .array(
      z.object({
        embedding: z.string(),
        site: z.string(),
        meanCosine: z.number(),
        effectiveRank: z.number(),
        negationCosine: z.number().nullable(),
        dimension: z.number().int(),
        warnings: z.array(z.string()).default([]),
      }),
    )
    .default([]),
});
export type DataChecks = z.infer<typeof DataChecks>;

export const Provenance = z.object({
  writtenAt: z.string().optional(),
  codeVersion: z.string().optional(),
  node: z.string().optional(),
  seeds: z.array(z.number().int()).optional(),
  classes: z.array(z.string()).optional(),
  /** Embedding name -> provider id. */
  embeddingProviders: z.record(z.string(), z.string()).optional(),
  sites: z.array(SiteSummary).optional(),
  checks: DataChecks.optional(),
  /** The experiment spec as run (shown verbatim, secrets redacted). */
  spec: z.unknown().optional(),
  specFile: z.string().optional(),
});
export type Provenance = z.infer<typeof Provenance>;

const SECRET_KEY = /(api[-_]?key|secret|password|passwd|credential|authorization|bearer)/i;

/**
 * Replace values under secret-looking keys with "[redacted]". Specs should hold secrets only as
 * env-variable names, but a report is shared widely, so it does not trust that.
 */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) && !/env$/i.test(k) ? "[redacted]" : redactSecrets(v);
    }
    return out;
  }
  return value;
}
