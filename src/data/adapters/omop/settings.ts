import { z } from "zod";

/**
 * Settings of the OMOP CDM adapter: every default lives here and nowhere else.
 *
 * Semantics (identical on the DuckDB and PostgreSQL paths, because both run the same SQL):
 * - Cohort: one encounter per visit_occurrence whose visit_concept_id is in `visitConceptIds`
 *   (or every visit with "all"). Index date = visit_start_date.
 * - Features: every event of the same person (matched by person_id and date, not by
 *   visit_occurrence_id, so earlier visits' history counts) from the chosen `domains` with
 *   event date in [visit_start_date + window.startDays, anchor + window.endDays], inclusive, where
 *   anchor = visit_start_date (default: what is known at admission, so nothing recorded later in the
 *   stay leaks into a prediction about that stay) or visit_end_date (`window.endAnchor: "visitEnd"`,
 *   for discharge-time models). Each concept counts once per encounter; concept_id 0 ("no matching
 *   concept") is dropped.
 * - Outcome "death": positive when death_date is in [visit_start_date, visit_end_date + days].
 *   Outcome "conceptSet": positive when any event with one of `conceptIds` (in `domains`) falls after
 *   the feature window's last day and on or before visit_end_date + days.
 * - Group = person_id (grouped splits keep a patient's visits together); period = year of
 *   visit_start_date (temporal splits); time = visit_start_date.
 */

/** Standard OMOP visit concepts: inpatient, outpatient, emergency room, emergency room and inpatient. */
export const DEFAULT_VISIT_CONCEPT_IDS = [9201, 9202, 9203, 262] as const;

export const OMOP_DOMAINS = ["condition", "drug", "procedure", "measurement", "observation"] as const;
export type OmopDomain = (typeof OMOP_DOMAINS)[number];

const conceptId = z.int().nonnegative();
const domainList = z.array(z.enum(OMOP_DOMAINS)).min(1);

export const OmopFilesSourceSchema = z.object({
  kind: z.literal("files"),
  /** Folder with one file per table (PERSON.csv, person.parquet, ... any case) or one sub-folder per table. */
  dir: z.string().min(1),
  /** Which files to read when a table exists in both formats; "auto" prefers Parquet. */
  format: z.enum(["auto", "csv", "parquet"]).default("auto"),
  /** DuckDB memory cap; beyond it DuckDB spills to a temp folder, so big sites stay within RAM. */
  memoryLimit: z.string().default("512MB"),
  /** DuckDB worker threads (default: DuckDB's own choice, one per core). */
  threads: z.int().positive().optional(),
});

export const OmopPostgresSourceSchema = z.object({
  kind: z.literal("postgres"),
  /** Environment variable holding the connection URL (with its password); the URL never enters settings files. */
  urlEnv: z.string().min(1).default("CONCEPTBRIDGE_OMOP_PG_URL"),
  /** Schema of the clinical tables. */
  schema: z.string().min(1).default("public"),
  /** Schema of the concept table (OMOP sites often keep the vocabulary apart); defaults to `schema`. */
  vocabularySchema: z.string().min(1).optional(),
  /** Rows fetched per cursor round trip: bounds client memory. */
  fetchRows: z.int().positive().default(10_000),
  connectTimeoutMs: z.int().positive().default(10_000),
});

export const OmopSourceSchema = z.discriminatedUnion("kind", [
  OmopFilesSourceSchema,
  OmopPostgresSourceSchema,
]);

export const OmopOutcomeSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("death"), days: z.int().nonnegative().default(30) }),
  z.object({
    kind: z.literal("conceptSet"),
    conceptIds: z.array(conceptId).min(1),
    days: z.int().nonnegative().default(30),
    domains: domainList.default([...OMOP_DOMAINS]),
  }),
]);

export const OmopSettingsSchema = z.object({
  /** Site name for the dataset; default: the folder name or the schema name. */
  name: z.string().min(1).optional(),
  source: OmopSourceSchema,
  visitConceptIds: z
    .union([z.literal("all"), z.array(conceptId).min(1)])
    .default([...DEFAULT_VISIT_CONCEPT_IDS]),
  window: z
    .object({
      startDays: z.int().default(-365),
      endDays: z.int().default(0),
      endAnchor: z.enum(["visitStart", "visitEnd"]).default("visitStart"),
    })
    .prefault({}),
  domains: domainList.default([...OMOP_DOMAINS]),
  /**
   * Concept text: the standard concept_name (comparable across sites), or the site's own
   * *_source_value (the heterogeneous local text; concept_name is used where a concept has none).
   * The other one is kept in Concept.metadata either way.
   */
  text: z.enum(["conceptName", "sourceValue"]).default("conceptName"),
  /** Add age band (at visit start) and gender as level concepts "age" and "gender". */
  demographics: z.boolean().default(true),
  /** Lower bounds of the age bands after the first (0 .. first-1). */
  ageBands: z
    .array(z.int().positive())
    .min(1)
    .refine((a) => a.every((v, i) => i === 0 || v > a[i - 1]), "age bands must increase")
    .default([18, 45, 65]),
  outcome: OmopOutcomeSchema.default({ kind: "death", days: 30 }),
});

export type OmopSettings = z.output<typeof OmopSettingsSchema>;
export type OmopSettingsInput = z.input<typeof OmopSettingsSchema>;
export type OmopSource = OmopSettings["source"];
export type OmopOutcome = OmopSettings["outcome"];

/** Label classes in the order the adapter writes them (index 1 = the outcome happened). */
export function outcomeClasses(outcome: OmopOutcome): [string, string] {
  return outcome.kind === "death" ? ["Alive", "Expired"] : ["No", "Yes"];
}
