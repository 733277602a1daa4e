import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { InputError } from "../../../util/errors.js";
import { type SqlEngine, type SqlRow, sqlIdentifier, sqlString } from "./engine.js";
import type { OmopSettings } from "./settings.js";
import type { OmopTable } from "./tables.js";

type FilesSource = Extract<OmopSettings["source"], { kind: "files" }>;

/** The files holding one table: CSV (optionally gzipped/tab-separated) or Parquet. */
interface TableFiles {
  format: "csv" | "parquet";
  files: string[];
}

const CSV_SUFFIXES = [".csv", ".csv.gz", ".tsv", ".tsv.gz"];
const PARQUET_SUFFIXES = [".parquet", ".pq"];

function suffixOf(name: string, suffixes: string[]): string | undefined {
  const lower = name.toLowerCase();
  return suffixes.find((s) => lower.endsWith(s));
}

/**
 * Find a table's files in `dir`, case-insensitively: `<table>.csv`, `PERSON.csv.gz`, `person.parquet`,
 * or a folder `<table>/` of such files (how Spark and many exports write big tables).
 */
export function findTableFiles(
  dir: string,
  table: OmopTable,
  format: FilesSource["format"],
): TableFiles | undefined {
  const found: Record<"csv" | "parquet", string[]> = { csv: [], parquet: [] };
  const classify = (path: string, name: string, base: string | null) => {
    for (const [fmt, suffixes] of [
      ["csv", CSV_SUFFIXES],
      ["parquet", PARQUET_SUFFIXES],
    ] as const) {
      const suffix = suffixOf(name, suffixes);
      if (suffix === undefined) continue;
      if (base === null || name.slice(0, -suffix.length).toLowerCase() === base) found[fmt].push(path);
    }
  };
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name.toLowerCase() === table && statSync(path).isDirectory()) {
      for (const inner of readdirSync(path).sort()) classify(join(path, inner), inner, null);
    } else {
      classify(path, name, table);
    }
  }
  const order: ("csv" | "parquet")[] =
    format === "csv" ? ["csv"] : format === "parquet" ? ["parquet"] : ["parquet", "csv"];
  for (const fmt of order) if (found[fmt].length > 0) return { format: fmt, files: found[fmt] };
  return undefined;
}

/**
 * OMOP tables in a folder, queried by embedded DuckDB: a Parquet table becomes a view over its files,
 * a CSV table is loaded once (needed columns only). CSV is read with every column as VARCHAR (the
 * shared SQL casts what it uses), so a late odd value cannot break DuckDB's type sniffing halfway
 * through a big file.
 */
export class DuckDbFolderEngine implements SqlEngine {
  readonly adapter = "omop-duckdb";
  readonly description: string;

  private constructor(
    private readonly source: FilesSource,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly spillDir: string,
  ) {
    this.description = source.dir;
  }

  static async open(source: FilesSource): Promise<DuckDbFolderEngine> {
    if (!existsSync(source.dir) || !statSync(source.dir).isDirectory()) {
      throw new InputError("OMOP folder not found (expected a folder with one file per CDM table)", {
        file: source.dir,
      });
    }
    const spillDir = mkdtempSync(join(tmpdir(), "conceptbridge-duckdb-"));
    const options: Record<string, string> = { memory_limit: source.memoryLimit, temp_directory: spillDir };
    if (source.threads !== undefined) options.threads = String(source.threads);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(":memory:", options);
    } catch (e) {
      rmSync(spillDir, { recursive: true, force: true });
      throw new InputError(`cannot start DuckDB: ${errorText(e)}`, { field: "source.memoryLimit" });
    }
    const connection = await instance.connect();
    return new DuckDbFolderEngine(source, instance, connection, spillDir);
  }

  relation(table: OmopTable): string {
    return sqlIdentifier(table);
  }

  async prepare(required: Map<OmopTable, string[]>): Promise<void> {
    for (const [table, columns] of required) {
      const files = findTableFiles(this.source.dir, table, this.source.format);
      if (!files) {
        const want = this.source.format === "auto" ? "CSV or Parquet" : this.source.format;
        throw new InputError(
          `OMOP table "${table}" not found: no ${want} file named ${table}.* (any case) or folder ${table}/`,
          {
            file: this.source.dir,
          },
        );
      }
      const list = `[${files.files.map(sqlString).join(", ")}]`;
      const reader =
        files.format === "csv"
          ? `read_csv(${list}, header = true, all_varchar = true, union_by_name = true)`
          : `read_parquet(${list}, union_by_name = true)`;
      const cols = columns.map(sqlIdentifier).join(", ");
      // Parquet is columnar and cheap to rescan: a view. CSV is parsed (and its dialect sniffed) once
      // into a table of just the needed columns, instead of once per query; DuckDB spills that table
      // to the temp folder beyond memoryLimit.
      const kind = files.format === "csv" ? "TABLE" : "VIEW";
      try {
        await this.connection.run(`CREATE ${kind} ${sqlIdentifier(table)} AS SELECT ${cols} FROM ${reader}`);
      } catch (e) {
        // Only on failure look at the header (another sniffing pass) to name the missing column.
        const missing = await this.missingColumn(reader, columns);
        if (missing !== undefined) {
          throw new InputError(`OMOP table "${table}" has no column "${missing}"`, {
            file: files.files[0],
            field: missing,
          });
        }
        throw new InputError(`cannot read OMOP table "${table}": ${errorText(e)}`, { file: files.files[0] });
      }
    }
  }

  private async missingColumn(reader: string, columns: string[]): Promise<string | undefined> {
    try {
      const probe = await this.connection.runAndReadAll(`SELECT * FROM ${reader} LIMIT 0`);
      // DuckDB identifiers are case-insensitive, so PERSON_ID in a header is person_id.
      const have = new Set(probe.columnNames().map((c) => c.toLowerCase()));
      return columns.find((c) => !have.has(c));
    } catch {
      return undefined;
    }
  }

  async stream(sql: string, onRows: (rows: SqlRow[]) => void): Promise<void> {
    let result: Awaited<ReturnType<DuckDBConnection["stream"]>>;
    try {
      result = await this.connection.stream(sql);
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        onRows(chunk.getRows().map((row) => row.map((v) => (v === null ? null : String(v)))));
      }
    } catch (e) {
      if (e instanceof InputError) throw e;
      // Bad values (a date column holding "n/a") surface here as conversion errors.
      throw new InputError(`OMOP query failed: ${errorText(e)}`, { file: this.description });
    }
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
    rmSync(this.spillDir, { recursive: true, force: true });
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
