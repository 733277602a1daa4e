import { createHash } from "node:crypto";
import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { createGunzip } from "node:zlib";
import { InputError } from "../util/errors.js";

/**
 * Streaming reader of static word-vector files: word2vec binary (`.bin`: a "N D" header line, then per
 * word its UTF-8 bytes, a space and D little-endian float32, optionally a newline), fastText `.vec`
 * and word2vec text (a "N D" header line, then "word v1 ... vD" lines) and GloVe `.txt` (the same
 * lines without a header), each plain or gzipped (detected by the gzip magic bytes, not the name).
 *
 * The file is read once, front to back, in 1 MiB chunks, and only the vectors of `wanted` words are
 * kept, so memory is bounded by the vocabulary and not by the file (BioWordVec is 13 GB of text).
 * Lines of words nobody wants are not parsed, which is what makes a pass over a multi-GB file fast;
 * their vectors are not checked either. Wanted lines are checked fully: every value finite, exactly D
 * of them, else an InputError naming the file, the row (the line; for binary files the record, with
 * the header as row 1) and the field. A GloVe-840B line whose word contains spaces has more than D
 * values after the first space; it is read as the word it is (never a wanted one: wanted words have
 * no spaces).
 */
export type VectorFileFormat = "word2vec" | "fasttext" | "glove";

export interface ScanOptions {
  /** Force a format instead of sniffing it (a header line "N D", then binary or text records). */
  format?: VectorFileFormat;
  /** Keys to keep: words as they are (caseSensitive) or lower-cased. */
  wanted: ReadonlySet<string>;
  caseSensitive: boolean;
  /** Also compute the SHA-256 of the file's bytes (as stored, so of the compressed bytes for .gz). */
  hash?: boolean;
  /** Read only the first `limit` words (the most frequent ones: these files are sorted by frequency). */
  limit?: number;
  signal?: AbortSignal;
}

export interface FoundVector {
  vector: Float32Array;
  /** 1-based position of the word in the file (frequency rank). */
  rank: number;
  /** Whether the file's word equals the key exactly (not only after lower-casing). */
  exact: boolean;
}

export interface VectorFileScan {
  format: VectorFileFormat;
  gzipped: boolean;
  dim: number;
  /** Words read (all of them, or `limit`). */
  words: number;
  found: Map<string, FoundVector>;
  sha256?: string;
}

const CHUNK = 1 << 20;
const SNIFF = 1 << 16;

function isGzip(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    throw new InputError(`cannot read the vector file: ${(e as NodeJS.ErrnoException).code ?? e}`, { file });
  }
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** The decompressed bytes of the file, chunk by chunk, hashing the stored bytes on the way. */
async function* chunks(
  file: string,
  gz: boolean,
  hash: ReturnType<typeof createHash> | null,
  signal?: AbortSignal,
) {
  const raw = createReadStream(file, { highWaterMark: CHUNK, ...(signal ? { signal } : {}) });
  if (hash) raw.on("data", (c) => hash.update(c as Buffer));
  const source = gz ? raw.pipe(createGunzip({ chunkSize: CHUNK })) : raw;
  if (gz) raw.on("error", (e) => source.destroy(e));
  try {
    for await (const c of source) yield c as Buffer;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ABORT_ERR") throw e;
    throw new InputError(`cannot read the vector file: ${code ?? (e as Error).message}`, { file });
  } finally {
    raw.destroy();
    if (source !== raw) source.destroy();
  }
}

/** "N D" with two positive integers, or null. */
function headerOf(line: string): { n: number; d: number } | null {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
  if (!m) return null;
  const n = Number(m[1]);
  const d = Number(m[2]);
  return n > 0 && d > 0 ? { n, d } : null;
}

