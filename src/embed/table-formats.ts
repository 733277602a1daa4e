import { existsSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import type H5 from "h5wasm/node";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { InputError } from "../util/errors.js";
import { checkVector } from "./matrix.js";
import { parseNpy } from "./npy.js";

/**
 * Precomputed embedding files. Whatever the format, a file becomes a list of distinct keys with one
 * vector each (all of one dimension, finite, not all zero). Keys are usually the seed paper's
 * `"<code> <text>"` strings, but may be plain texts or token keys (see providers/table.ts).
 */
export type TableFormat = "h5" | "npy" | "csv" | "json" | "parquet";

export interface EmbeddingTable {
  keys: string[];
  dim: number;
  /** Row-major, keys.length x dim. */
  data: Float32Array;
  /** Files read (the vector file and, for NPY, its index). */
  files: string[];
}

export interface ReadTableOptions {
  format?: TableFormat;
  /** NPY: the file with one key per line (or a JSON array); default `<name>.keys.txt`, `<name>.txt` or `<name>.json`. */
  indexFile?: string;
  /** CSV/Parquet: the key column (default "key", else the first column). */
  keyColumn?: string;
  /** CSV/Parquet/JSON: a column holding the whole vector (list, JSON array or space-separated numbers). */
  vectorColumn?: string;
}

export function detectFormat(file: string): TableFormat {
  const ext = extname(file).toLowerCase();
  switch (ext) {
    case ".h5":
    case ".hdf5":
    case ".hdf":
      return "h5";
    case ".npy":
      return "npy";
    case ".csv":
    case ".tsv":
      return "csv";
    case ".json":
      return "json";
    case ".parquet":
    case ".pq":
      return "parquet";
    default:
      throw new InputError(`cannot tell the embedding file format from extension "${ext}"; set format`, {
        file,
      });
  }
}

export async function readEmbeddingTable(file: string, opts: ReadTableOptions = {}): Promise<EmbeddingTable> {
  if (!existsSync(file)) throw new InputError("embedding file not found", { file });
  const format = opts.format ?? detectFormat(file);
  const builder = new TableBuilder(file);
  switch (format) {
    case "h5":
      await readH5(file, builder);
      break;
    case "npy":
      await readNpyWithIndex(file, opts.indexFile, builder);
      break;
    case "csv":
      await readCsvTable(file, opts, builder);
      break;
    case "json":
      await readJsonTable(file, opts, builder);
      break;
    case "parquet":
      await readParquetTable(file, opts, builder);
      break;
  }
  return builder.finish();
}

/** Collects (key, vector) pairs, rejecting duplicates, bad values and mixed dimensions. */
class TableBuilder {
  private readonly keys: string[] = [];
  private readonly vectors: ArrayLike<number>[] = [];
  private readonly seen = new Map<string, number>();
  private dim = -1;
  readonly files: string[];
  constructor(readonly file: string) {
    this.files = [file];
  }

  add(key: string, vec: ArrayLike<number>, row?: number): void {
    const where = { file: this.file, ...(row !== undefined ? { row } : {}), field: key };
    if (key.length === 0) throw new InputError("empty key", where);
    const prev = this.seen.get(key);
    if (prev !== undefined)
      throw new InputError(`duplicate key "${key}" (first at entry ${prev + 1})`, where);
    if (this.dim < 0) this.dim = vec.length;
    else if (vec.length !== this.dim) {
      throw new InputError(
        `dimension mismatch: "${key}" has ${vec.length} values, earlier vectors have ${this.dim}`,
        where,
      );
    }
    checkVector(vec, `"${key}"`, {}, where);
    this.seen.set(key, this.keys.length);
    this.keys.push(key);
    this.vectors.push(vec);
  }

  finish(): EmbeddingTable {
    if (this.keys.length === 0) throw new InputError("no vectors in embedding file", { file: this.file });
    const data = new Float32Array(this.keys.length * this.dim);
    this.vectors.forEach((v, i) => {
      data.set(v, i * this.dim);
    });
    return { keys: this.keys, dim: this.dim, data, files: this.files };
  }
}

let h5: Promise<typeof H5> | null = null;

/**
 * h5wasm, loaded (and its WebAssembly instantiated) on the first HDF5 file: a run without one, such
 * as the demo, never maps it (under tsx, transpiling it at start-up cost hundreds of MB).
 */
function loadH5(): Promise<typeof H5> {
  h5 ??= import("h5wasm/node").then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return h5;
}

/**
 * HDF5 via h5wasm (the reference HDF5 library compiled to WebAssembly). Two layouts: the seed
 * paper's one dataset per key (shape (1, dim) or (dim)), anywhere in the group tree (the key is the
 * dataset's name); or one 2-D dataset `embeddings`/`vectors` with a string dataset `keys`.
 */
async function readH5(file: string, b: TableBuilder): Promise<void> {
  const h5wasm = await loadH5();
  if (!(await hasHdf5Signature(file))) throw new InputError("not an HDF5 file (no HDF5 signature)", { file });
  let f: InstanceType<typeof h5wasm.File>;
  try {
    f = new h5wasm.File(file, "r");
  } catch (e) {
    throw new InputError(`not a readable HDF5 file (${e instanceof Error ? e.message : String(e)})`, {
      file,
    });
  }
  try {
    const rootKeys = f.keys();
    const matrixName = rootKeys.find((k) => k === "embeddings" || k === "vectors");
    if (matrixName && rootKeys.includes("keys")) {
      const m = f.get(matrixName);
      const k = f.get("keys");
      if (!(m instanceof h5wasm.Dataset) || !(k instanceof h5wasm.Dataset)) {
        throw new InputError(`"${matrixName}" and "keys" must be datasets`, { file });
      }
      const shape = m.shape ?? [];
      const keys = k.value;
      if (shape.length !== 2 || !Array.isArray(keys)) {
        throw new InputError(`"${matrixName}" must be 2-D and "keys" a string array`, { file });
      }
      if (keys.length !== shape[0]) {
        throw new InputError(`"keys" has ${keys.length} entries but "${matrixName}" has ${shape[0]} rows`, {
          file,
        });
      }
      const values = numericValue(m.value, file, matrixName);
      for (let i = 0; i < shape[0]; i++)
        b.add(String(keys[i]), values.subarray(i * shape[1], (i + 1) * shape[1]), i + 1);
      return;
    }
    const walk = (prefix: string, names: string[]): void => {
      for (const name of names) {
        const path = prefix ? `${prefix}/${name}` : name;
        const obj = f.get(path);
        if (obj instanceof h5wasm.Group) walk(path, obj.keys());
        else if (obj instanceof h5wasm.Dataset) {
          const shape = obj.shape ?? [];
          const rows = shape.length === 2 ? shape[0] : 1;
          if (shape.length === 0 || shape.length > 2 || rows !== 1) {
            throw new InputError(
              `dataset "${path}" has shape (${shape.join(", ")}); expected (1, dim) or (dim)`,
              {
                file,
              },
            );
          }
          // The key is the dataset's own name: groups only organise the file (a name found in
          // two groups is a duplicate key).
          b.add(name, numericValue(obj.value, file, path));
        }
      }
    };
    walk("", rootKeys);
  } finally {
    f.close();
  }
}

/** HDF5 files start with this signature at byte 0, 512, 1024, 2048... (after an optional user block). */
async function hasHdf5Signature(file: string): Promise<boolean> {
  const sig = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  const fh = await open(file, "r");
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.alloc(8);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      await fh.read(buf, 0, 8, off);
      if (sig.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    await fh.close();
  }
}

function numericValue(v: unknown, file: string, name: string): Float32Array {
  if (v instanceof Float32Array) return v;
  if (
    v instanceof Float64Array ||
    v instanceof Int32Array ||
    v instanceof Int16Array ||
    v instanceof Uint8Array
  ) {
    return Float32Array.from(v);
  }
  throw new InputError(`dataset "${name}" is not numeric`, { file });
}

async function readNpyWithIndex(file: string, indexFile: string | undefined, b: TableBuilder): Promise<void> {
  const arr = parseNpy(new Uint8Array(await readFile(file)), file);
  if (arr.shape.length !== 2) {
    throw new InputError(`.npy array has shape (${arr.shape.join(", ")}); expected (rows, dim)`, { file });
  }
  const stem = file.slice(0, file.length - extname(file).length);
  const index = indexFile ?? [`${stem}.keys.txt`, `${stem}.txt`, `${stem}.json`].find((p) => existsSync(p));
  if (!index || !existsSync(index)) {
    throw new InputError(
      `index file not found (give indexFile, or put keys in ${basename(stem)}.keys.txt, one per line)`,
      { file },
    );
  }
  b.files.push(index);
  const text = await readFile(index, "utf8");
  let keys: string[];
  if (index.toLowerCase().endsWith(".json")) {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || !parsed.every((k) => typeof k === "string")) {
      throw new InputError("index JSON must be an array of strings", { file: index });
    }
    keys = parsed;
  } else {
    keys = text.split(/\r?\n/);
    while (keys.length > 0 && keys[keys.length - 1] === "") keys.pop();
  }
  const [rows, dim] = arr.shape;
  if (keys.length !== rows) {
    throw new InputError(`index has ${keys.length} keys but ${basename(file)} has ${rows} rows`, {
      file: index,
    });
  }
  for (let i = 0; i < rows; i++) b.add(keys[i], arr.data.subarray(i * dim, (i + 1) * dim), i + 1);
}

