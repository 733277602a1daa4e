import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import type { VocabularyToken } from "../concepts/vocabulary.js";
import { tempPathFor } from "../util/atomic-write.js";
import { InputError } from "../util/errors.js";
import { PROJECT_ROOT } from "../util/paths.js";
import { redactUrlsIn } from "../util/redact.js";
import { checkVector } from "./matrix.js";
import { type EmbeddingMatrix, type EmbeddingProvider, type EmbedOptions, providerId } from "./types.js";

/**
 * Persistent embedding cache: one append-only log file per provider id. Embedding is the slow and
 * (for a paid API) costly step, so no finished batch must ever be embedded twice.
 *
 * Why a log and not a database: appends of whole records with O_APPEND are atomic with respect to
 * other appending processes on a local filesystem, so concurrent runs need no lock; a crash can only
 * tear the last write, and every record carries a CRC32 so a reader skips torn or damaged records
 * (resynchronising on the record marker). Each batch is one write() followed by fsync(), so a killed
 * run loses at most the batch in flight. Two processes that embed the same text both append it; the
 * first record wins, and they are equal anyway.
 *
 * File layout: header record (marker, JSON {format, providerId, dim}), then records of
 *   u32 marker | u32 textBytes | u32 dim | text (UTF-8, zero-padded to 4 bytes) | dim x f32 | u32 crc32(of everything before)
 * all little-endian. Every record is a multiple of 4 bytes long, so vectors are read as Float32Array
 * views straight onto the file's bytes without a copy (cache reads are bound by the disk).
 */
const HEADER_MAGIC = 0x42454243; // "CBEB"
const RECORD_MAGIC = 0xd1b0e3cb;
const FORMAT = "conceptbridge-embedding-cache/1";
const RECORD_OVERHEAD = 16;

export function defaultCacheDir(): string {
  return process.env.CONCEPTBRIDGE_CACHE_DIR ?? join(PROJECT_ROOT, ".cache", "embeddings");
}

interface LogState {
  path: string;
  dim: number;
  /** Bytes of the file already parsed (up to the end of the last complete record). */
  offset: number;
  vectors: Map<string, Float32Array>;
}

export class EmbeddingCache {
  private readonly logs = new Map<string, LogState>();

  constructor(readonly dir: string = defaultCacheDir()) {}

  /** File that holds a provider's vectors (sha256 of the provider id: ids can be long and contain any character). */
  fileFor(id: string): string {
    return join(this.dir, `${createHash("sha256").update(id).digest("hex").slice(0, 40)}.emb`);
  }

  /** Dimension recorded for a provider, or undefined when nothing is cached yet. */
  dimension(id: string): number | undefined {
    return this.refresh(id)?.dim;
  }

  /** Number of distinct texts cached for a provider. */
  size(id: string): number {
    return this.refresh(id)?.vectors.size ?? 0;
  }

  /**
   * Cached vectors for texts (undefined where not cached), after reading what other processes
   * appended. The vectors are views onto the cache's memory: read them, do not write to them.
   */
  getMany(id: string, texts: readonly string[]): (Float32Array | undefined)[] {
    const log = this.refresh(id);
    return texts.map((t) => log?.vectors.get(t));
  }

  get(id: string, text: string): Float32Array | undefined {
    return this.refresh(id)?.vectors.get(text);
  }

  /** Every cached (text, vector) of a provider (e.g. for nearest-neighbour search). */
  entries(id: string): [string, Float32Array][] {
    return [...(this.refresh(id)?.vectors.entries() ?? [])];
  }

