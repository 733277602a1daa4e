import type { OmopDomain, OmopSettings } from "./settings.js";

/** The OMOP CDM tables the adapter reads (5.3 and 5.4 name these columns the same way). */
export type OmopTable =
  | "person"
  | "visit_occurrence"
  | "condition_occurrence"
  | "drug_exposure"
  | "procedure_occurrence"
  | "measurement"
  | "observation"
  | "death"
  | "concept";

/** Where a clinical domain's events live: table, concept column, event date, local source code/text. */
export interface DomainColumns {
  table: OmopTable;
  conceptId: string;
  date: string;
  sourceValue: string;
}

export const DOMAIN_COLUMNS: Record<OmopDomain, DomainColumns> = {
  condition: {
    table: "condition_occurrence",
    conceptId: "condition_concept_id",
    date: "condition_start_date",
    sourceValue: "condition_source_value",
  },
  drug: {
    table: "drug_exposure",
    conceptId: "drug_concept_id",
    date: "drug_exposure_start_date",
    sourceValue: "drug_source_value",
  },
  procedure: {
    table: "procedure_occurrence",
    conceptId: "procedure_concept_id",
    date: "procedure_date",
    sourceValue: "procedure_source_value",
  },
  measurement: {
    table: "measurement",
    conceptId: "measurement_concept_id",
    date: "measurement_date",
    sourceValue: "measurement_source_value",
  },
  observation: {
    table: "observation",
    conceptId: "observation_concept_id",
    date: "observation_date",
    sourceValue: "observation_source_value",
  },
};

/**
 * The columns each table must have for these settings (only the tables the settings use). Checked
 * before any query so that a missing one is reported by table and column, not as an SQL error.
 */
export function requiredColumns(s: OmopSettings): Map<OmopTable, string[]> {
  const need = new Map<OmopTable, Set<string>>();
  const add = (table: OmopTable, ...cols: string[]) => {
    const set = need.get(table) ?? new Set<string>();
    need.set(table, set);
    for (const c of cols) set.add(c);
  };
  add(
    "visit_occurrence",
    "visit_occurrence_id",
    "person_id",
    "visit_concept_id",
    "visit_start_date",
    "visit_end_date",
  );
  add("concept", "concept_id", "concept_name", "vocabulary_id", "concept_code", "domain_id");
  const domains = new Set<OmopDomain>(s.domains);
  if (s.outcome.kind === "conceptSet") for (const d of s.outcome.domains) domains.add(d);
  for (const d of domains) {
    const c = DOMAIN_COLUMNS[d];
    add(c.table, "person_id", c.conceptId, c.date, c.sourceValue);
  }
  if (s.demographics) add("person", "person_id", "gender_concept_id", "year_of_birth", "gender_source_value");
  if (s.outcome.kind === "death") add("death", "person_id", "death_date");
  return new Map([...need].map(([t, cols]) => [t, [...cols]]));
}