/** Parse a vector written as a JSON array or as numbers separated by spaces/commas/semicolons. */
function parseVectorText(s: string, where: { file: string; row: number; field: string }): number[] {
  const t = s.trim();
  const body = t.startsWith("[") && t.endsWith("]") ? t.slice(1, -1) : t;
  const parts = body.split(/[\s,;]+/).filter((p) => p.length > 0);
  return parts.map((p) => {
    const x = Number(p);
    if (Number.isNaN(x) && p.toLowerCase() !== "nan") throw new InputError(`"${p}" is not a number`, where);
    return x;
  });
}

/**
 * CSV with a header: a key column plus either one column per dimension (wide) or one column holding
 * the whole vector. A small RFC 4180 parser (quoted fields, doubled quotes, CRLF) is enough for an
 * embedding table and keeps this reader synchronous and dependency-free.
 */
async function readCsvTable(file: string, opts: ReadTableOptions, b: TableBuilder): Promise<void> {
  const text = await readFile(file, "utf8");
  const delimiter = file.toLowerCase().endsWith(".tsv") ? "\t" : ",";
  const rows = parseCsv(text.replace(/^\uFEFF/, ""), delimiter);
  if (rows.length < 2) throw new InputError("CSV needs a header row and at least one data row", { file });
  const header = rows[0];
  const keyIdx = pickColumn(header, opts.keyColumn, file);
  const vecIdx = opts.vectorColumn !== undefined ? header.indexOf(opts.vectorColumn) : -1;
  if (opts.vectorColumn !== undefined && vecIdx < 0) {
    throw new InputError(`no column "${opts.vectorColumn}"`, { file, row: 1 });
  }
  const single =
    vecIdx >= 0 || (header.length === 2 && rows.length > 1 && /[\s;[]/.test(rows[1][1 - keyIdx] ?? ""));
  const vIdx = vecIdx >= 0 ? vecIdx : 1 - keyIdx;
  for (let r = 1; r < rows.length; r++) {
    const cells = rows[r];
    if (cells.length === 1 && cells[0] === "") continue;
    if (cells.length !== header.length) {
      throw new InputError(`has ${cells.length} fields, header has ${header.length}`, { file, row: r + 1 });
    }
    const key = cells[keyIdx];
    let vec: number[];
    if (single) vec = parseVectorText(cells[vIdx], { file, row: r + 1, field: header[vIdx] });
    else {
      vec = [];
      for (let c = 0; c < cells.length; c++) {
        if (c === keyIdx) continue;
        const x = Number(cells[c]);
        if (cells[c].trim() === "" || (Number.isNaN(x) && cells[c].trim().toLowerCase() !== "nan")) {
          throw new InputError(`"${cells[c]}" is not a number`, { file, row: r + 1, field: header[c] });
        }
        vec.push(x);
      }
    }
    b.add(key, vec, r + 1);
  }
}

function pickColumn(header: string[], wanted: string | undefined, file: string): number {
  if (wanted !== undefined) {
    const i = header.indexOf(wanted);
    if (i < 0) throw new InputError(`no column "${wanted}"`, { file, row: 1 });
    return i;
  }
  return Math.max(header.indexOf("key"), 0);
}

export function parseCsv(text: string, delimiter = ","): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field.length === 0) {
      quoted = true;
      i++;
    } else if (c === delimiter) {
      row.push(field);
      field = "";
      i++;
    } else if (c === "\n" || c === "\r") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (field.length > 0 || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/**
 * JSON: an object `{ "<key>": [numbers] }`, an array of `{ key|text, vector|embedding }`, or
 * `{ keys: [...], vectors: [[...]] }`.
 */
async function readJsonTable(file: string, opts: ReadTableOptions, b: TableBuilder): Promise<void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new InputError(`invalid JSON (${e instanceof Error ? e.message : String(e)})`, { file });
  }
  const asVector = (v: unknown, row: number, field: string): number[] => {
    if (!Array.isArray(v) || !v.every((x) => typeof x === "number")) {
      throw new InputError("vector must be an array of numbers", { file, row, field });
    }
    return v;
  };
  if (Array.isArray(parsed)) {
    parsed.forEach((item, i) => {
      if (item === null || typeof item !== "object")
        throw new InputError("entry is not an object", { file, row: i + 1 });
      const o = item as Record<string, unknown>;
      const key = o[opts.keyColumn ?? "key"] ?? o.text;
      if (typeof key !== "string") throw new InputError("entry has no string key/text", { file, row: i + 1 });
      const vecField = opts.vectorColumn ?? ("vector" in o ? "vector" : "embedding");
      b.add(key, asVector(o[vecField], i + 1, vecField), i + 1);
    });
    return;
  }
  if (parsed === null || typeof parsed !== "object")
    throw new InputError("JSON must be an object or array", { file });
  const o = parsed as Record<string, unknown>;
  if (Array.isArray(o.keys) && Array.isArray(o.vectors)) {
    if (o.keys.length !== o.vectors.length) {
      throw new InputError(`${o.keys.length} keys but ${o.vectors.length} vectors`, { file });
    }
    o.keys.forEach((k, i) => {
      if (typeof k !== "string")
        throw new InputError("key is not a string", { file, row: i + 1, field: "keys" });
      b.add(k, asVector((o.vectors as unknown[])[i], i + 1, "vectors"), i + 1);
    });
    return;
  }
  let i = 0;
  for (const [k, v] of Object.entries(o)) b.add(k, asVector(v, ++i, k), i);
}

