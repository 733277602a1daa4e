import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { redactConnection } from "../../../src/data/adapters/omop/postgres-engine.js";
import { readOmopSite } from "../../../src/data/adapters/omop/read-omop.js";
import type { OmopSettingsInput } from "../../../src/data/adapters/omop/settings.js";
import type { SiteDataset } from "../../../src/data/types.js";
import { InputError } from "../../../src/util/errors.js";
import { dropSchema, extractSynthea, loadIntoPostgres } from "./synthea.js";

/**
 * The PostgreSQL path against the DuckDB path on the same Synthea27 tables. Needs a server whose URL
 * (a role allowed to create schemas) is in CONCEPTBRIDGE_TEST_PG_URL: .ci/run starts one with
 * scripts/ci-postgres.sh; locally run `export CONCEPTBRIDGE_TEST_PG_URL="$(scripts/ci-postgres.sh)"`.
 * A separate variable from the adapter's CONCEPTBRIDGE_OMOP_PG_URL so that tests never create schemas
 * in a real site's database.
 */
const URL_ENV = "CONCEPTBRIDGE_TEST_PG_URL";
const url = process.env[URL_ENV];
const inCi = process.env.CI === "true";
const skip = url
  ? false
  : `${URL_ENV} is not set (start a server: export ${URL_ENV}="$(scripts/ci-postgres.sh)")`;
if (skip && !inCi) console.error(`# skipping OMOP PostgreSQL tests: ${skip}`);

function rejectsInput(p: Promise<unknown>, pattern: RegExp, secrets: string[] = []): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    assert.match(e.message, pattern);
    for (const s of secrets) assert.ok(!e.message.includes(s), `message echoes a secret: ${e.message}`);
    return true;
  });
}

/** A dataset without what legitimately differs between the two paths (name, adapter, source text). */
function comparable(ds: SiteDataset): unknown {
  return { ...ds, name: "", provenance: { ...ds.provenance, adapter: "", files: [] } };
}

describe("OMOP PostgreSQL connection errors (no server needed)", () => {
  it("reports an unreachable server without echoing the password", async () => {
    process.env.CONCEPTBRIDGE_TEST_PG_NOWHERE = "postgresql://alice:s3cret-Pw@127.0.0.1:1/omop";
    await rejectsInput(
      readOmopSite(
        { source: { kind: "postgres", urlEnv: "CONCEPTBRIDGE_TEST_PG_NOWHERE" } },
        { silent: true },
      ),
      /cannot reach PostgreSQL server at 127\.0\.0\.1:1 \(ECONNREFUSED\)/,
      ["s3cret-Pw"],
    );
  });

  it("names the environment variable when it is not set", async () => {
    delete process.env.CONCEPTBRIDGE_TEST_PG_UNSET;
    await rejectsInput(
      readOmopSite({ source: { kind: "postgres", urlEnv: "CONCEPTBRIDGE_TEST_PG_UNSET" } }, { silent: true }),
      /environment variable CONCEPTBRIDGE_TEST_PG_UNSET is not set/,
    );
  });

  it("masks raw and percent-encoded passwords", () => {
    const c = redactConnection("postgresql://bob:p%40ss%2Fw0rd@db.example.org:6543/cdm?sslmode=disable");
    assert.equal(c.display, "postgresql://bob@db.example.org:6543/cdm");
    assert.equal(c.host, "db.example.org:6543");
    assert.equal(c.redact("failed for p@ss/w0rd and p%40ss%2Fw0rd"), "failed for *** and ***");
    const kv = redactConnection("host=db user=bob password=hunter2 dbname=cdm");
    assert.equal(kv.redact("password=hunter2"), "password=***");
  });
});

describe("OMOP adapter: PostgreSQL and DuckDB give identical datasets", { skip: inCi ? false : skip }, () => {
  const schema = `cb_omop_test_${process.pid}`;
  const brokenSchema = `${schema}_broken`;
  let dir = "";

  before(async () => {
    if (!url) assert.fail(`CI must provide a PostgreSQL server: ${skip}`);
    dir = extractSynthea();
    await loadIntoPostgres(url, schema, dir);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`CREATE SCHEMA "${brokenSchema}"`);
    await client.query(
      `CREATE TABLE "${brokenSchema}".visit_occurrence (visit_occurrence_id bigint, person_id bigint)`,
    );
    await client.end();
  });
  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (url) {
      await dropSchema(url, schema);
      await dropSchema(url, brokenSchema);
    }
  });

  const both = async (settings: Omit<OmopSettingsInput, "source">): Promise<[SiteDataset, SiteDataset]> => {
    const fromFiles = await readOmopSite({ ...settings, source: { kind: "files", dir } }, { silent: true });
    const fromPg = await readOmopSite(
      { ...settings, source: { kind: "postgres", urlEnv: URL_ENV, schema, fetchRows: 500 } },
      { silent: true },
    );
    return [fromFiles, fromPg];
  };

  it("default cohort: inpatient/outpatient/ER visits, [-365, 0] window, 30-day death", async () => {
    const [a, b] = await both({});
    assert.equal(b.provenance.adapter, "omop-postgres");
    assert.equal(b.encounters.count, 1791);
    assert.equal(
      b.encounters.labels.reduce((s, v) => s + v, 0),
      19,
    );
    assert.deepEqual(comparable(b), comparable(a));
  });

  it("visit-end window, concept-set outcome, source values as text, no demographics", async () => {
    const [a, b] = await both({
      visitConceptIds: [9201, 9203],
      window: { startDays: -30, endDays: 0, endAnchor: "visitEnd" },
      text: "sourceValue",
      demographics: false,
      outcome: { kind: "conceptSet", conceptIds: [40481087, 4112343], days: 30 },
    });
    assert.equal(b.encounters.count, 69);
    assert.equal(b.encounters.observations.length, 589);
    assert.deepEqual(comparable(b), comparable(a));
  });

  it("names a missing table and a missing column", async () => {
    await rejectsInput(
      readOmopSite(
        { source: { kind: "postgres", urlEnv: URL_ENV, schema: `${schema}_nothing` } },
        { silent: true },
      ),
      new RegExp(`OMOP table "${schema}_nothing\\.visit_occurrence" not found`),
    );
    await rejectsInput(
      readOmopSite({ source: { kind: "postgres", urlEnv: URL_ENV, schema: brokenSchema } }, { silent: true }),
      new RegExp(`OMOP table "${brokenSchema}\\.visit_occurrence" has no column "visit_concept_id"`),
    );
  });

  it("reports rejected credentials without echoing either password", async () => {
    const real = new URL(url ?? "");
    const realPassword = decodeURIComponent(real.password);
    const wrong = "Wr0ng-Pa55word-42";
    real.password = wrong;
    process.env.CONCEPTBRIDGE_TEST_PG_BAD = real.toString();
    await rejectsInput(
      readOmopSite(
        { source: { kind: "postgres", urlEnv: "CONCEPTBRIDGE_TEST_PG_BAD", schema } },
        { silent: true },
      ),
      new RegExp(`PostgreSQL rejected the credentials of user "${decodeURIComponent(real.username)}"`),
      [wrong, ...(realPassword ? [realPassword] : [])],
    );
  });
});
