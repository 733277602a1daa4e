import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import pg from "pg";
import { parseCsv } from "../../../src/data/csv.js";
import { sharedData } from "../../../src/util/paths.js";

/** The OMOP CDM 5.4 sample of ../shared/data (27 synthetic persons, CSV tables in a zip). */
export const SYNTHEA_ZIP = sharedData("omop-synthea27", "Synthea27Nj_5.4.zip");

/** The tables the adapter reads (CONCEPT_RELATIONSHIP etc. are left in the zip). */
export const OMOP_TABLES = [
  "PERSON",
  "VISIT_OCCURRENCE",
  "CONDITION_OCCURRENCE",
  "DRUG_EXPOSURE",
  "PROCEDURE_OCCURRENCE",
  "MEASUREMENT",
  "OBSERVATION",
  "DEATH",
  "CONCEPT",
] as const;

/**
 * Extract files from a zip into `dest` with node:zlib. Hand-written (~30 lines) because no zip
 * library is a dependency and `unzip` is not guaranteed on CI; handles stored and deflated entries of
 * a plain (non-ZIP64) archive, which is what this sample is.
 */
export function extractZip(zipPath: string, dest: string, keep: (name: string) => boolean): string[] {
  const zip = readFileSync(zipPath);
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error(`${zipPath}: no zip end-of-central-directory record`);
  const entries = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const written: string[] = [];
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipPath}: bad central directory entry ${i}`);
    const method = zip.readUInt16LE(p + 10);
    const compressed = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.toString("utf8", p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith("/") || !keep(name)) continue;
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataStart, dataStart + compressed);
    const data = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : null;
    if (data === null) throw new Error(`${zipPath}: ${name} uses unsupported compression ${method}`);
    const out = join(dest, name);
    writeFileSync(out, data);
    written.push(out);
  }
  return written;
}

/** Extract the sample's OMOP tables into a fresh temp folder (never into the repository). */
export function extractSynthea(): string {
  const dir = mkdtempSync(join(tmpdir(), "conceptbridge-synthea27-"));
  mkdirSync(dir, { recursive: true });
  const want = new Set<string>(OMOP_TABLES.map((t) => `${t}.csv`));
  const files = extractZip(SYNTHEA_ZIP, dir, (name) => want.has(name));
  if (files.length !== OMOP_TABLES.length)
    throw new Error(`expected ${OMOP_TABLES.length} tables, got ${files.length}`);
  return dir;
}

/** Column types as the OMOP CDM 5.4 DDL gives them (the columns of these tables, by naming rule). */
function columnType(col: string): string {
  if (["vocabulary_id", "domain_id", "concept_class_id"].includes(col)) return "varchar(50)";
  if (col.endsWith("_id")) return "bigint";
  if (col.endsWith("_datetime")) return "timestamp";
  if (col.endsWith("_date")) return "date";
  if (["year_of_birth", "month_of_birth", "day_of_birth", "refills", "days_supply"].includes(col))
    return "integer";
  if (["value_as_number", "range_low", "range_high", "quantity"].includes(col)) return "numeric";
  return "text";
}

/**
 * Load the extracted CSV tables into `schema` (created fresh) of a PostgreSQL database, with typed
 * columns like a real OMOP installation. Rows go in as batched parameterised INSERTs: COPY FROM a
 * server file needs superuser rights and COPY FROM STDIN needs an extra package (pg-copy-streams).
 * Empty CSV fields become NULL, as in OMOP CSV exports.
 */
export async function loadIntoPostgres(url: string, schema: string, dir: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.query(`CREATE SCHEMA "${schema}"`);
    for (const table of OMOP_TABLES) {
      const file = join(dir, `${table}.csv`);
      const rows: (string | null)[][] = [];
      let header: string[] = [];
      parseCsv(readFileSync(file, "utf8"), file, (fields, line) => {
        if (line === 1) header = fields;
        else rows.push(fields.map((f) => (f === "" ? null : f)));
      });
      const name = `"${schema}"."${table.toLowerCase()}"`;
      await client.query(`CREATE TABLE ${name} (${header.map((c) => `${c} ${columnType(c)}`).join(", ")})`);
      const perBatch = Math.floor(30_000 / header.length);
      for (let start = 0; start < rows.length; start += perBatch) {
        const batch = rows.slice(start, start + perBatch);
        const values = batch.map(
          (_, r) => `(${header.map((__, c) => `$${r * header.length + c + 1}`).join(", ")})`,
        );
        await client.query(`INSERT INTO ${name} VALUES ${values.join(", ")}`, batch.flat());
      }
    }
  } finally {
    await client.end();
  }
}

/** Drop a schema made by loadIntoPostgres. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
