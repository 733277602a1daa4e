import { asyncBufferFromFile, parquetReadObjects } from "hyparquet";
import { InputError } from "../../util/errors.js";
import { parseCsv } from "../csv.js";
import { readTextFile } from "../text-file.js";

/**
 * Rows of a tabular file as string fields, whatever its format: CSV (optionally gzipped) or Parquet.
 * `onRow` receives the fields in header order and a row number for error messages: the physical
 * CSV line (header = 1), or for Parquet the 1-based record number plus 1 (so the first record is
 * "row 2" in both formats, as a spreadsheet would show it).
 */
export async function forEachRow(
  file: string,
  onHeader: (header: string[]) => void,
  onRow: (fields: string[], row: number) => void,
): Promise<void> {
  if (/\.parquet$/i.test(file)) {
    let buffer: Awaited<ReturnType<typeof asyncBufferFromFile>>;
    try {
      buffer = await asyncBufferFromFile(file);
    } catch {
      throw new InputError("file not found or unreadable", { file });
    }
    let records: Record<string, unknown>[];
    try {
      records = await parquetReadObjects({ file: buffer });
    } catch (e) {
      throw new InputError(`not a readable Parquet file (${e instanceof Error ? e.message : String(e)})`, {
        file,
      });
    }
    if (records.length === 0) throw new InputError("no data rows", { file });
    const header = Object.keys(records[0]);
    onHeader(header);
    records.forEach((rec, k) => {
      onRow(
        header.map((h) => cellString(rec[h])),
        k + 2,
      );
    });
    return;
  }
  const text = await readTextFile(file);
  let width = -1;
  let header: string[] = [];
  parseCsv(text, file, (fields, line) => {
    if (width < 0) {
      header = fields.map((f) => f.trim());
      width = fields.length;
      onHeader(header);
      return;
    }
    if (fields.length !== width) {
      throw new InputError(`row has ${fields.length} fields, header has ${width}`, {
        file,
        row: line,
        field: fields.length < width ? header[fields.length] : `column ${fields.length}`,
      });
    }
    onRow(fields, line);
  });
}

function cellString(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (v instanceof Date) return v.toISOString();
  return String(v);
}
