import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import { own, setOwn } from "../../util/dict.js";
import { InputError } from "../../util/errors.js";
import { SiteDatasetBuilder } from "../builder.js";
import type { Concept, ObservationValue, SiteDataset } from "../types.js";
import { parseSettings } from "../validate.js";
import { forEachRow } from "./table-source.js";

/**
 * The generic site format: an event table with one row per observation (encounter_id, code, text,
 * optional value, optional value_text, optional time) and a labels table with one row per encounter
 * (encounter_id, label, optional group, optional period, optional time). CSV (optionally .gz) or
 * Parquet. The encounters are those of the labels table, in its order; an event of an encounter the
 * labels table does not list is an error (it would otherwise be silently lost).
 *
 * Values: empty or "present" -> present, "absent" -> absent, "missing" -> missing (dropped unless
 * keepMissing), anything else -> a level of a multi-level concept (its text from value_text).
 * Keywords are case-insensitive; level names are kept as written.
 */
export const EventTableSettings = z
  .object({
    events: z.string().min(1),
    labels: z.string().min(1),
    name: z.string().min(1).optional(),
    eventColumns: z
      .object({
        encounterId: z.string().default("encounter_id"),
        code: z.string().default("code"),
        text: z.string().default("text"),
        value: z.string().default("value"),
        valueText: z.string().default("value_text"),
        time: z.string().default("time"),
      })
      .strict()
      .default({
        encounterId: "encounter_id",
        code: "code",
        text: "text",
        value: "value",
        valueText: "value_text",
        time: "time",
      }),
    labelColumns: z
      .object({
        encounterId: z.string().default("encounter_id"),
        label: z.string().default("label"),
        group: z.string().default("group"),
        period: z.string().default("period"),
        time: z.string().default("time"),
      })
      .strict()
      .default({
        encounterId: "encounter_id",
        label: "label",
        group: "group",
        period: "period",
        time: "time",
      }),
    /** Keep "missing" values as explicit observations (otherwise they produce no observation). */
    keepMissing: z.boolean().default(false),
    /** Coding system recorded on every concept. */
    system: z.string().optional(),
  })
  .strict();
export type EventTableSettings = z.infer<typeof EventTableSettings>;
export type EventTableSettingsInput = z.input<typeof EventTableSettings>;

/** File names looked for in an event-table directory, in order of preference. */
export const EVENT_TABLE_FILES = {
  events: "events.csv",
  labels: "labels.csv",
  eventsCandidates: ["events.csv", "events.csv.gz", "events.parquet"],
  labelsCandidates: ["labels.csv", "labels.csv.gz", "labels.parquet"],
} as const;

/** Does `dir` look like an event-table directory (has an events and a labels file)? */
export function findEventTableFiles(dir: string): { events: string; labels: string } | null {
  const events = EVENT_TABLE_FILES.eventsCandidates.map((f) => join(dir, f)).find((p) => existsSync(p));
  const labels = EVENT_TABLE_FILES.labelsCandidates.map((f) => join(dir, f)).find((p) => existsSync(p));
  return events && labels ? { events, labels } : null;
}

/** Read a directory holding events.{csv,csv.gz,parquet} and labels.{csv,csv.gz,parquet}. */
export async function readEventTableDir(
  dir: string,
  overrides: Omit<EventTableSettingsInput, "events" | "labels"> = {},
): Promise<SiteDataset> {
  const files = findEventTableFiles(dir);
  if (!files) {
    throw new InputError("no events.csv/.parquet and labels.csv/.parquet found in the directory", {
      file: dir,
    });
  }
  return readEventTable({ name: basename(resolve(dir)), ...overrides, ...files });
}

function parseTime(raw: string, file: string, row: number, field: string): number {
  const n = Number(raw);
  if (raw.trim() !== "" && Number.isFinite(n)) return n;
  const d = Date.parse(raw);
  if (Number.isNaN(d)) throw new InputError(`"${raw}" is neither a number nor a date`, { file, row, field });
  return d;
}

