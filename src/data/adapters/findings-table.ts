import { basename } from "node:path";
import { own, setOwn } from "../../util/dict.js";
import { InputError } from "../../util/errors.js";
import { SiteDatasetBuilder } from "../builder.js";
import { parseCsv } from "../csv.js";
import { readTextFile } from "../text-file.js";
import type { Concept, ObservationValue, SiteDataset } from "../types.js";

/**
 * The seed paper's findings table (influenza-dtl): one CSV row per encounter, one column per concept.
 *
 * - A binary column (catalog has `CODE: name`) takes P (present), A (absent) or M (missing, dropped:
 *   the paper pads it). Its concept is (code = column, text = catalog name).
 * - A multi-level column (catalog has `CODE_<level>: text` lines and no plain `CODE` line, e.g.
 *   temperature `C0424781` and `agegroup`) is ONE concept whose value is {kind:"level"} with the
 *   level's catalog text. Every catalog level is a token, M included (temperature's
 *   "no temperature information"), exactly like the seed paper's HDF5 keys and the PyTorch reference
 *   (`C0424781_<v>`, `agegroup_<v>`). A value M without its own catalog line means missing (dropped).
 * - The label column (default `diagnosis`) gives the class; classes are its sorted distinct values.
 * - An optional id column (default `encounter_id`) gives encounter ids; otherwise ids are `row-<n>`.
 */
export interface FindingsTableOptions {
  file: string;
  catalog: string;
  name?: string;
  labelColumn?: string;
  /** Column with encounter ids; used when present in the header (default "encounter_id"). */
  idColumn?: string;
}

/** Concept texts for the multi-level columns, which have no plain catalog line of their own. */
const LEVEL_CONCEPT_TEXT: Record<string, string> = { C0424781: "temperature", agegroup: "age group" };

/** Read a catalog of `code: name` lines (the seed paper's concept_pair.txt). Names are trimmed. */
export async function readConceptCatalog(path: string): Promise<Map<string, string>> {
  const text = await readTextFile(path);
  const catalog = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    if (raw.trim() === "") return;
    const colon = raw.indexOf(":");
    if (colon <= 0) throw new InputError('expected a "code: name" line', { file: path, row: i + 1 });
    const code = raw.slice(0, colon).trim();
    const name = raw.slice(colon + 1).trim();
    if (code === "" || /\s/.test(code))
      throw new InputError(`invalid code "${code}"`, { file: path, row: i + 1 });
    if (name === "")
      throw new InputError(`empty name for code "${code}"`, { file: path, row: i + 1, field: code });
    if (catalog.has(code))
      throw new InputError(`duplicate code "${code}"`, { file: path, row: i + 1, field: code });
    catalog.set(code, name);
  });
  if (catalog.size === 0) throw new InputError("catalog has no entries", { file: path });
  return catalog;
}

/** Per column: what each cell value turns into (observation type id, or -1 = dropped). */
type ColumnPlan =
  | {
      kind: "concept";
      lookup: (value: string) => number | undefined;
      allowed: string;
      /** What to tell the user about an unknown value: which catalog line is missing. */
      missing: (value: string) => string;
    }
  | { kind: "label" }
  | { kind: "id" };

export async function readFindingsTable(opts: FindingsTableOptions): Promise<SiteDataset> {
  const labelColumn = opts.labelColumn ?? "diagnosis";
  const idColumn = opts.idColumn ?? "encounter_id";
  const [catalog, text] = await Promise.all([readConceptCatalog(opts.catalog), readTextFile(opts.file)]);
  const file = opts.file;
  // Exact size hints (rows from the line count, cells from the header) so arrays never regrow.
  let lines = 0;
  for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) lines++;
  const columns = text
    .slice(0, text.indexOf("\n") === -1 ? text.length : text.indexOf("\n"))
    .split(",").length;
  const b = new SiteDatasetBuilder(opts.name ?? basename(file).replace(/\.csv$/i, ""), {
    expectedEncounters: Math.max(16, lines),
    expectedObservations: Math.max(64, lines * columns),
  });
  let header: string[] | null = null;
  let plans: ColumnPlan[] = [];
  let labelAt = -1;
  let idAt = -1;
  let dataRows = 0;
  parseCsv(text, file, (fields, line) => {
    if (header === null) {
      header = fields.map((f) => f.trim());
      plans = planColumns(header, catalog, b, { file, catalogFile: opts.catalog, labelColumn, idColumn });
      labelAt = header.indexOf(labelColumn);
      idAt = header.indexOf(idColumn);
      return;
    }
    const h = header;
    if (fields.length !== h.length) {
      throw new InputError(`row has ${fields.length} fields, header has ${h.length}`, {
        file,
        row: line,
        field: fields.length < h.length ? h[fields.length] : `column ${fields.length}`,
      });
    }
    dataRows++;
    const label = fields[labelAt].trim();
    if (label === "") throw new InputError("empty label", { file, row: line, field: labelColumn });
    const id = idAt >= 0 ? fields[idAt].trim() : `row-${dataRows}`;
    if (id === "") throw new InputError("empty encounter id", { file, row: line, field: idColumn });
    b.beginEncounter(id, { label }, { file, row: line, field: idAt >= 0 ? idColumn : undefined });
    for (let j = 0; j < fields.length; j++) {
      const plan = plans[j];
      if (plan.kind !== "concept") continue;
      const t = plan.lookup(fields[j]);
      if (t === undefined) {
        throw new InputError(
          `unknown value "${fields[j]}" (expected ${plan.allowed}): ${plan.missing(fields[j])}`,
          {
            file,
            row: line,
            field: h[j],
          },
        );
      }
      if (t >= 0) b.addObservation(t);
    }
  });
  if (dataRows === 0) throw new InputError("no data rows", { file });
  return b.build({ adapter: "findings-table", files: [file, opts.catalog] });
}

