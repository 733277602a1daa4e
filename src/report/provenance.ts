import { z } from "zod";

/**
 * `<results dir>/provenance.json`: what the report needs to say how the results were made. Written
 * by the experiment runner; every field is optional so an older or hand-made store still renders.
 * Only aggregate counts belong here. Unknown keys are dropped on parsing, so nothing the report does
 * not know how to show (and vet) can reach it.
 */
export const SiteSummary = z.object({
  name: z.string().min(1),
  /** Free-text role, e.g. "source", "target". */
  role: z.string().optional(),
  /** Number of encounters (patients/visits) at the site. */
  encounters: z.number().int().nonnegative(),
  /** Encounters per outcome class, e.g. { influenza: 120, other: 880 }. */
  classCounts: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Distinct concepts (codes) observed at the site. */
  concepts: z.number().int().nonnegative().optional(),
  /** Distinct tokens (concept x value) in the site's vocabulary. */
  vocabularySize: z.number().int().nonnegative().optional(),
  /** Mean tokens per encounter. */
  meanTokensPerEncounter: z.number().nonnegative().optional(),
});
export type SiteSummary = z.infer<typeof SiteSummary>;

export const EmbeddingProvenance = z.object({
  /** Name the spec uses (the table's column), e.g. "bert". */
  name: z.string().min(1),
  /** Provider id (model, version, settings hash), from providerId(info). */
  id: z.string().min(1),
  dim: z.number().int().positive().optional(),
});
export type EmbeddingProvenance = z.infer<typeof EmbeddingProvenance>;

export const Provenance = z.object({
  createdAt: z.string().optional(),
  codeVersion: z.string().optional(),
  seeds: z.array(z.number().int()).optional(),
  embeddings: z.array(EmbeddingProvenance).optional(),
  sites: z.array(SiteSummary).optional(),
  /** The experiment spec as run (shown verbatim, secrets redacted). */
  spec: z.unknown().optional(),
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