/** Parquet via hyparquet: a key column plus a list column (`vector`/`embedding`) or one numeric column per dimension. */
async function readParquetTable(file: string, opts: ReadTableOptions, b: TableBuilder): Promise<void> {
  let rows: Record<string, unknown>[];
  let columns: string[];
  try {
    const buf = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buf);
    const top = metadata.schema[0].num_children ?? 0;
    columns = topLevelNames(metadata.schema, top);
    rows = (await parquetReadObjects({ file: buf, metadata })) as Record<string, unknown>[];
  } catch (e) {
    throw new InputError(`not a readable Parquet file (${e instanceof Error ? e.message : String(e)})`, {
      file,
    });
  }
  const keyCol = opts.keyColumn ?? (columns.includes("key") ? "key" : columns[0]);
  if (!columns.includes(keyCol)) throw new InputError(`no column "${keyCol}"`, { file });
  const vecCol =
    opts.vectorColumn ??
    ["vector", "embedding"].find((c) => columns.includes(c) && c !== keyCol) ??
    undefined;
  const wide = columns.filter((c) => c !== keyCol);
  rows.forEach((r, i) => {
    const key = r[keyCol];
    if (typeof key !== "string")
      throw new InputError("key is not a string", { file, row: i + 1, field: keyCol });
    let vec: number[];
    if (vecCol !== undefined) {
      const v = r[vecCol];
      const arr = ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v;
      if (!Array.isArray(arr) || !arr.every((x) => typeof x === "number")) {
        throw new InputError("vector is not a list of numbers", { file, row: i + 1, field: vecCol });
      }
      vec = arr;
    } else {
      vec = wide.map((c) => {
        const x = r[c];
        if (typeof x !== "number") throw new InputError("not a number", { file, row: i + 1, field: c });
        return x;
      });
    }
    b.add(key, vec, i + 1);
  });
}

/** Names of the root's direct children in a flattened Parquet schema. */
function topLevelNames(schema: { name: string; num_children?: number }[], top: number): string[] {
  const names: string[] = [];
  let i = 1;
  const skip = (idx: number): number => {
    let next = idx + 1;
    for (let c = 0; c < (schema[idx].num_children ?? 0); c++) next = skip(next);
    return next;
  };
  for (let c = 0; c < top && i < schema.length; c++) {
    names.push(schema[i].name);
    i = skip(i);
  }
  return names;
}
