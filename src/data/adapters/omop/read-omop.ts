import { basename, resolve } from "node:path";
import { own } from "../../../util/dict.js";
import { InputError } from "../../../util/errors.js";
import { parseInput } from "../../../util/parse-input.js";
import { createProgress } from "../../../util/progress.js";
import { SiteDatasetBuilder } from "../../builder.js";
import type { Concept, ObservationValue, SiteDataset } from "../../types.js";
import type { SqlEngine, SqlRow } from "./engine.js";
import { type OmopSettings, type OmopSettingsInput, OmopSettingsSchema, outcomeClasses } from "./settings.js";
import { cohortCountQuery, conceptsQuery, encountersQuery, genderQuery } from "./sql.js";
import { requiredColumns } from "./tables.js";

export interface ReadOmopOptions {
  /** No progress output (tests). */
  silent?: boolean;
  /** Where the settings came from, for error messages (e.g. "spec.yaml: sites.A.adapter"). */
  settingsFile?: string;
}

/** Validate OMOP settings (defaults filled in); a bad value is an InputError naming the setting. */
export function parseOmopSettings(input: unknown, settingsFile?: string): OmopSettings {
  return parseInput(OmopSettingsSchema, input, {
    ...(settingsFile !== undefined ? { file: settingsFile } : {}),
    what: "OMOP settings",
  });
}

/**
 * Read an OMOP CDM site (a folder of CSV/Parquet through DuckDB, or a PostgreSQL schema) into a
 * SiteDataset: one encounter per cohort visit, its feature concepts as "present" tokens, outcome
 * label, person as group, visit year as period. Semantics: see settings.ts. Both paths run the same
 * SQL with the same ORDER BY, so they give identical datasets.
 */
export async function readOmopSite(
  input: OmopSettingsInput,
  opts: ReadOmopOptions = {},
): Promise<SiteDataset> {
  const s = parseOmopSettings(input, opts.settingsFile);
  // Each database client is loaded only when a site reads through it (DuckDB's native module alone
  // is tens of MB a process would otherwise map at start-up).
  const engine: SqlEngine =
    s.source.kind === "files"
      ? await (await import("./duckdb-engine.js")).DuckDbFolderEngine.open({
          ...s.source,
          dir: resolve(s.source.dir),
        })
      : await (await import("./postgres-engine.js")).PostgresEngine.open(s.source);
  try {
    await engine.prepare(requiredColumns(s));
    return await readWithEngine(s, engine, opts);
  } finally {
    await engine.close();
  }
}

/** Concept-table facts of one site concept. */
interface ConceptFacts {
  name: string | null;
  vocabulary: string | null;
  code: string | null;
  domain: string | null;
  sourceValue: string | null;
}

const PRESENT: ObservationValue = { kind: "present" };

/** OMOP's standard gender concepts, for sites whose concept table leaves out the Gender domain. */
const STANDARD_GENDERS: Record<string, string> = {
  "8507": "male",
  "8532": "female",
  "8521": "other",
  "8551": "unknown",
  "8570": "ambiguous",
};

/** Among equally frequent source values take the smallest by code points: engine- and collation-free. */
function preferSourceValue(current: string | null, candidate: string | null): string | null {
  if (candidate === null) return current;
  if (current === null) return candidate;
  return candidate < current ? candidate : current;
}

async function readSiteConcepts(s: OmopSettings, engine: SqlEngine): Promise<Map<string, ConceptFacts>> {
  const facts = new Map<string, ConceptFacts>();
  await engine.stream(
    conceptsQuery(s, (t) => engine.relation(t)),
    (rows) => {
      for (const [id, name, vocabulary, code, domain, sourceValue] of rows) {
        if (id === null) continue;
        const prev = facts.get(id);
        if (prev) prev.sourceValue = preferSourceValue(prev.sourceValue, sourceValue);
        else facts.set(id, { name, vocabulary, code, domain, sourceValue });
      }
    },
  );
  return facts;
}

function clinicalConcept(s: OmopSettings, id: string, f: ConceptFacts): Concept {
  const fallback = `OMOP concept ${id}`;
  const text =
    s.text === "conceptName" ? (f.name ?? f.sourceValue ?? fallback) : (f.sourceValue ?? f.name ?? fallback);
  const metadata: Record<string, string> = { conceptId: id };
  if (f.name !== null) metadata.conceptName = f.name;
  if (f.vocabulary !== null) metadata.vocabularyId = f.vocabulary;
  if (f.code !== null) metadata.conceptCode = f.code;
  if (f.domain !== null) metadata.domainId = f.domain;
  if (f.sourceValue !== null) metadata.sourceValue = f.sourceValue;
  return { code: id, text, system: f.vocabulary ?? "OMOP", metadata };
}

/** Age band levels: [18, 45, 65] -> "0-17", "18-44", "45-64", "65+". */
function ageBandLevels(bands: number[]): { levels: string[]; texts: Record<string, string> } {
  const levels: string[] = [];
  const texts: Record<string, string> = {};
  const lows = [0, ...bands];
  lows.forEach((lo, i) => {
    const hi = i + 1 < lows.length ? lows[i + 1] - 1 : null;
    const level = hi === null ? `${lo}+` : `${lo}-${hi}`;
    levels.push(level);
    texts[level] = hi === null ? `age ${lo} years or older` : `age ${lo} to ${hi} years`;
  });
  return { levels, texts };
}

function ageBandIndex(age: number, bands: number[]): number {
  let i = 0;
  while (i < bands.length && age >= bands[i]) i++;
  return i;
}

