import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { VocabularyToken } from "../../concepts/vocabulary.js";
import { InputError } from "../../util/errors.js";
import { type EmbeddingTable, readEmbeddingTable, type TableFormat } from "../table-formats.js";
import { normalizeText } from "../text-normalize.js";
import { type EmbeddingMatrix, type EmbeddingProvider, type ProviderInfo, providerId } from "../types.js";

/**
 * Precomputed vectors from a file (the seed paper shipped its BERT/BioBERT/OpenAI vectors this way).
 *
 * Keys follow the seed paper: `"<code> <text>"` for a present finding, `"<code> Not <text>"` for an
 * absent one, and `"<code>_<level> <text>"` for a level of a multi-level concept. A token is found by
 * its code and negation/level, not by its exact text, because the file's text and the site catalog's
 * text differ in small ways (the HDF5 keys replaced "/" and "-" and non-breaking spaces). Tables keyed
 * by plain text or by token key ("C0013404|absent") also work.
 */
export interface TableProviderOptions {
  file: string;
  format?: TableFormat;
  /** Embeds the tokens the file has no vector for; without it they are an error that lists them. */
  fallback?: EmbeddingProvider;
  /** NPY: the key index file. */
  indexFile?: string;
  keyColumn?: string;
  vectorColumn?: string;
}

/** How a token found its row: exact "<code> <text>" key, code + negation/level, plain text, token key. */
export type TableMatch = "exact" | "code" | "text" | "key";

export interface TableResolution {
  /** Row in the table per token, -1 when none. */
  rows: Int32Array;
  how: (TableMatch | null)[];
}

export interface TableEmbeddingProvider extends EmbeddingProvider {
  readonly table: EmbeddingTable;
  resolve(tokens: readonly VocabularyToken[]): TableResolution;
}

export async function createTableProvider(opts: TableProviderOptions): Promise<TableEmbeddingProvider> {
  const table = await readEmbeddingTable(opts.file, opts);
  const hash = createHash("sha256");
  for (const f of table.files) hash.update(await readFile(f));
  const revision = hash.digest("hex");
  const fallback = opts.fallback;
  const params: Record<string, string> = {};
  if (fallback) params.fallback = providerId(fallback.info);
  if (opts.keyColumn) params.keyColumn = opts.keyColumn;
  if (opts.vectorColumn) params.vectorColumn = opts.vectorColumn;
  const info: ProviderInfo = {
    provider: "table",
    model: basename(opts.file),
    revision: `sha256:${revision}`,
    dimension: table.dim,
    ...(Object.keys(params).length > 0 ? { params } : {}),
  };
  const index = new TableIndex(table);

  return {
    info,
    table,
    resolve: (tokens) => index.resolve(tokens),
    async embed(tokens, embedOpts) {
      const { rows } = index.resolve(tokens);
      const dim = table.dim;
      const out: EmbeddingMatrix = { rows: tokens.length, dim, data: new Float32Array(tokens.length * dim) };
      const missing: number[] = [];
      rows.forEach((r, i) => {
        if (r < 0) missing.push(i);
        else out.data.set(table.data.subarray(r * dim, (r + 1) * dim), i * dim);
      });
      if (missing.length > 0) {
        if (!fallback) {
          const list = missing.slice(0, 20).map((i) => `"${tokens[i].text}" (${tokens[i].key})`);
          const more = missing.length > 20 ? ` and ${missing.length - 20} more` : "";
          throw new InputError(
            `no vector for ${missing.length} of ${tokens.length} tokens: ${list.join(", ")}${more} (set a fallback provider to embed them)`,
            { file: opts.file },
          );
        }
        const extra = await fallback.embed(
          missing.map((i) => tokens[i]),
          embedOpts,
        );
        if (extra.dim !== dim) {
          throw new InputError(
            `fallback provider ${fallback.info.provider} gives dimension ${extra.dim}, the table has ${dim}`,
            { file: opts.file },
          );
        }
        missing.forEach((i, k) => {
          out.data.set(extra.data.subarray(k * dim, (k + 1) * dim), i * dim);
        });
      }
      embedOpts?.onProgress?.(tokens.length, tokens.length);
      return out;
    },
  };
}

/** A key split into its code part ("C0013404", "C0424781_P") and its text, and whether the text is negated. */
export function parseTableKey(key: string): { prefix: string; text: string; negated: boolean } | null {
  const sp = key.indexOf(" ");
  if (sp <= 0) return null;
  const text = key.slice(sp + 1).trim();
  const negated = /^not\s/i.test(text);
  return { prefix: key.slice(0, sp), text: negated ? text.replace(/^not\s+/i, "") : text, negated };
}

/** The code part and negation a token is looked up by, following the seed paper's naming. */
export function tokenLookup(t: VocabularyToken): { prefix: string; negated: boolean } | null {
  switch (t.value.kind) {
    case "present":
      return { prefix: t.code, negated: false };
    case "absent":
      return { prefix: t.code, negated: true };
    case "level":
      return { prefix: `${t.code}_${t.value.level}`, negated: false };
    case "missing":
      return null;
  }
}

const AMBIGUOUS = -2;

class TableIndex {
  private readonly exact = new Map<string, number>();
  private readonly byCode = new Map<string, number>();
  private readonly byText = new Map<string, number>();

  constructor(table: EmbeddingTable) {
    table.keys.forEach((key, i) => {
      this.exact.set(key, i);
      const p = parseTableKey(key);
      if (p) {
        // Two keys with the same code and negation make code lookup ambiguous (e.g. a text-keyed
        // table whose texts share a first word): such a token falls through to the other lookups.
        const ck = `${p.prefix}\u0000${p.negated ? 1 : 0}`;
        this.byCode.set(ck, this.byCode.has(ck) ? AMBIGUOUS : i);
      }
      // A token is also found by its text alone: the whole key (tables keyed by text) or the text
      // after the code ("C0013404 Not dyspnea" -> "not dyspnea"), so another site's token with
      // the same wording but its own code gets the same vector.
      const texts = new Set([normalizeText(key)]);
      // Only when the first word looks like a code (has a digit or "_"), so "chest pain" in a
      // text-keyed table does not also claim the text "pain".
      if (p && /[\d_]/.test(p.prefix)) texts.add(normalizeText(p.negated ? `Not ${p.text}` : p.text));
      for (const norm of texts) this.byText.set(norm, this.byText.has(norm) ? AMBIGUOUS : i);
    });
  }

  resolve(tokens: readonly VocabularyToken[]): TableResolution {
    const rows = new Int32Array(tokens.length).fill(-1);
    const how: (TableMatch | null)[] = new Array(tokens.length).fill(null);
    tokens.forEach((t, i) => {
      const exact = this.exact.get(`${t.code} ${t.text}`);
      if (exact !== undefined) {
        rows[i] = exact;
        how[i] = "exact";
        return;
      }
      const look = tokenLookup(t);
      const byCode = look ? this.byCode.get(`${look.prefix}\u0000${look.negated ? 1 : 0}`) : undefined;
      if (byCode !== undefined && byCode >= 0) {
        rows[i] = byCode;
        how[i] = "code";
        return;
      }
      const byText = this.byText.get(normalizeText(t.text));
      if (byText !== undefined && byText >= 0) {
        rows[i] = byText;
        how[i] = "text";
        return;
      }
      const byKey = this.exact.get(t.key);
      if (byKey !== undefined) {
        rows[i] = byKey;
        how[i] = "key";
      }
    });
    return { rows, how };
  }
}
