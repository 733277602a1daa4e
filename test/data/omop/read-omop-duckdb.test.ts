import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { parseOmopSettings, readOmopSite } from "../../../src/data/adapters/omop/read-omop.js";
import { encounterObservations, type SiteDataset, tokenKey } from "../../../src/data/types.js";
import { InputError } from "../../../src/util/errors.js";
import { extractSynthea, OMOP_TABLES } from "./synthea.js";

// Reference numbers come from test/data/omop/reference_counts.py (plain python3 csv, no SQL):
//   python3 test/data/omop/reference_counts.py <folder with the extracted Synthea27Nj_5.4 CSVs>
// default: visits 1791 persons 28 positive 19 clinical tokens 77709 concepts 409 visits without features 15
// inpatient+ER, [-30, end+0], sinusitis/pharyngitis: visits 69 persons 22 positive 2 clinical tokens 589 concepts 184
// all visits, death within 0 days: visits 1791 ... positive 3
// DEATH.csv has 3 persons; the visits span 59 distinct years.

let dir = "";
const work: string[] = [];
const scratch = (): string => {
  const d = mkdtempSync(join(tmpdir(), "conceptbridge-omop-test-"));
  work.push(d);
  return d;
};

before(() => {
  dir = extractSynthea();
  work.push(dir);
});
after(() => {
  for (const d of work) rmSync(d, { recursive: true, force: true });
});

function sum(a: Int32Array): number {
  return a.reduce((s, v) => s + v, 0);
}

/** Token keys of encounter i, sorted. */
function tokens(ds: SiteDataset, i: number): string[] {
  return [...encounterObservations(ds.encounters, i)]
    .map((t) => {
      const ot = ds.observationTypes[t];
      return tokenKey(ds.concepts[ot.concept].code, ot.value);
    })
    .sort();
}

describe("readOmopSite through DuckDB on Synthea27 (OMOP CDM 5.4 CSV)", () => {
  let ds: SiteDataset;
  before(async () => {
    ds = await readOmopSite({ source: { kind: "files", dir } }, { silent: true });
  });

  it("builds one encounter per inpatient/outpatient/ER visit with person groups and death labels", () => {
    const e = ds.encounters;
    assert.equal(e.count, 1791);
    assert.equal(e.groupNames.length, 28);
    assert.deepEqual(ds.labelClasses, ["Alive", "Expired"]);
    assert.equal(sum(e.labels), 19);
    const deadPersons = new Set<number>();
    for (let i = 0; i < e.count; i++) if (e.labels[i] === 1) deadPersons.add(e.groups[i]);
    assert.equal(deadPersons.size, 3);
    assert.equal(e.periodNames?.length, 59);
    assert.equal(e.offsets.length, e.count + 1);
  });

  it("counts the same feature tokens as the python reference, plus age and gender per visit", () => {
    const e = ds.encounters;
    const clinical = ds.concepts.filter((c) => c.code !== "age" && c.code !== "gender");
    assert.equal(clinical.length, 409);
    assert.equal(e.observations.length, 77709 + 2 * 1791);
    let withoutFeatures = 0;
    for (let i = 0; i < e.count; i++) if (e.offsets[i + 1] - e.offsets[i] === 2) withoutFeatures++;
    assert.equal(withoutFeatures, 15);
  });

  it("orders encounters by person, then visit date, and fills id, group, period and time", () => {
    const e = ds.encounters;
    // Person 1 (male, born 1998): first visit 21 on 2000-12-27; its year window holds only 4112343.
    assert.equal(e.ids[0], "21");
    assert.equal(e.groupNames[e.groups[0]], "1");
    assert.equal(e.periodNames?.[e.periods?.[0] ?? -1], "2000");
    assert.equal(e.times?.[0], Date.UTC(2000, 11, 27));
    assert.deepEqual(tokens(ds, 0), ["4112343|present", "age|level:0-17", "gender|level:8507"]);
    for (let i = 1; i < e.count; i++) {
      assert.ok(e.groups[i] >= e.groups[i - 1], `group order at ${i}`);
      if (e.groups[i] === e.groups[i - 1])
        assert.ok((e.times?.[i] ?? 0) >= (e.times?.[i - 1] ?? 0), `time at ${i}`);
    }
  });

  it("takes concept text from concept_name and keeps the source value in metadata", () => {
    const c = ds.concepts.find((x) => x.code === "4112343");
    assert.ok(c);
    assert.equal(c.text, "Acute viral pharyngitis");
    assert.equal(c.system, "SNOMED");
    assert.equal(c.metadata?.sourceValue, "195662009");
    assert.equal(c.metadata?.domainId, "Condition");
    const gender = ds.concepts.find((x) => x.code === "gender");
    assert.deepEqual(gender?.levelTexts, { "8507": "male", "8532": "female" });
  });

  it("applies visit types, window anchored at visit end and a concept-set outcome", async () => {
    const b = await readOmopSite(
      {
        source: { kind: "files", dir },
        visitConceptIds: [9201, 9203],
        window: { startDays: -30, endDays: 0, endAnchor: "visitEnd" },
        demographics: false,
        outcome: { kind: "conceptSet", conceptIds: [40481087, 4112343], days: 30 },
      },
      { silent: true },
    );
    assert.equal(b.encounters.count, 69);
    assert.equal(b.encounters.groupNames.length, 22);
    assert.deepEqual(b.labelClasses, ["No", "Yes"]);
    assert.equal(sum(b.encounters.labels), 2);
    assert.equal(b.encounters.observations.length, 589);
    assert.equal(b.concepts.length, 184);
  });

  it("takes all visit types, a 0-day death window and the source value as text", async () => {
    const c = await readOmopSite(
      {
        source: { kind: "files", dir },
        visitConceptIds: "all",
        text: "sourceValue",
        outcome: { kind: "death", days: 0 },
      },
      { silent: true },
    );
    assert.equal(c.encounters.count, 1791);
    assert.equal(sum(c.encounters.labels), 3);
    const pharyngitis = c.concepts.find((x) => x.code === "4112343");
    assert.equal(pharyngitis?.text, "195662009");
    assert.equal(pharyngitis?.metadata?.conceptName, "Acute viral pharyngitis");
  });

  it("reads the same dataset from typed Parquet files with lower-case names", async () => {
    const pq = scratch();
    const inst = await DuckDBInstance.create(":memory:");
    const conn = await inst.connect();
    for (const t of OMOP_TABLES) {
      const src = join(dir, `${t}.csv`).replaceAll("'", "''");
      const dst = join(pq, `${t.toLowerCase()}.parquet`).replaceAll("'", "''");
      await conn.run(`COPY (SELECT * FROM read_csv_auto('${src}')) TO '${dst}' (FORMAT parquet)`);
    }
    conn.closeSync();
    inst.closeSync();
    const fromParquet = await readOmopSite({ source: { kind: "files", dir: pq } }, { silent: true });
    assert.deepEqual({ ...fromParquet, name: "", provenance: null }, { ...ds, name: "", provenance: null });
  });
});

