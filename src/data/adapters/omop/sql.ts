import type { OmopDomain, OmopSettings } from "./settings.js";
import { DOMAIN_COLUMNS, type OmopTable } from "./tables.js";

/**
 * The adapter's SQL, written once in the subset DuckDB and PostgreSQL share: CTEs, CAST(... AS BIGINT
 * / DATE / VARCHAR), DATE + INTEGER, DATE - DATE (days), EXTRACT(YEAR ...), string_agg,
 * window functions. Every output column is VARCHAR so both drivers return plain strings, and every
 * input column is CAST, so typed PostgreSQL tables and all-VARCHAR CSV views behave the same.
 * Numbers pasted into the text are zod-validated integers (never user strings); table names come from
 * the engine's `relation()`, which quotes them.
 */
export type Relation = (table: OmopTable) => string;

function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return n < 0 ? `(${n})` : String(n);
}

function idList(ids: readonly number[]): string {
  return ids.map(int).join(", ");
}

/** One SELECT per domain, UNION ALL: person_id, concept_id, event_date [, source_value]. */
function eventsUnion(
  domains: readonly OmopDomain[],
  rel: Relation,
  opts: { sourceValue: boolean; onlyConcepts?: readonly number[] },
): string {
  return domains
    .map((d) => {
      const c = DOMAIN_COLUMNS[d];
      const cols = [
        "CAST(person_id AS BIGINT) AS person_id",
        `CAST(${c.conceptId} AS BIGINT) AS concept_id`,
        `CAST(${c.date} AS DATE) AS event_date`,
      ];
      if (opts.sourceValue) cols.push(`NULLIF(CAST(${c.sourceValue} AS VARCHAR), '') AS source_value`);
      const where = opts.onlyConcepts
        ? ` WHERE CAST(${c.conceptId} AS BIGINT) IN (${idList(opts.onlyConcepts)})`
        : "";
      return `SELECT ${cols.join(", ")} FROM ${rel(c.table)}${where}`;
    })
    .join("\n  UNION ALL\n  ");
}

/**
 * Site concepts of the feature domains with their concept table facts and their most frequent source
 * value(s): rows (concept_id, concept_name, vocabulary_id, concept_code, domain_id, source_value).
 * Ties in frequency all come back (ranked in JS by code points, because ORDER BY text follows the
 * PostgreSQL database collation and would not match DuckDB). Scans the event tables once, no join.
 */
export function conceptsQuery(s: OmopSettings, rel: Relation): string {
  return `WITH events AS (
  ${eventsUnion(s.domains, rel, { sourceValue: true })}
),
counts AS (
  SELECT concept_id, source_value, COUNT(*) AS n FROM events WHERE concept_id <> 0 GROUP BY concept_id, source_value
),
ranked AS (
  SELECT concept_id, source_value, n, MAX(n) OVER (PARTITION BY concept_id) AS top FROM counts
)
SELECT CAST(r.concept_id AS VARCHAR), CAST(k.concept_name AS VARCHAR), CAST(k.vocabulary_id AS VARCHAR),
  CAST(k.concept_code AS VARCHAR), CAST(k.domain_id AS VARCHAR), r.source_value
FROM ranked r LEFT JOIN ${rel("concept")} k ON CAST(k.concept_id AS BIGINT) = r.concept_id
WHERE r.n = r.top
ORDER BY r.concept_id`;
}

/** Gender concepts of the persons: rows (gender_concept_id, concept_name, gender_source_value, n). */
export function genderQuery(rel: Relation): string {
  return `SELECT CAST(g.gender_concept_id AS VARCHAR), CAST(k.concept_name AS VARCHAR), g.source_value, CAST(g.n AS VARCHAR)
FROM (
  SELECT CAST(gender_concept_id AS BIGINT) AS gender_concept_id,
    NULLIF(CAST(gender_source_value AS VARCHAR), '') AS source_value, COUNT(*) AS n
  FROM ${rel("person")} GROUP BY 1, 2
) g LEFT JOIN ${rel("concept")} k ON CAST(k.concept_id AS BIGINT) = g.gender_concept_id
ORDER BY g.gender_concept_id`;
}

function cohortFilter(s: OmopSettings): string {
  return s.visitConceptIds === "all"
    ? ""
    : `\n  WHERE CAST(visit_concept_id AS BIGINT) IN (${idList(s.visitConceptIds)})`;
}