/** What the first bytes say: a header or not, and binary or text records after it. */
function sniff(head: Buffer, forced: VectorFileFormat | undefined, file: string) {
  const nl = head.indexOf(10);
  const first = head.toString("utf8", 0, nl < 0 ? head.length : nl).replace(/\r$/, "");
  const header = headerOf(first);
  let format: VectorFileFormat;
  if (!header) format = "glove";
  else {
    // Text when the next line is a word and exactly D numbers; binary otherwise.
    const start = nl + 1;
    const nl2 = head.indexOf(10, start);
    const fields = head
      .toString("latin1", start, nl2 < 0 ? head.length : nl2)
      .trim()
      .split(/ +/);
    const text =
      nl2 >= 0 && fields.length === header.d + 1 && fields.slice(1).every((f) => Number.isFinite(Number(f)));
    format = text ? "fasttext" : "word2vec";
  }
  if (forced && forced !== format && !(forced === "glove" && format === "fasttext")) {
    const what: Record<VectorFileFormat, string> = {
      word2vec: "a word2vec binary file (header line, then binary vectors)",
      fasttext: "a fastText/word2vec text file (header line, then text vectors)",
      glove: "a GloVe text file (text vectors, no header)",
    };
    throw new InputError(`format ${forced} given, but the file looks like ${what[format]}`, {
      file,
      field: "format",
    });
  }
  return { format, header };
}