  /**
   * Append one batch durably (one write, then fsync). Vectors must be finite, non-zero and of the
   * provider's dimension: nothing from a bad reply is ever cached.
   */
  put(id: string, dim: number, entries: readonly { text: string; vector: ArrayLike<number> }[]): void {
    if (entries.length === 0) return;
    const log = this.ensureLog(id, dim);
    const parts: Buffer[] = [];
    for (const { text, vector } of entries) {
      checkVector(vector, `"${text}"`, { dim }, { file: log.path });
      parts.push(encodeRecord(text, vector));
    }
    const buf = Buffer.concat(parts);
    const fd = openSync(log.path, "a");
    try {
      let written = 0;
      while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    for (const { text, vector } of entries) {
      if (!log.vectors.has(text)) log.vectors.set(text, Float32Array.from(vector));
    }
  }

  private ensureLog(id: string, dim: number): LogState {
    const existing = this.refresh(id);
    if (existing) {
      if (existing.dim !== dim) {
        throw new InputError(
          `embedding dimension ${dim} does not match the cache's ${existing.dim} for this provider (clear the cache file or fix the provider settings)`,
          { file: existing.path },
        );
      }
      return existing;
    }
    mkdirSync(this.dir, { recursive: true });
    const path = this.fileFor(id);
    // Create the file with its header atomically: write a temp file, then link() it into place,
    // which fails if another process got there first (then theirs is used and checked).
    const tmp = tempPathFor(path);
    writeFileSync(tmp, encodeHeader(id, dim));
    try {
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    } finally {
      unlinkSync(tmp);
    }
    const log = this.refresh(id);
    if (!log) throw new Error(`cache file ${path} vanished`);
    if (log.dim !== dim) {
      throw new InputError(`embedding dimension ${dim} does not match the cache's ${log.dim}`, {
        file: path,
      });
    }
    return log;
  }

  /** Load (or continue loading) a provider's log: parse complete records appended since the last read. */
  private refresh(id: string): LogState | undefined {
    let log = this.logs.get(id);
    const path = log?.path ?? this.fileFor(id);
    if (!log && !existsSync(path)) return undefined;
    const fd = openSync(path, "r");
    try {
      const size = fstatSync(fd).size;
      if (!log) {
        const head = readHeader(fd, size, path);
        if (head.providerId !== id) {
          throw new InputError(`cache file belongs to another provider (${head.providerId})`, { file: path });
        }
        log = { path, dim: head.dim, offset: head.end, vectors: new Map() };
        this.logs.set(id, log);
      }
      if (size > log.offset) {
        // Its own ArrayBuffer at offset 0 (not Buffer's shared pool), so vector views are aligned;
        // uninitialised because it is overwritten by the read anyway.
        const buf = Buffer.allocUnsafeSlow(size - log.offset);
        let got = 0;
        while (got < buf.length) {
          const n = readSync(fd, buf, got, buf.length - got, log.offset + got);
          if (n === 0) break;
          got += n;
        }
        log.offset += parseRecords(buf.subarray(0, got), log);
      }
      return log;
    } finally {
      closeSync(fd);
    }
  }
}

function encodeHeader(id: string, dim: number): Buffer {
  const json = Buffer.from(JSON.stringify({ format: FORMAT, providerId: id, dim }), "utf8");
  // Pad the JSON with spaces so the header (and so every record after it) is 4-byte aligned.
  const padded = Buffer.concat([json, Buffer.alloc(pad4(json.length) - json.length, 0x20)]);
  const buf = Buffer.alloc(12 + padded.length);
  buf.writeUInt32LE(HEADER_MAGIC, 0);
  buf.writeUInt32LE(padded.length, 4);
  padded.copy(buf, 8);
  buf.writeUInt32LE(crc32(buf.subarray(0, 8 + padded.length)), 8 + padded.length);
  return buf;
}

function readHeader(
  fd: number,
  size: number,
  path: string,
): { providerId: string; dim: number; end: number } {
  const bad = (why: string) =>
    new InputError(`not a ConceptBridge embedding cache file (${why})`, { file: path });
  if (size < 12) throw bad("too short");
  const pre = Buffer.alloc(8);
  readSync(fd, pre, 0, 8, 0);
  if (pre.readUInt32LE(0) !== HEADER_MAGIC) throw bad("bad magic");
  const len = pre.readUInt32LE(4);
  if (12 + len > size) throw bad("truncated header");
  const buf = Buffer.alloc(12 + len);
  readSync(fd, buf, 0, buf.length, 0);
  if (crc32(buf.subarray(0, 8 + len)) !== buf.readUInt32LE(8 + len)) throw bad("header checksum");
  const h = JSON.parse(buf.subarray(8, 8 + len).toString("utf8")) as {
    format?: string;
    providerId?: string;
    dim?: number;
  };
  if (h.format !== FORMAT || typeof h.providerId !== "string" || typeof h.dim !== "number")
    throw bad("bad header");
  return { providerId: h.providerId, dim: h.dim, end: 12 + len };
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function recordLength(textBytes: number, dim: number): number {
  return RECORD_OVERHEAD + pad4(textBytes) + 4 * dim;
}

function encodeRecord(text: string, vector: ArrayLike<number>): Buffer {
  const t = Buffer.from(text, "utf8");
  const dim = vector.length;
  const len = recordLength(t.length, dim);
  const buf = Buffer.alloc(len);
  buf.writeUInt32LE(RECORD_MAGIC, 0);
  buf.writeUInt32LE(t.length, 4);
  buf.writeUInt32LE(dim, 8);
  t.copy(buf, 12);
  const v = new Float32Array(vector);
  Buffer.from(v.buffer, v.byteOffset, v.byteLength).copy(buf, 12 + pad4(t.length));
  buf.writeUInt32LE(crc32(buf.subarray(0, len - 4)), len - 4);
  return buf;
}

/**
 * Parse records from buf into log.vectors; returns the bytes consumed. A record that runs past the
 * end is left for the next read (it may still be being written, or be torn by a crash); a damaged
 * record (bad marker or checksum) is skipped by scanning for the next valid one.
 */
function parseRecords(buf: Buffer, log: LogState): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  let consumed = 0;
  while (pos + RECORD_OVERHEAD <= buf.length) {
    if (view.getUint32(pos, true) !== RECORD_MAGIC) {
      pos++;
      continue;
    }
    const tlen = view.getUint32(pos + 4, true);
    const dim = view.getUint32(pos + 8, true);
    const len = recordLength(tlen, dim);
    if (dim !== log.dim) {
      pos++;
      continue;
    }
    if (pos + len > buf.length) break;
    if (crc32(bytes.subarray(pos, pos + len - 4)) !== view.getUint32(pos + len - 4, true)) {
      pos++;
      continue;
    }
    const text = buf.toString("utf8", pos + 12, pos + 12 + tlen);
    if (!log.vectors.has(text)) {
      const start = buf.byteOffset + pos + 12 + pad4(tlen);
      // A view when aligned (always, unless a damaged stretch shifted the records), else a copy.
      const v =
        start % 4 === 0
          ? new Float32Array(buf.buffer, start, dim)
          : new Float32Array(bytes.slice(pos + 12 + pad4(tlen), pos + len - 4).buffer);
      log.vectors.set(text, v);
    }
    pos += len;
    consumed = pos;
  }
  // Bytes after the last good record (a record still being written, or a torn one) are read again
  // next time; once later records follow a torn one, the scan above skips it.
  return consumed;
}

/** Cache key text of a token: text-based providers embed the text; token-based ones also look at code and value. */
export function cacheText(provider: EmbeddingProvider, token: VocabularyToken): string {
  return TOKEN_KEYED.has(provider.info.provider) ? `${token.key}\t${token.text}` : token.text;
}
const TOKEN_KEYED = new Set(["onehot", "table"]);

export interface EmbedWithCacheOptions extends EmbedOptions {
  /** Texts handed to the provider per call when it does not report batches itself (default 512). */
  chunkSize?: number;
}

export type CachedEmbedding = EmbeddingMatrix & {
  /** Distinct texts found in the cache / embedded now. */
  cached: number;
  embedded: number;
};

/**
 * Embed tokens, taking what the cache has and embedding only the rest (each distinct text once).
 * Non-finite values or a wrong dimension are an error (nothing of that batch is cached).
 * Vectors are cached as soon as the provider reports a finished batch (`onBatch`), so a killed run
 * keeps everything but the batches in flight; providers that do not report batches are called
 * chunk by chunk. `cache` null = no caching.
 */
export async function embedWithCache(
  provider: EmbeddingProvider,
  tokens: readonly VocabularyToken[],
  cache: EmbeddingCache | null,
  opts: EmbedWithCacheOptions = {},
): Promise<CachedEmbedding> {
  // Never a secret in a cache file (its header holds the id): URLs lose user-info and query values.
  const id = redactUrlsIn(providerId(provider.info));
  const keys = tokens.map((t) => cacheText(provider, t));
  const cachedDim = cache?.dimension(id);
  const infoDim = provider.info.dimension;
  if (cache && cachedDim !== undefined && infoDim !== undefined && cachedDim !== infoDim) {
    throw new InputError(`provider dimension ${infoDim} does not match the cache's ${cachedDim}`, {
      file: cache.fileFor(id),
    });
  }
  const found = cache ? cache.getMany(id, keys) : keys.map(() => undefined);
  const todoIndex = new Map<string, number>();
  const todo: VocabularyToken[] = [];
  keys.forEach((k, i) => {
    if (found[i] === undefined && !todoIndex.has(k)) {
      todoIndex.set(k, todo.length);
      todo.push(tokens[i]);
    }
  });
  const cachedCount = new Set(keys.filter((_, i) => found[i] !== undefined)).size;
  const fresh = new Map<string, Float32Array>();
  let dim = cachedDim ?? infoDim;
  const total = todo.length;
  let done = 0;
  const accept = (rows: readonly number[], m: EmbeddingMatrix, offset: number): void => {
    if (dim === undefined) dim = m.dim;
    if (m.dim !== dim) {
      throw new InputError(
        `provider returned dimension ${m.dim}, expected ${dim}`,
        cache ? { file: cache.fileFor(id) } : {},
      );
    }
    const entries: { text: string; vector: Float32Array }[] = [];
    rows.forEach((r, k) => {
      const vector = m.data.slice(k * m.dim, (k + 1) * m.dim);
      const text = cacheText(provider, todo[offset + r]);
      // Zero vectors are legitimate from some providers (a cooccurrence token never seen at the
      // fitting site) and are returned, but never cached: model providers reject them as bad
      // replies themselves, and the cache holds only real vectors.
      checkVector(vector, `"${todo[offset + r].text}"`, { dim: m.dim, allowZero: true });
      fresh.set(text, vector);
      if (vector.some((x) => x !== 0)) entries.push({ text, vector });
    });
    cache?.put(id, m.dim, entries);
    done += rows.length;
    opts.onProgress?.(done, total);
  };
  const chunk = opts.chunkSize ?? 512;
  if (todo.length > 0 && provider.prefetch) {
    await provider.prefetch(todo, opts.signal ? { signal: opts.signal } : {});
  }
  for (let start = 0; start < todo.length; start += chunk) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
    const part = todo.slice(start, start + chunk);
    const reported = new Set<number>();
    const m = await provider.embed(part, {
      signal: opts.signal,
      onBatch: (rows, bm) => {
        accept(rows, bm, start);
        for (const r of rows) reported.add(r);
      },
    });
    if (m.rows !== part.length) throw new Error(`provider returned ${m.rows} rows for ${part.length} tokens`);
    // Rows the provider did not report through onBatch (most providers): cache the whole result.
    const rest: number[] = [];
    for (let r = 0; r < part.length; r++) if (!reported.has(r)) rest.push(r);
    if (rest.length > 0) {
      const sub = new Float32Array(rest.length * m.dim);
      rest.forEach((r, k) => {
        sub.set(m.data.subarray(r * m.dim, (r + 1) * m.dim), k * m.dim);
      });
      accept(rest, { rows: rest.length, dim: m.dim, data: sub }, start);
    }
  }
  if (dim === undefined) dim = 0;
  const out = new Float32Array(tokens.length * dim);
  keys.forEach((k, i) => {
    const v = found[i] ?? fresh.get(k);
    if (!v) throw new Error(`no vector for "${k}" after embedding`);
    out.set(v, i * (dim as number));
  });
  return { rows: tokens.length, dim, data: out, cached: cachedCount, embedded: todo.length };
}
