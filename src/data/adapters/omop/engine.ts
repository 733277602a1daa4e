import type { OmopTable } from "./tables.js";

/** One result row: every column is selected as VARCHAR, so both engines hand back strings or null. */
export type SqlRow = (string | null)[];

/**
 * What the OMOP reader needs from a database. The SQL is written once (see sql.ts); an engine only
 * says how a table is named and how rows are streamed, so DuckDB and PostgreSQL run identical text.
 */
export interface SqlEngine {
  /** "omop-duckdb" or "omop-postgres", for provenance. */
  readonly adapter: string;
  /** Where the data came from, with no secret in it (folder path, or URL with the password masked). */
  readonly description: string;
  /** A relation expression for a table, safe to paste into SQL (a view name or a quoted schema.table). */
  relation(table: OmopTable): string;
  /**
   * Make the tables queryable and check them first: throws InputError naming the table (and column)
   * when a table or one of its columns is missing.
   */
  prepare(required: Map<OmopTable, string[]>): Promise<void>;
  /** Run a query and hand its rows over in bounded batches, in result order. */
  stream(sql: string, onRows: (rows: SqlRow[]) => void): Promise<void>;
  close(): Promise<void>;
}

/** Quote an SQL string literal (single quotes doubled): the same rule in DuckDB and PostgreSQL. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** Quote an identifier (double quotes doubled): the same rule in DuckDB and PostgreSQL. */
export function sqlIdentifier(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}
