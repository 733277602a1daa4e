import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { readOmopSite } from "../../src/data/adapters/omop/read-omop.js";

/**
 * A large OMOP site through DuckDB: 1,000,000 condition_occurrence rows of 50,000 persons with
 * 250,000 visits and 5,000 concepts, written as Parquet by DuckDB itself (generate_series + hash, so
 * the data are the same on every run), read into a SiteDataset in a child process so that its peak
 * RSS is the reader's alone. Targets: < 30 s and < 1 GB peak RSS.
 */
const PERSONS = 50_000;
const VISITS = 250_000;
const CONDITIONS = 1_000_000;
const CONCEPTS = 5_000;

export async function generateOmopBenchSite(dir: string): Promise<void> {
  const inst = await DuckDBInstance.create(":memory:");
  const c = await inst.connect();
  const out = (name: string) => `'${join(dir, `${name}.parquet`).replaceAll("'", "''")}'`;
  // hash(i) is DuckDB's deterministic 64-bit hash: a fixed pseudo-random value per row.
  const r = (expr: string, n: number) => `CAST(hash(${expr}) % ${n} AS INTEGER)`;
  await c.run(`COPY (
    SELECT i AS person_id, CASE WHEN i % 2 = 0 THEN 8507 ELSE 8532 END AS gender_concept_id,
      1930 + ${r("i", 80)} AS year_of_birth, CASE WHEN i % 2 = 0 THEN 'M' ELSE 'F' END AS gender_source_value
    FROM generate_series(1, ${PERSONS}) t(i)) TO ${out("person")} (FORMAT parquet)`);
  await c.run(`COPY (
    SELECT i AS visit_occurrence_id, 1 + ${r("i * 7", PERSONS)} AS person_id,
      [9201, 9202, 9203][1 + ${r("i * 11", 3)}] AS visit_concept_id,
      DATE '2015-01-01' + ${r("i", 3650)} AS visit_start_date,
      DATE '2015-01-01' + ${r("i", 3650)} + ${r("i * 13", 10)} AS visit_end_date
    FROM generate_series(1, ${VISITS}) t(i)) TO ${out("visit_occurrence")} (FORMAT parquet)`);
  await c.run(`COPY (
    SELECT i AS condition_occurrence_id, 1 + ${r("i", PERSONS)} AS person_id,
      100000 + ${r("i * 3", CONCEPTS)} AS condition_concept_id,
      DATE '2014-01-01' + ${r("i * 5", 4000)} AS condition_start_date,
      'SRC' || CAST(100000 + ${r("i * 3", CONCEPTS)} AS VARCHAR) AS condition_source_value
    FROM generate_series(1, ${CONDITIONS}) t(i)) TO ${out("condition_occurrence")} (FORMAT parquet)`);
  await c.run(`COPY (
    SELECT 100000 + k AS concept_id, 'Synthetic condition ' || CAST(k AS VARCHAR) AS concept_name,
      'SNOMED' AS vocabulary_id, CAST(k AS VARCHAR) AS concept_code, 'Condition' AS domain_id
    FROM generate_series(0, ${CONCEPTS - 1}) t(k)) TO ${out("concept")} (FORMAT parquet)`);
  await c.run(`COPY (
    SELECT i AS person_id, DATE '2015-01-01' + ${r("i * 17", 3650)} AS death_date
    FROM generate_series(1, ${PERSONS}) t(i) WHERE i % 50 = 0) TO ${out("death")} (FORMAT parquet)`);
  c.closeSync();
  inst.closeSync();
}

/** Child: read the site, print one JSON line with the numbers. */
async function child(dir: string): Promise<void> {
  const t0 = performance.now();
  const ds = await readOmopSite({ source: { kind: "files", dir }, domains: ["condition"] }, { silent: true });
  const seconds = (performance.now() - t0) / 1000;
  const e = ds.encounters;
  process.stdout.write(
    `${JSON.stringify({
      seconds,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      encounters: e.count,
      observations: e.observations.length,
      concepts: ds.concepts.length,
      positives: e.labels.reduce((s, v) => s + v, 0),
    })}\n`,
  );
}

export async function run(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), "conceptbridge-omop-bench-"));
  try {
    const g0 = performance.now();
    await generateOmopBenchSite(dir);
    const generateSeconds = (performance.now() - g0) / 1000;
    const self = fileURLToPath(import.meta.url);
    const res = spawnSync(process.execPath, ["--import", "tsx", self, "--omop-bench-child", dir], {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    });
    if (res.status !== 0) throw new Error(`omop bench child failed (${res.status}): ${res.stderr}`);
    const m = JSON.parse(res.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, number>;
    return {
      omop_generate_seconds: generateSeconds,
      omop_read_seconds: m.seconds,
      omop_read_peak_rss_mb: m.peakRssMb,
      omop_encounters: m.encounters,
      omop_observations: m.observations,
      omop_concepts: m.concepts,
      omop_condition_rows: CONDITIONS,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--omop-bench-child" && process.argv[3]) {
  await child(process.argv[3]);
}