async function readGenderTexts(engine: SqlEngine): Promise<Record<string, string>> {
  const best = new Map<string, { name: string | null; source: string | null; n: number }>();
  await engine.stream(
    genderQuery((t) => engine.relation(t)),
    (rows) => {
      for (const [id, name, source, n] of rows) {
        if (id === null) continue;
        const count = Number(n);
        const prev = best.get(id);
        if (
          !prev ||
          count > prev.n ||
          (count === prev.n && preferSourceValue(prev.source, source) !== prev.source)
        ) {
          best.set(id, { name, source, n: count });
        }
      }
    },
  );
  const texts: Record<string, string> = {};
  for (const [id, b] of best) {
    texts[id] = (
      b.name ??
      own(STANDARD_GENDERS, id) ??
      (b.source !== null ? `gender ${b.source}` : `gender concept ${id}`)
    )
      .toLowerCase()
      .trim();
  }
  return texts;
}

async function readWithEngine(
  s: OmopSettings,
  engine: SqlEngine,
  opts: ReadOmopOptions,
): Promise<SiteDataset> {
  const facts = await readSiteConcepts(s, engine);
  const classes = outcomeClasses(s.outcome);
  const name =
    s.name ?? (s.source.kind === "files" ? basename(resolve(s.source.dir)) : `omop-${s.source.schema}`);
  const b = new SiteDatasetBuilder(name, { labelClasses: classes });

  // Concepts enter the catalog on first use, so it holds exactly the concepts some encounter has.
  const typeOfConcept = new Map<number, number>();
  const clinicalType = (id: number): number => {
    let t = typeOfConcept.get(id);
    if (t === undefined) {
      const code = String(id);
      const f = facts.get(code);
      if (!f) throw new Error(`OMOP concept ${code} occurs in a visit window but not in the concept scan`);
      t = b.typeId(b.addConcept(clinicalConcept(s, code, f)), PRESENT);
      typeOfConcept.set(id, t);
    }
    return t;
  };
  // Concept ids of one visit, ascending: the database returns them unordered (see sql.ts).
  const idBuffer: number[] = [];
  const sortedIds = (list: string): number[] => {
    idBuffer.length = 0;
    for (const part of list.split(" ")) {
      const id = Number(part);
      if (!Number.isSafeInteger(id)) {
        throw new InputError(`concept id "${part}" is not an integer`, { file: engine.description });
      }
      idBuffer.push(id);
    }
    return idBuffer.sort((x, y) => x - y);
  };
  const age = ageBandLevels(s.ageBands);
  const genderTexts = s.demographics ? await readGenderTexts(engine) : {};
  let ageConcept = -1;
  let genderConcept = -1;
  const levelType = (which: "age" | "gender", level: string): number => {
    if (which === "age") {
      if (ageConcept < 0) {
        ageConcept = b.addConcept({
          code: "age",
          text: "age group",
          system: "OMOP person",
          levelTexts: age.texts,
        });
      }
      return b.typeId(ageConcept, { kind: "level", level });
    }
    if (genderConcept < 0) {
      genderConcept = b.addConcept({
        code: "gender",
        text: "gender",
        system: "OMOP person",
        levelTexts: genderTexts,
      });
    }
    return b.typeId(genderConcept, { kind: "level", level });
  };

  let total = 0;
  await engine.stream(
    cohortCountQuery(s, (t) => engine.relation(t)),
    (rows) => {
      total = Number(rows[0]?.[0] ?? 0);
    },
  );
  const progress = createProgress({ label: `OMOP ${name}: visits`, total, silent: opts.silent });
  const onRows = (rows: SqlRow[]) => {
    for (const [visitId, personId, startDay, year, label, conceptIds, ageYears, gender] of rows) {
      if (visitId === null || personId === null || startDay === null || year === null) {
        throw new InputError(
          "a visit_occurrence row lacks visit_occurrence_id, person_id or visit_start_date",
          { file: engine.description, field: "visit_occurrence" },
        );
      }
      b.beginEncounter(visitId, {
        label: classes[label === "1" ? 1 : 0],
        group: personId,
        period: year,
        time: Number(startDay) * 86_400_000,
      });
      if (conceptIds !== null) for (const id of sortedIds(conceptIds)) b.addObservation(clinicalType(id));
      if (s.demographics) {
        if (ageYears !== null) {
          b.addObservation(levelType("age", age.levels[ageBandIndex(Number(ageYears), s.ageBands)]));
        }
        if (gender !== null && gender !== "0") b.addObservation(levelType("gender", gender));
      }
    }
    progress.tick(rows.length);
  };
  await engine.stream(
    encountersQuery(s, (t) => engine.relation(t)),
    onRows,
  );
  progress.done(`${b.encounterCount} visits, ${b.concepts.length} concepts`);

  const visitTypes = s.visitConceptIds === "all" ? "all" : s.visitConceptIds.join(",");
  const anchor = s.window.endAnchor === "visitStart" ? "visit start" : "visit end";
  const outcome =
    s.outcome.kind === "death"
      ? `death from visit start to ${s.outcome.days} days after visit end`
      : `concepts ${s.outcome.conceptIds.join(",")} after the window, up to ${s.outcome.days} days after visit end`;
  return b.build({
    adapter: engine.adapter,
    files: [engine.description],
    notes: [
      `visit_concept_id: ${visitTypes}`,
      `window: visit start ${s.window.startDays} days to ${anchor} ${s.window.endDays >= 0 ? "+" : ""}${s.window.endDays} days`,
      `domains: ${s.domains.join(",")}; text: ${s.text}; demographics: ${s.demographics}`,
      `outcome: ${outcome}`,
    ],
  });
}