function planColumns(
  header: string[],
  catalog: Map<string, string>,
  b: SiteDatasetBuilder,
  ctx: { file: string; catalogFile: string; labelColumn: string; idColumn: string },
): ColumnPlan[] {
  if (!header.includes(ctx.labelColumn)) {
    throw new InputError(`label column "${ctx.labelColumn}" is missing from the header`, {
      file: ctx.file,
      row: 1,
      field: ctx.labelColumn,
    });
  }
  const seen = new Set<string>();
  return header.map((col): ColumnPlan => {
    if (col === "") throw new InputError("empty column name in header", { file: ctx.file, row: 1 });
    if (seen.has(col))
      throw new InputError("duplicate column name in header", { file: ctx.file, row: 1, field: col });
    seen.add(col);
    if (col === ctx.labelColumn) return { kind: "label" };
    if (col === ctx.idColumn) return { kind: "id" };
    const plain = catalog.get(col);
    const levelTexts: Record<string, string> = {};
    const prefix = `${col}_`;
    for (const [code, name] of catalog)
      if (code.startsWith(prefix)) setOwn(levelTexts, code.slice(prefix.length), name);
    const levels = Object.keys(levelTexts);
    if (plain === undefined && levels.length > 0) {
      const concept: Concept = {
        code: col,
        text: own(LEVEL_CONCEPT_TEXT, col) ?? col,
        system: "findings",
        levelTexts,
      };
      const ci = b.addConcept(concept, { file: ctx.file, row: 1, field: col });
      const values = new Map<string, ObservationValue | null>(
        levels.map((level) => [level, { kind: "level", level }]),
      );
      if (!values.has("M")) values.set("M", null);
      return {
        kind: "concept",
        lookup: lazyTypes(b, ci, values),
        allowed: [...values.keys()].join("/"),
        missing: (v) => `the catalog ${ctx.catalogFile} has no line "${col}_${v}: <text>" for this level`,
      };
    }
    if (plain === undefined) {
      throw new InputError(`catalog ${ctx.catalogFile} has no entry for column "${col}"`, {
        file: ctx.file,
        row: 1,
        field: col,
      });
    }
    const ci = b.addConcept(
      { code: col, text: plain, system: "findings" },
      { file: ctx.file, row: 1, field: col },
    );
    return {
      kind: "concept",
      lookup: lazyTypes(b, ci, BINARY_VALUES),
      allowed: "P/A/M",
      missing: (v) =>
        `the catalog ${ctx.catalogFile} lists "${col}" as a present/absent finding; a multi-level column has "${col}_<level>: <text>" lines instead (e.g. "${col}_${v}")`,
    };
  });
}

const BINARY_VALUES = new Map<string, ObservationValue | null>([
  ["P", { kind: "present" }],
  ["A", { kind: "absent" }],
  ["M", null],
]);

/**
 * Cell value -> observation type id (-1 = dropped, undefined = not allowed). Types are interned on
 * first occurrence, so a dataset lists only the (concept, value) pairs that occur in it.
 */
function lazyTypes(
  b: SiteDatasetBuilder,
  concept: number,
  values: Map<string, ObservationValue | null>,
): (value: string) => number | undefined {
  const ids = new Map<string, number>();
  return (v) => {
    const known = ids.get(v);
    if (known !== undefined) return known;
    const ov = values.get(v);
    if (ov === undefined) return undefined;
    const id = ov === null ? -1 : b.typeId(concept, ov);
    ids.set(v, id);
    return id;
  };
}
