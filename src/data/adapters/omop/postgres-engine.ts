import pg from "pg";
import { InputError } from "../../../util/errors.js";
import { type SqlEngine, type SqlRow, sqlIdentifier } from "./engine.js";
import type { OmopSettings } from "./settings.js";
import type { OmopTable } from "./tables.js";

type PostgresSource = Extract<OmopSettings["source"], { kind: "postgres" }>;

/** What we may say about a connection string: everything but the password. */
export interface RedactedConnection {
  /** e.g. "postgresql://omop@db.example.org:5432/cdm" */
  display: string;
  host: string;
  user: string;
  /** Replaces every form of the password (raw, URL-decoded) in a text by "***". */
  redact(text: string): string;
}

/** Parse enough of a connection URL (or key=value string) to describe it without its secret. */
export function redactConnection(url: string): RedactedConnection {
  const secrets = new Set<string>();
  let host = "localhost";
  let user = "";
  let display = "postgresql://(key=value connection string)";
  try {
    const u = new URL(url);
    if (u.password) {
      secrets.add(u.password);
      secrets.add(decodeURIComponent(u.password));
    }
    host = `${u.hostname || "localhost"}:${u.port || "5432"}`;
    user = decodeURIComponent(u.username);
    display = `${u.protocol}//${u.username ? `${u.username}@` : ""}${u.host}${u.pathname}`;
  } catch {
    for (const m of url.matchAll(/password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/g)) {
      secrets.add(m[1]);
      secrets.add(m[1].replace(/^'|'$/g, ""));
    }
    host = /host\s*=\s*(\S+)/.exec(url)?.[1] ?? host;
    user = /user\s*=\s*(\S+)/.exec(url)?.[1] ?? user;
  }
  const list = [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  return {
    display,
    host,
    user,
    redact: (text) => list.reduce((t, s) => t.split(s).join("***"), text),
  };
}

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EAI_AGAIN",
]);

function errorCode(e: unknown): string | undefined {
  if (typeof e === "object" && e !== null && "code" in e && typeof e.code === "string") return e.code;
  return undefined;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/**
 * OMOP tables in a PostgreSQL schema, read through `pg`. The URL comes from an environment variable
 * and is never printed: errors show it with the password masked. Results are streamed through a
 * server-side cursor (DECLARE/FETCH in a read-only transaction — plain SQL, so no extra package), so
 * the client holds at most `fetchRows` rows at a time whatever the site's size.
 */
export class PostgresEngine implements SqlEngine {
  readonly adapter = "omop-postgres";
  readonly description: string;

  private constructor(
    private readonly source: PostgresSource,
    private readonly client: pg.Client,
    private readonly conn: RedactedConnection,
  ) {
    this.description = `${conn.display} (schema ${source.schema})`;
  }

  static async open(source: PostgresSource): Promise<PostgresEngine> {
    const url = process.env[source.urlEnv];
    if (url === undefined || url.trim() === "") {
      throw new InputError(
        `environment variable ${source.urlEnv} is not set: put the PostgreSQL connection URL there (postgresql://user:password@host:port/database)`,
        { field: "source.urlEnv" },
      );
    }
    const conn = redactConnection(url);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: source.connectTimeoutMs });
    // A dropped connection is reported by the next query; without a listener it would crash the process.
    client.on("error", () => {});
    try {
      await client.connect();
    } catch (e) {
      await client.end().catch(() => {});
      throw connectError(e, conn, source.urlEnv);
    }
    return new PostgresEngine(source, client, conn);
  }

  private schemaOf(table: OmopTable): string {
    return table === "concept" ? (this.source.vocabularySchema ?? this.source.schema) : this.source.schema;
  }

  relation(table: OmopTable): string {
    return `${sqlIdentifier(this.schemaOf(table))}.${sqlIdentifier(table)}`;
  }

  async prepare(required: Map<OmopTable, string[]>): Promise<void> {
    for (const [table, columns] of required) {
      const schema = this.schemaOf(table);
      const res = await this.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
        [schema, table],
      );
      if (res.rows.length === 0) {
        throw new InputError(`OMOP table "${schema}.${table}" not found (or not readable by this user)`, {
          file: this.description,
        });
      }
      const have = new Set(res.rows.map((r) => r.column_name));
      for (const col of columns) {
        if (!have.has(col)) {
          throw new InputError(`OMOP table "${schema}.${table}" has no column "${col}"`, {
            file: this.description,
            field: col,
          });
        }
      }
    }
  }

  async stream(sql: string, onRows: (rows: SqlRow[]) => void): Promise<void> {
    await this.query("BEGIN TRANSACTION READ ONLY");
    try {
      await this.query(`DECLARE conceptbridge_omop NO SCROLL CURSOR FOR ${sql}`);
      for (;;) {
        const res = await this.client
          .query<SqlRow>({
            text: `FETCH FORWARD ${this.source.fetchRows} FROM conceptbridge_omop`,
            rowMode: "array",
          })
          .catch((e: unknown) => {
            throw this.queryError(e);
          });
        if (res.rows.length === 0) break;
        onRows(res.rows);
      }
      await this.query("CLOSE conceptbridge_omop");
      await this.query("COMMIT");
    } catch (e) {
      await this.client.query("ROLLBACK").catch(() => {});
      throw e;
    }
  }

  private async query<R extends pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.client.query<R>(text, values);
    } catch (e) {
      throw this.queryError(e);
    }
  }

  private queryError(e: unknown): Error {
    if (e instanceof InputError) return e;
    return new InputError(`OMOP query failed: ${this.conn.redact(errorText(e))}`, { file: this.description });
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}

function connectError(e: unknown, conn: RedactedConnection, urlEnv: string): InputError {
  const code = errorCode(e);
  const where = { file: conn.display, field: urlEnv };
  if (code === "28P01" || code === "28000") {
    return new InputError(
      `PostgreSQL rejected the credentials of user "${conn.user}" (check the password in ${urlEnv})`,
      where,
    );
  }
  if (code === "3D000")
    return new InputError(`PostgreSQL database does not exist: ${conn.redact(errorText(e))}`, where);
  if ((code !== undefined && UNREACHABLE.has(code)) || /timeout|terminated/i.test(errorText(e))) {
    return new InputError(
      `cannot reach PostgreSQL server at ${conn.host} (${code ?? conn.redact(errorText(e))})`,
      where,
    );
  }
  return new InputError(`cannot connect to PostgreSQL: ${conn.redact(errorText(e))}`, where);
}
