/**
 * The site data model. A site dataset is a concept catalog plus encounters whose observations are
 * stored as typed arrays in CSR layout (offsets + ids), not object graphs: 1,000,000 encounters x 64
 * observations take ~256 MB of observation ids plus the encounter id strings.
 */

/** One clinical concept as a site codes it. */
export interface Concept {
  /** Site-local code, e.g. "C0013404" or "LOC-118". Unique within a site's catalog. */
  code: string;
  /** The site's own text for it, e.g. "dyspnea" or "short of breath". */
  text: string;
  /** Vocabulary or coding system, e.g. "UMLS", "eICU.drugname". */
  system?: string;
  /** Text for each level of a multi-level concept (temperature levels, age groups), keyed by level. */
  levelTexts?: Record<string, string>;
  /**
   * Extra facts kept for later use, never patient-level: a standard code for alignment scoring
   * (e.g. `hicl`, `icd9`, `icd10`), the latent fact id of a synthetic site, an alternative text.
   */
  metadata?: Record<string, string>;
}

/** The value an observation of a concept takes. Together with the concept it makes a token. */
export type ObservationValue =
  | { kind: "present" }
  | { kind: "absent" }
  | { kind: "level"; level: string }
  /** Only stored when a dataset keeps missing values as explicit observations. */
  | { kind: "missing" };

/** A distinct (concept, value) pair that occurs in a dataset: the unit that becomes a token. */
export interface ObservationType {
  /** Index into the dataset's concept catalog. */
  concept: number;
  value: ObservationValue;
}

/** Encounters in columnar form. Observation ids of encounter i are observations[offsets[i]..offsets[i+1]). */
export interface EncounterTable {
  count: number;
  /** Encounter ids as the site knows them (never written to reports or model files). */
  ids: string[];
  /** Patient or other grouping unit per encounter (index into groupNames); grouped splits use it. */
  groups: Int32Array;
  groupNames: string[];
  /** Optional period per encounter (index into periodNames), e.g. a season; temporal splits use it. */
  periods?: Int32Array;
  periodNames?: string[];
  /** Optional time per encounter (ms since epoch or any monotone number). */
  times?: Float64Array;
  /** CSR row pointer, length count + 1. */
  offsets: Uint32Array;
  /** Observation type ids (index into SiteDataset.observationTypes). */
  observations: Uint32Array;
  /** Class index per encounter (into SiteDataset.labelClasses); -1 = unlabeled. */
  labels: Int32Array;
}

export interface SiteDataset {
  /** Site name, e.g. "influenza-target" or "eicu-Midwest". */
  name: string;
  concepts: Concept[];
  observationTypes: ObservationType[];
  encounters: EncounterTable;
  /** Raw label classes as the site codes them, e.g. ["I", "M", "P", "R"] or ["Alive", "Expired"]. */
  labelClasses: string[];
  /** Where it came from (adapter and files), for provenance. No rows. */
  provenance: { adapter: string; files: string[]; notes?: string[] };
}

export function observationValueKey(v: ObservationValue): string {
  switch (v.kind) {
    case "present":
      return "present";
    case "absent":
      return "absent";
    case "missing":
      return "missing";
    case "level":
      return `level:${v.level}`;
  }
}

/** Stable string key of a token: "<code>|<value>". Tokens of two sites with equal keys are the same code+value. */
export function tokenKey(code: string, v: ObservationValue): string {
  return `${code}|${observationValueKey(v)}`;
}

/** Ids of encounter i as a subarray view (no copy). */
export function encounterObservations(t: EncounterTable, i: number): Uint32Array {
  return t.observations.subarray(t.offsets[i], t.offsets[i + 1]);
}
