import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parquetWriteBuffer } from "hyparquet-writer";
import { readEventTable, readEventTableDir } from "../../../src/data/adapters/event-table.js";
import { encounterObservations, type SiteDataset, tokenKey } from "../../../src/data/types.js";
import { InputError } from "../../../src/util/errors.js";

const DIR = join("test-output", "data", "event-table");
mkdirSync(DIR, { recursive: true });

function write(name: string, text: string): string {
  const p = join(DIR, name);
  writeFileSync(p, text);
  return p;
}

function tokens(ds: SiteDataset, i: number): string[] {
  return Array.from(encounterObservations(ds.encounters, i), (t) => {
    const ot = ds.observationTypes[t];
    return tokenKey(ds.concepts[ot.concept].code, ot.value);
  });
}

const LABELS = "encounter_id,label,group,period\ne1,flu,p1,2020\ne2,rsv,p1,2021\ne3,,p2,2020\n";
const EVENTS = [
  "encounter_id,code,text,value,value_text,time",
  'e2,C1,"cough, dry",present,,2021-01-02',
  'e1,C1,"cough, dry",,,2020-12-01T10:00:00Z',
  "e1,T,temperature,high,temp >= 104F,",
  "e1,C2,fever,absent,,",
  "e2,C2,fever,missing,,",
  'e1,C3,"say ""ah""",PRESENT,,',
].join("\r\n");

test("reads events + labels: values, levels, quoting, grouping, periods, unlabeled, times", async () => {
  const ds = await readEventTable({
    events: write("ev.csv", EVENTS),
    labels: write("lab.csv", LABELS),
    name: "x",
  });
  assert.equal(ds.encounters.count, 3);
  assert.deepEqual(ds.labelClasses, ["flu", "rsv"]);
  assert.deepEqual(Array.from(ds.encounters.labels), [0, 1, -1]);
  assert.deepEqual(tokens(ds, 0), ["C1|present", "T|level:high", "C2|absent", "C3|present"]);
  assert.deepEqual(tokens(ds, 1), ["C1|present"]); // "missing" dropped
  assert.deepEqual(tokens(ds, 2), []);
  assert.equal(ds.concepts.find((c) => c.code === "C1")?.text, "cough, dry");
  assert.equal(ds.concepts.find((c) => c.code === "C3")?.text, 'say "ah"');
  assert.deepEqual(ds.concepts.find((c) => c.code === "T")?.levelTexts, { high: "temp >= 104F" });
  assert.deepEqual(ds.encounters.groupNames, ["p1", "p2"]);
  assert.deepEqual(Array.from(ds.encounters.groups), [0, 0, 1]);
  assert.deepEqual(ds.encounters.periodNames, ["2020", "2021"]);
  assert.equal(ds.encounters.times?.[0], Date.parse("2020-12-01T10:00:00Z"));
  const kept = await readEventTable({
    events: join(DIR, "ev.csv"),
    labels: join(DIR, "lab.csv"),
    keepMissing: true,
  });
  assert.deepEqual(tokens(kept, 1), ["C1|present", "C2|missing"]);
});

test("configurable column names", async () => {
  const ev = write("ev2.csv", "visit,concept,name\nv1,A,alpha\n");
  const lab = write("lab2.csv", "visit,outcome\nv1,yes\n");
  const ds = await readEventTable({
    events: ev,
    labels: lab,
    eventColumns: { encounterId: "visit", code: "concept", text: "name" },
    labelColumns: { encounterId: "visit", label: "outcome" },
  });
  assert.deepEqual(tokens(ds, 0), ["A|present"]);
  assert.deepEqual(ds.labelClasses, ["yes"]);
});

test("Parquet events and labels read the same as CSV", async () => {
  const dir = join(DIR, "pq");
  mkdirSync(dir, { recursive: true });
  const ev = parquetWriteBuffer({
    columnData: [
      { name: "encounter_id", data: ["e1", "e1", "e2"] },
      { name: "code", data: ["C1", "C2", "C1"] },
      { name: "text", data: ["cough", "fever", "cough"] },
      { name: "value", data: ["present", "absent", "present"] },
    ],
  });
  const lab = parquetWriteBuffer({
    columnData: [
      { name: "encounter_id", data: ["e1", "e2"] },
      { name: "label", data: ["a", "b"] },
    ],
  });
  writeFileSync(join(dir, "events.parquet"), new Uint8Array(ev));
  writeFileSync(join(dir, "labels.parquet"), new Uint8Array(lab));
  const ds = await readEventTableDir(dir);
  assert.equal(ds.name, "pq");
  assert.deepEqual(tokens(ds, 0), ["C1|present", "C2|absent"]);
  assert.deepEqual(tokens(ds, 1), ["C1|present"]);
  assert.deepEqual(Array.from(ds.encounters.labels), [0, 1]);
});

async function rejects(
  events: string,
  labels: string,
  want: { file: "events" | "labels"; row?: number; field?: string; message: RegExp },
): Promise<void> {
  const ev = write(`bad-ev-${Math.random().toString(36).slice(2)}.csv`, events);
  const lab = write(`bad-lab-${Math.random().toString(36).slice(2)}.csv`, labels);
  await assert.rejects(readEventTable({ events: ev, labels: lab }), (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.match(e.message, want.message);
    assert.equal(e.location.file, want.file === "events" ? ev : lab);
    assert.equal(e.location.row, want.row);
    assert.equal(e.location.field, want.field);
    return true;
  });
}

test("bad input -> InputError naming file, row and field", async () => {
  const okLabels = "encounter_id,label\ne1,a\ne2,b\n";
  await rejects("encounter_id,code,text\ne1,C1,x\ne9,C1,x\n", okLabels, {
    file: "events",
    row: 3,
    field: "encounter_id",
    message: /"e9" is not in the labels file/,
  });
  await rejects("encounter_id,code,text\ne1,C1,x\ne2,C1,y\n", okLabels, {
    file: "events",
    row: 3,
    field: "text",
    message: /code "C1" has text "y" but "x" on row 2/,
  });
  await rejects("encounter_id,code,text\ne1,C1\n", okLabels, {
    file: "events",
    row: 2,
    field: "text",
    message: /2 fields/,
  });
  await rejects("encounter_id,code\ne1,C1\n", okLabels, {
    file: "events",
    row: 1,
    field: "text",
    message: /"text" is missing/,
  });
  await rejects("encounter_id,code,text\n", "encounter_id,label\ne1,a\ne1,b\n", {
    file: "labels",
    row: 3,
    field: "encounter_id",
    message: /duplicate encounter id "e1" \(first on row 2\)/,
  });
  await rejects("encounter_id,code,text\n", "encounter_id,outcome\ne1,a\n", {
    file: "labels",
    row: 1,
    field: "label",
    message: /"label" is missing/,
  });
  await rejects("encounter_id,code,text,time\ne1,C1,x,notadate\n", okLabels, {
    file: "events",
    row: 2,
    field: "time",
    message: /neither a number nor a date/,
  });
  await rejects("encounter_id,code,text,value,value_text\ne1,T,t,hi,high\ne2,T,t,hi,HIGH\n", okLabels, {
    file: "events",
    row: 3,
    field: "value_text",
    message: /two texts/,
  });
  await rejects("", okLabels, { file: "events", message: /empty/ });
  await assert.rejects(readEventTableDir(join(DIR, "nope")), InputError);
  await assert.rejects(readEventTable({ events: "", labels: "x" }), (e: unknown) => {
    return e instanceof InputError && e.location.field === "eventTable.events";
  });
});