export async function readEventTable(input: EventTableSettingsInput): Promise<SiteDataset> {
  const s = parseSettings(EventTableSettings, input, "eventTable");
  const lc = s.labelColumns;
  // 1. Labels: the encounters, in file order.
  type EncounterRow = {
    id: string;
    label: string | null;
    group?: string;
    period?: string;
    time?: number;
    row: number;
  };
  const encounters: EncounterRow[] = [];
  const byId = new Map<string, number>();
  let li = { id: -1, label: -1, group: -1, period: -1, time: -1 };
  await forEachRow(
    s.labels,
    (header) => {
      const at = (name: string, required: boolean): number => {
        const i = header.indexOf(name);
        if (i < 0 && required) {
          throw new InputError(`required column "${name}" is missing from the header`, {
            file: s.labels,
            row: 1,
            field: name,
          });
        }
        return i;
      };
      li = {
        id: at(lc.encounterId, true),
        label: at(lc.label, true),
        group: at(lc.group, false),
        period: at(lc.period, false),
        time: at(lc.time, false),
      };
    },
    (f, row) => {
      const id = f[li.id].trim();
      if (id === "")
        throw new InputError("empty encounter id", { file: s.labels, row, field: lc.encounterId });
      if (byId.has(id)) {
        throw new InputError(
          `duplicate encounter id "${id}" (first on row ${encounters[byId.get(id)!].row})`,
          {
            file: s.labels,
            row,
            field: lc.encounterId,
          },
        );
      }
      const label = f[li.label].trim();
      const e: EncounterRow = { id, label: label === "" ? null : label, row };
      if (li.group >= 0 && f[li.group].trim() !== "") e.group = f[li.group].trim();
      if (li.period >= 0 && f[li.period].trim() !== "") e.period = f[li.period].trim();
      if (li.time >= 0 && f[li.time].trim() !== "") e.time = parseTime(f[li.time], s.labels, row, lc.time);
      byId.set(id, encounters.length);
      encounters.push(e);
    },
  );
  if (encounters.length === 0) throw new InputError("no data rows", { file: s.labels });

  // 2. Events: concepts and (encounter, observation type) pairs.
  const b = new SiteDatasetBuilder(s.name ?? basename(s.events).replace(/\.(csv|csv\.gz|parquet)$/i, ""), {
    expectedEncounters: encounters.length,
  });
  const ec = s.eventColumns;
  let ei = { id: -1, code: -1, text: -1, value: -1, valueText: -1, time: -1 };
  let encOf: Int32Array = new Int32Array(1 << 16);
  let typeOf: Int32Array = new Int32Array(1 << 16);
  let nEvents = 0;
  const firstTime = new Float64Array(encounters.length).fill(Number.NaN);
  const conceptRow = new Map<string, number>();
  const typeCache = new Map<string, number>();
  await forEachRow(
    s.events,
    (header) => {
      const at = (name: string, required: boolean): number => {
        const i = header.indexOf(name);
        if (i < 0 && required) {
          throw new InputError(`required column "${name}" is missing from the header`, {
            file: s.events,
            row: 1,
            field: name,
          });
        }
        return i;
      };
      ei = {
        id: at(ec.encounterId, true),
        code: at(ec.code, true),
        text: at(ec.text, true),
        value: at(ec.value, false),
        valueText: at(ec.valueText, false),
        time: at(ec.time, false),
      };
    },
    (f, row) => {
      const id = f[ei.id].trim();
      const enc = byId.get(id);
      if (enc === undefined) {
        throw new InputError(`encounter id "${id}" is not in the labels file ${s.labels}`, {
          file: s.events,
          row,
          field: ec.encounterId,
        });
      }
      const code = f[ei.code].trim();
      if (code === "") throw new InputError("empty code", { file: s.events, row, field: ec.code });
      const text = f[ei.text].trim();
      const rawValue = ei.value >= 0 ? f[ei.value].trim() : "";
      const cacheKey = `${code}\u0000${text}\u0000${rawValue}\u0000${ei.valueText >= 0 ? f[ei.valueText] : ""}`;
      let type = typeCache.get(cacheKey);
      if (type === undefined) {
        type = resolveType(
          b,
          { code, text, rawValue, valueText: ei.valueText >= 0 ? f[ei.valueText].trim() : "" },
          s,
          {
            row,
            conceptRow,
          },
        );
        typeCache.set(cacheKey, type);
      }
      if (ei.time >= 0 && f[ei.time].trim() !== "") {
        const t = parseTime(f[ei.time], s.events, row, ec.time);
        if (!(t >= firstTime[enc])) firstTime[enc] = t;
      }
      if (type < 0) return;
      if (nEvents >= encOf.length) {
        const grow = (a: Int32Array): Int32Array => {
          const n = new Int32Array(a.length * 2);
          n.set(a);
          return n;
        };
        encOf = grow(encOf);
        typeOf = grow(typeOf);
      }
      encOf[nEvents] = enc;
      typeOf[nEvents] = type;
      nEvents++;
    },
  );
  // 3. Counting sort of events by encounter (stable: event order within an encounter is kept).
  const start = new Uint32Array(encounters.length + 1);
  for (let k = 0; k < nEvents; k++) start[encOf[k] + 1]++;
  for (let i = 0; i < encounters.length; i++) start[i + 1] += start[i];
  const fill = start.slice(0, encounters.length);
  const sorted = new Uint32Array(nEvents);
  for (let k = 0; k < nEvents; k++) sorted[fill[encOf[k]]++] = typeOf[k];
  encounters.forEach((e, i) => {
    const time = e.time ?? (Number.isNaN(firstTime[i]) ? undefined : firstTime[i]);
    b.beginEncounter(e.id, {
      label: e.label,
      ...(e.group !== undefined ? { group: e.group } : {}),
      ...(e.period !== undefined ? { period: e.period } : {}),
      ...(time !== undefined ? { time } : {}),
    });
    for (let k = start[i]; k < start[i + 1]; k++) b.addObservation(sorted[k]);
  });
  return b.build({ adapter: "event-table", files: [s.events, s.labels] });
}