describe("readOmopSite input errors", () => {
  it("names a missing table", async () => {
    const d = scratch();
    for (const t of OMOP_TABLES) if (t !== "DEATH") copyFileSync(join(dir, `${t}.csv`), join(d, `${t}.csv`));
    await assert.rejects(
      readOmopSite({ source: { kind: "files", dir: d } }, { silent: true }),
      (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.match(e.message, /OMOP table "death" not found/);
        return true;
      },
    );
    // Without the death outcome the table is not needed.
    const ok = await readOmopSite(
      {
        source: { kind: "files", dir: d },
        outcome: { kind: "conceptSet", conceptIds: [4112343] },
        domains: ["condition"],
      },
      { silent: true },
    );
    assert.equal(ok.encounters.count, 1791);
  });

  it("names the table and the missing column", async () => {
    const d = scratch();
    for (const t of OMOP_TABLES) copyFileSync(join(dir, `${t}.csv`), join(d, `${t}.csv`));
    mkdirSync(join(d, "ignored"), { recursive: true });
    writeFileSync(
      join(d, "VISIT_OCCURRENCE.csv"),
      "visit_occurrence_id,person_id,visit_concept_id,visit_start_date\n1,1,9201,2020-01-01\n",
    );
    await assert.rejects(
      readOmopSite({ source: { kind: "files", dir: d } }, { silent: true }),
      (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.match(e.message, /OMOP table "visit_occurrence" has no column "visit_end_date"/);
        assert.equal(e.location.field, "visit_end_date");
        return true;
      },
    );
  });

  it("rejects a missing folder and invalid settings", async () => {
    await assert.rejects(
      readOmopSite(
        { source: { kind: "files", dir: join(tmpdir(), "no-such-omop-folder-xyz") } },
        { silent: true },
      ),
      /OMOP folder not found/,
    );
    assert.throws(
      () => parseOmopSettings({ source: { kind: "files", dir }, window: { startDays: 1.5 } }),
      (e: unknown) => e instanceof InputError && e.location.field === "window.startDays",
    );
    assert.throws(
      () => parseOmopSettings({ source: { kind: "files", dir }, ageBands: [65, 18] }),
      (e: unknown) => e instanceof InputError && /age bands must increase/.test(e.message),
    );
    const s = parseOmopSettings({ source: { kind: "postgres" } });
    assert.equal(s.source.kind === "postgres" && s.source.urlEnv, "CONCEPTBRIDGE_OMOP_PG_URL");
    assert.deepEqual(s.window, { startDays: -365, endDays: 0, endAnchor: "visitStart" });
  });
});