export async function scanVectorFile(file: string, o: ScanOptions): Promise<VectorFileScan> {
  const gz = isGzip(file);
  const hash = o.hash ? createHash("sha256") : null;
  const limit = o.limit ?? Number.POSITIVE_INFINITY;
  const found = new Map<string, FoundVector>();
  let maxWanted = 0;
  for (const w of o.wanted) maxWanted = Math.max(maxWanted, Buffer.byteLength(w, "utf8"));
  // A word whose bytes are far longer than every wanted key cannot be one (lower-casing changes the
  // byte length of a few characters, by little): skip decoding it.
  const maxBytes = 3 * maxWanted + 8;

  let format: VectorFileFormat = o.format ?? "glove";
  let dim = 0;
  let declared: number | null = null;
  let words = 0;
  /** Text: lines consumed so far (the current line's number once counted); binary: record + 1. */
  let row = 0;
  let started = false;
  let done = false;
  let pending: Buffer = Buffer.alloc(0);
  const where = (field: string) => ({ file, row, field });

  /** The key under which the word at buf[start, end) is wanted, or null. */
  const wantedKey = (buf: Buffer, start: number, end: number): string | null => {
    if (end - start > maxBytes || o.wanted.size === 0) return null;
    const word = buf.toString("utf8", start, end);
    const key = o.caseSensitive ? word : word.toLowerCase();
    if (!o.wanted.has(key)) return null;
    const prev = found.get(key);
    // Case-insensitive: the first (most frequent) casing, unless the lower-case form itself comes later.
    if (prev && (prev.exact || word !== key)) return null;
    return key;
  };
  const keep = (key: string, v: Float32Array, buf: Buffer, start: number, end: number) => {
    found.set(key, {
      vector: v,
      rank: words,
      exact: o.caseSensitive || buf.toString("utf8", start, end) === key,
    });
  };

  /** One text line buf[start, end) without its newline. */
  const textLine = (buf: Buffer, start: number, end: number): void => {
    row++;
    if (end > start && buf[end - 1] === 13) end--;
    if (row === 1 && declared !== null) return; // the header, already read
    if (end <= start) return; // a blank line
    if (words >= limit) {
      done = true;
      return;
    }
    words++;
    const sp = buf.indexOf(32, start);
    if (sp < 0 || sp >= end) throw new InputError("a word without a vector", where("vector"));
    if (dim === 0)
      dim = buf
        .toString("latin1", sp + 1, end)
        .trim()
        .split(/ +/).length; // GloVe: line 1
    const key = wantedKey(buf, start, sp);
    if (key === null) return;
    const fields = buf
      .toString("latin1", sp + 1, end)
      .trim()
      .split(/ +/);
    if (fields.length > dim) return; // a word with spaces (GloVe 840B): not this key
    if (fields.length < dim)
      throw new InputError(`${fields.length} values, expected ${dim}`, where("vector"));
    const v = new Float32Array(dim);
    for (let i = 0; i < dim; i++) {
      const x = Number(fields[i]);
      if (fields[i] === "" || !Number.isFinite(x)) {
        throw new InputError(`"${fields[i]}" is not a finite number`, where(`value ${i + 1}`));
      }
      v[i] = x;
    }
    keep(key, v, buf, start, sp);
  };

  /** Binary records of buf from pos; returns the first byte not consumed (a partial record). */
  const binaryRecords = (buf: Buffer, pos: number, final: boolean): number => {
    const size = 4 * dim;
    while (!done) {
      if ((declared !== null && words >= declared) || words >= limit) {
        done = true;
        break;
      }
      while (pos < buf.length && (buf[pos] === 10 || buf[pos] === 13 || buf[pos] === 32 || buf[pos] === 9))
        pos++;
      const sp = buf.indexOf(32, pos);
      if (sp < 0 || sp + 1 + size > buf.length) {
        row = words + 2;
        if (sp < 0 && buf.length - pos > SNIFF) {
          throw new InputError(
            "no space after a word within 64 KiB: not a word2vec binary file",
            where("word"),
          );
        }
        if (final && (buf.length > pos || (declared !== null && words < declared))) {
          throw new InputError(
            `the file ends inside record ${words + 1}${declared !== null ? ` (the header says ${declared} words)` : ""}`,
            where("vector"),
          );
        }
        return pos;
      }
      words++;
      row = words + 1;
      const key = wantedKey(buf, pos, sp);
      if (key !== null) {
        const v = new Float32Array(dim);
        for (let i = 0; i < dim; i++) {
          const x = buf.readFloatLE(sp + 1 + 4 * i);
          if (!Number.isFinite(x)) throw new InputError(`value ${x} is not finite`, where(`value ${i + 1}`));
          v[i] = x;
        }
        keep(key, v, buf, pos, sp);
      }
      pos = sp + 1 + size;
    }
    return pos;
  };

  /** Parse what buf holds; returns the unconsumed tail (a partial line or record). */
  const consume = (buf: Buffer, final: boolean): Buffer => {
    if (format === "word2vec") return buf.subarray(binaryRecords(buf, 0, final));
    let pos = 0;
    for (;;) {
      if (done) return Buffer.alloc(0);
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      textLine(buf, pos, nl);
      pos = nl + 1;
    }
    if (final && pos < buf.length && !done) {
      textLine(buf, pos, buf.length);
      pos = buf.length;
    }
    return buf.subarray(pos);
  };

  /** Sniff the format from the first bytes; binary files lose their header line here. */
  const begin = (head: Buffer): Buffer => {
    const s = sniff(head, o.format, file);
    format = s.format;
    declared = s.header?.n ?? null;
    dim = s.header?.d ?? 0;
    started = true;
    return format === "word2vec" ? head.subarray(head.indexOf(10) + 1) : head;
  };

  for await (const chunk of chunks(file, gz, hash, o.signal)) {
    if (done) continue; // read on only to hash the whole file
    let buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    if (!started) {
      if (buf.length < SNIFF) {
        pending = buf;
        continue;
      }
      buf = begin(buf);
    }
    // A copy, so the 1 MiB chunk the tail came from can be freed.
    pending = Buffer.from(consume(buf, false));
  }
  if (!done) {
    if (!started) {
      if (pending.length === 0) throw new InputError("the vector file is empty", { file });
      pending = begin(pending);
    }
    consume(pending, true);
  }
  if (dim === 0) throw new InputError("the vector file has no vectors", { file });
  if (declared !== null && o.limit === undefined && words !== declared) {
    throw new InputError(`the header says ${declared} words, the file has ${words}`, {
      file,
      row: 1,
      field: "header",
    });
  }
  return { format, gzipped: gz, dim, words, found, ...(hash ? { sha256: hash.digest("hex") } : {}) };
}