/** Number of cohort visits (one row, one column), for progress. */
export function cohortCountQuery(s: OmopSettings, rel: Relation): string {
  return `SELECT CAST(COUNT(*) AS VARCHAR) FROM ${rel("visit_occurrence")}${cohortFilter(s)}`;
}

/** Column order of encountersQuery's rows. */
export const ENCOUNTER_COLUMNS = [
  "visit_id",
  "person_id",
  "start_day",
  "year",
  "label",
  "concept_ids",
  "age",
  "gender_concept_id",
] as const;

/**
 * One row per cohort visit, ordered by person, start date, visit id: the ids, visit start as days
 * since 1970-01-01, its year, the outcome ("0"/"1"), the distinct feature concept ids (space
 * separated, in no particular order — the reader sorts them: DuckDB's ordered string_agg took 15 s of
 * the 1M-row benchmark's 16; NULL when none), and age at visit start and gender_concept_id (NULL without
 * demographics). All joins and aggregation run in the database; the client only streams this.
 */
export function encountersQuery(s: OmopSettings, rel: Relation): string {
  const visitFilter = cohortFilter(s);
  const anchor = s.window.endAnchor === "visitStart" ? "c.start_date" : "c.end_date";
  const windowEnd = `${anchor} + ${int(s.window.endDays)}`;
  const ctes = [
    `cohort AS (
  SELECT CAST(visit_occurrence_id AS BIGINT) AS visit_id, CAST(person_id AS BIGINT) AS person_id,
    CAST(visit_start_date AS DATE) AS start_date,
    COALESCE(CAST(visit_end_date AS DATE), CAST(visit_start_date AS DATE)) AS end_date
  FROM ${rel("visit_occurrence")}${visitFilter}
)`,
    `events AS (
  ${eventsUnion(s.domains, rel, { sourceValue: false })}
)`,
    `features AS (
  SELECT DISTINCT c.visit_id, e.concept_id
  FROM cohort c JOIN events e ON e.person_id = c.person_id
  WHERE e.concept_id <> 0
    AND e.event_date >= c.start_date + ${int(s.window.startDays)}
    AND e.event_date <= ${windowEnd}
)`,
    `bags AS (
  SELECT visit_id, string_agg(CAST(concept_id AS VARCHAR), ' ') AS concept_ids
  FROM features GROUP BY visit_id
)`,
  ];
  const o = s.outcome;
  if (o.kind === "death") {
    ctes.push(`deaths AS (
  SELECT CAST(person_id AS BIGINT) AS person_id, MIN(CAST(death_date AS DATE)) AS death_date
  FROM ${rel("death")} GROUP BY 1
)`);
    ctes.push(`outcome AS (
  SELECT DISTINCT c.visit_id FROM cohort c JOIN deaths d ON d.person_id = c.person_id
  WHERE d.death_date >= c.start_date AND d.death_date <= c.end_date + ${int(o.days)}
)`);
  } else {
    ctes.push(`outcome_events AS (
  ${eventsUnion(o.domains, rel, { sourceValue: false, onlyConcepts: o.conceptIds })}
)`);
    ctes.push(`outcome AS (
  SELECT DISTINCT c.visit_id FROM cohort c JOIN outcome_events e ON e.person_id = c.person_id
  WHERE e.event_date > ${windowEnd} AND e.event_date <= c.end_date + ${int(o.days)}
)`);
  }
  const demo = s.demographics
    ? `CAST(CAST(EXTRACT(YEAR FROM c.start_date) AS INTEGER) - CAST(p.year_of_birth AS INTEGER) AS VARCHAR),
  CAST(CAST(p.gender_concept_id AS BIGINT) AS VARCHAR)`
    : "CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR)";
  const personJoin = s.demographics
    ? `\nLEFT JOIN ${rel("person")} p ON CAST(p.person_id AS BIGINT) = c.person_id`
    : "";
  return `WITH ${ctes.join(",\n")}
SELECT CAST(c.visit_id AS VARCHAR), CAST(c.person_id AS VARCHAR), CAST(c.start_date - DATE '1970-01-01' AS VARCHAR),
  CAST(CAST(EXTRACT(YEAR FROM c.start_date) AS INTEGER) AS VARCHAR),
  CASE WHEN o.visit_id IS NULL THEN '0' ELSE '1' END, b.concept_ids,
  ${demo}
FROM cohort c
LEFT JOIN bags b ON b.visit_id = c.visit_id
LEFT JOIN outcome o ON o.visit_id = c.visit_id${personJoin}
ORDER BY c.person_id, c.start_date, c.visit_id`;
}