/** Value keywords (a Map: a value "constructor" or "__proto__" is a level like any other). */
const KEYWORDS = new Map<string, ObservationValue>(
  Object.entries({
    "": { kind: "present" },
    present: { kind: "present" },
    absent: { kind: "absent" },
    missing: { kind: "missing" },
  }),
);

/** Observation type of one event (creating/updating its concept); -1 = produces no observation. */
function resolveType(
  b: SiteDatasetBuilder,
  ev: { code: string; text: string; rawValue: string; valueText: string },
  s: EventTableSettings,
  ctx: { row: number; conceptRow: Map<string, number> },
): number {
  const where = { file: s.events, row: ctx.row };
  if (ev.text === "")
    throw new InputError(`empty text for code "${ev.code}"`, { ...where, field: s.eventColumns.text });
  let ci = b.conceptIndex(ev.code);
  if (ci === undefined) {
    const concept: Concept = { code: ev.code, text: ev.text, ...(s.system ? { system: s.system } : {}) };
    ci = b.addConcept(concept);
    ctx.conceptRow.set(ev.code, ctx.row);
  }
  const concept = b.concepts[ci];
  if (concept.text !== ev.text) {
    throw new InputError(
      `code "${ev.code}" has text "${ev.text}" but "${concept.text}" on row ${ctx.conceptRow.get(ev.code)}`,
      { ...where, field: s.eventColumns.text },
    );
  }
  const value: ObservationValue = KEYWORDS.get(ev.rawValue.toLowerCase()) ?? {
    kind: "level",
    level: ev.rawValue,
  };
  if (value.kind === "missing" && !s.keepMissing) return -1;
  if (value.kind === "level" && ev.valueText !== "") {
    concept.levelTexts ??= {};
    const known = own(concept.levelTexts, value.level);
    if (known !== undefined && known !== ev.valueText) {
      throw new InputError(
        `level "${value.level}" of code "${ev.code}" has two texts: "${known}" and "${ev.valueText}"`,
        {
          ...where,
          field: s.eventColumns.valueText,
        },
      );
    }
    setOwn(concept.levelTexts, value.level, ev.valueText);
  }
  return b.typeId(ci, value);
}
