import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import h5wasm from "h5wasm/node";
import { readConceptCatalog, readFindingsTable } from "../../../src/data/adapters/findings-table.js";
import { encounterObservations, type SiteDataset } from "../../../src/data/types.js";
import { InputError } from "../../../src/util/errors.js";
import { sharedData } from "../../../src/util/paths.js";

const DTL = sharedData("influenza-dtl");
const CATALOG = sharedData("influenza-embeddings", "concept_pair.txt");
const TARGET_TEST = join(DTL, "target_test", "findings_final_0814_seed-1494714102_size10000.csv");
const TMP = join("test-output", "data", "findings");
mkdirSync(TMP, { recursive: true });

function labelCounts(ds: SiteDataset): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of ds.encounters.labels) out[ds.labelClasses[l]] = (out[ds.labelClasses[l]] ?? 0) + 1;
  return out;
}

test("target_test: 10,000 encounters with labels I 2742, M 1435, P 1453, R 4370", async () => {
  const ds = await readFindingsTable({ file: TARGET_TEST, catalog: CATALOG });
  assert.equal(ds.encounters.count, 10_000);
  assert.deepEqual(ds.labelClasses, ["I", "M", "P", "R"]);
  assert.deepEqual(labelCounts(ds), { I: 2742, M: 1435, P: 1453, R: 4370 });
  // 63 concept columns (64 minus the label); no M cells in this file, so 63 observations per row.
  assert.equal(ds.concepts.length, 63);
  assert.equal(ds.encounters.observations.length, 630_000);
});

// Counts from: /usr/bin/python3 -c "import csv,glob,collections; [print(f, collections.Counter(r[-1] for r in
//   list(csv.reader(open(f)))[1:])) for f in sorted(glob.glob('/work/shared/data/influenza-dtl/*/*.csv'))]"
const EXPECTED: Record<string, Record<string, number>> = {
  "findings_final_0814-portion1ita06round14_seed2016863826_size10000.csv": {
    I: 2673,
    M: 1371,
    P: 1444,
    R: 4512,
  },
  "findings_final_0814_seed1591536269_size10000.csv": { I: 2700, M: 1421, P: 1486, R: 4393 },
  "findings_final_0814_seed-1494714102_size10000.csv": { I: 2742, M: 1435, P: 1453, R: 4370 },
  "findings_final_0814_seed-1133351443_size400.csv": { I: 116, M: 58, P: 39, R: 187 },
  "findings_final_0814_seed-1227021050_size300.csv": { I: 74, M: 39, P: 46, R: 141 },
  "findings_final_0814_seed-1331694080_size100.csv": { I: 25, M: 13, P: 10, R: 52 },
  "findings_final_0814_seed-1872107095_size4000.csv": { I: 1097, M: 580, P: 579, R: 1744 },
  "findings_final_0814_seed-190708218_size5000.csv": { I: 1381, M: 684, P: 757, R: 2178 },
  "findings_final_0814_seed-53154026_size50.csv": { I: 19, M: 9, P: 7, R: 15 },
  "findings_final_0814_seed-972126700_size500.csv": { I: 136, M: 69, P: 82, R: 213 },
  "findings_final_0814_seed1033059257_size2000.csv": { I: 583, M: 297, P: 285, R: 835 },
  "findings_final_0814_seed2132231585_size10000.csv": { I: 2736, M: 1431, P: 1452, R: 4381 },
  "findings_final_0814_seed238506806_size1000.csv": { I: 278, M: 147, P: 149, R: 426 },
  "findings_final_0814_seed678668699_size3000.csv": { I: 849, M: 421, P: 425, R: 1305 },
  "findings_final_0814_seed756906437_size200.csv": { I: 56, M: 28, P: 25, R: 91 },
};

/**
 * The seed paper's token for one cell, exactly as ../shared/bench/torch_reference.py token_key() makes it:
 * agegroup and temperature levels are "<col>_<v>" tokens (M included), M elsewhere is padding, A is "Not".
 */
function torchToken(col: string, v: string): string | null {
  if (col === "agegroup") return `agegroup_${v}|pos`;
  if (col === "C0424781") return `C0424781_${v}|pos`;
  if (v === "M") return null;
  return `${col}|${v === "A" ? "neg" : "pos"}`;
}

function ourToken(ds: SiteDataset, type: number): string {
  const t = ds.observationTypes[type];
  const code = ds.concepts[t.concept].code;
  if (t.value.kind === "level") return `${code}_${t.value.level}|pos`;
  if (t.value.kind === "absent") return `${code}|neg`;
  return `${code}|pos`;
}

test("every influenza-dtl file reads, with the tokens of the PyTorch reference and the HDF5 keys", async () => {
  await h5wasm.ready;
  const h5 = new h5wasm.File(sharedData("influenza-embeddings", "concept_pair_bert.h5"), "r");
  // build_vocab() in torch_reference.py: (code, text starts with "Not ") per HDF5 key.
  const h5Tokens = new Set(
    h5.keys().map((k) => {
      const sp = k.indexOf(" ");
      return `${k.slice(0, sp)}|${k.slice(sp + 1).startsWith("Not ") ? "neg" : "pos"}`;
    }),
  );
  h5.close();
  assert.equal(h5Tokens.size, 180);
  const files = readdirSync(DTL, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(DTL, d.name)).map((f) => join(DTL, d.name, f)));
  assert.equal(files.length, 15);
  for (const file of files) {
    const ds = await readFindingsTable({ file, catalog: CATALOG });
    const name = file.split("/").pop()!;
    assert.deepEqual(labelCounts(ds), EXPECTED[name], name);
    for (let t = 0; t < ds.observationTypes.length; t++)
      assert.ok(h5Tokens.has(ourToken(ds, t)), ourToken(ds, t));
    // Row-by-row equality with the reference tokenisation on the first 50 rows.
    const lines = readFileSync(file, "utf8").split(/\r?\n/);
    const header = lines[0].split(",");
    for (let i = 0; i < 50; i++) {
      const cells = lines[i + 1].split(",");
      const expected = header
        .slice(0, -1)
        .map((c, j) => torchToken(c, cells[j]))
        .filter((x) => x !== null);
      const got = Array.from(encounterObservations(ds.encounters, i), (t) => ourToken(ds, t));
      assert.deepEqual(got, expected, `${name} row ${i + 2}`);
    }
  }
});

test("concept texts come from the catalog, levels carry their catalog texts", async () => {
  const ds = await readFindingsTable({ file: TARGET_TEST, catalog: CATALOG });
  const dys = ds.concepts.find((c) => c.code === "C0013404");
  assert.equal(dys?.text, "dyspnea");
  const temp = ds.concepts.find((c) => c.code === "C0424781");
  assert.equal(temp?.levelTexts?.M, "no temperature information");
  assert.deepEqual(Object.keys(temp?.levelTexts ?? {}).sort(), ["A", "I", "M", "P"]);
  const age = ds.concepts.find((c) => c.code === "agegroup");
  assert.deepEqual(Object.keys(age?.levelTexts ?? {}).sort(), ["ge64", "ge6ls65", "ls5"]);
  // Leading/trailing blanks of catalog names are trimmed, like the HDF5 keys.
  const cat = await readConceptCatalog(CATALOG);
  assert.equal(cat.size, 92); // grep -c ":" concept_pair.txt
  assert.equal(cat.get("AC000003"), "Respiratory Syncytial Virus Infection-like illness");
});

// ---- bad input ----------------------------------------------------------------------------------

const SMALL_CATALOG = "C1: cough\nC2: fever\nT_P: high temp\nT_M: no temp\n";

async function expectInputError(
  csv: string | Uint8Array,
  where: { row?: number; field?: string; message: RegExp },
  catalog = SMALL_CATALOG,
  opts: { labelColumn?: string } = {},
): Promise<void> {
  const file = join(TMP, `bad-${Math.random().toString(36).slice(2)}.csv`);
  const cat = join(TMP, `cat-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, csv);
  writeFileSync(cat, catalog);
  await assert.rejects(readFindingsTable({ file, catalog: cat, ...opts }), (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.match(e.message, where.message);
    assert.equal(e.location.file, file);
    assert.equal(e.location.row, where.row);
    assert.equal(e.location.field, where.field);
    return true;
  });
}

test("a well-formed small table reads with M dropped and level M kept", async () => {
  const file = join(TMP, "good.csv");
  const cat = join(TMP, "good.txt");
  writeFileSync(file, "C1,C2,T,diagnosis\r\nP,A,P,I\r\nM,P,M,R\r\n");
  writeFileSync(cat, SMALL_CATALOG);
  const ds = await readFindingsTable({ file, catalog: cat, name: "tiny" });
  assert.equal(ds.name, "tiny");
  assert.deepEqual(Array.from(ds.encounters.offsets), [0, 3, 5]);
  assert.deepEqual(
    Array.from(ds.encounters.observations, (t) => ourToken(ds, t)),
    ["C1|pos", "C2|neg", "T_P|pos", "C2|pos", "T_M|pos"],
  );
  assert.deepEqual(Array.from(ds.encounters.labels), [0, 1]);
});

test("bad input -> InputError naming file, row and column", async () => {
  await expectInputError("C1,C2,diagnosis\nP,A,I\nP,A\n", {
    row: 3,
    field: "diagnosis",
    message: /2 fields, header has 3/,
  });
  await expectInputError("C1,C2,diagnosis\nP,X,I\n", { row: 2, field: "C2", message: /unknown value "X"/ });
  await expectInputError("C1,T,diagnosis\nP,Q,I\n", {
    row: 2,
    field: "T",
    message: /unknown value "Q" \(expected P\/M\)/,
  });
  await expectInputError("C1,C2,label\nP,A,I\n", {
    row: 1,
    field: "diagnosis",
    message: /label column "diagnosis" is missing/,
  });
  await expectInputError("C1,C9,diagnosis\nP,A,I\n", {
    row: 1,
    field: "C9",
    message: /has no entry for column "C9"/,
  });
  await expectInputError("encounter_id,C1,diagnosis\ne1,P,I\ne1,A,R\n", {
    row: 3,
    field: "encounter_id",
    message: /duplicate encounter id "e1"/,
  });
  await expectInputError("C1,C2,diagnosis\nP,A,\n", { row: 2, field: "diagnosis", message: /empty label/ });
  await expectInputError("C1,diagnosis\n", { row: undefined, field: undefined, message: /no data rows/ });
  await expectInputError("", { row: undefined, field: undefined, message: /file is empty/ });
  const latin1 = Buffer.concat([
    Buffer.from("C1,diagnosis\nP,I\nP,"),
    Buffer.from([0xe9]),
    Buffer.from("\n"),
  ]);
  await expectInputError(latin1, { row: 3, field: undefined, message: /not valid UTF-8/ });
  // The column by its header name (not "column 1").
  await expectInputError('C1,diagnosis\n"P,I\n', { row: 2, field: "C1", message: /unclosed quote/ });
});

test("a level without its catalog line: the error names the catalog and the missing line", async () => {
  // Case 6 of "Results a reviewer can trust": blamed on the data row, the catalog must be named too.
  await expectInputError("C1,T,diagnosis\nP,Q,I\n", {
    row: 2,
    field: "T",
    message: /unknown value "Q" \(expected P\/M\): the catalog .*cat-\w+\.txt has no line "T_Q: <text>"/,
  });
  await expectInputError("C1,C2,diagnosis\nP,X,I\n", {
    row: 2,
    field: "C2",
    message: /the catalog .*cat-\w+\.txt lists "C2" as a present\/absent finding.*"C2_X"/,
  });
});

test("bad catalog -> InputError naming the catalog line", async () => {
  const file = join(TMP, "ok.csv");
  writeFileSync(file, "C1,diagnosis\nP,I\n");
  const cat = join(TMP, "badcat.txt");
  writeFileSync(cat, "C1: cough\nno colon here\n");
  await assert.rejects(readFindingsTable({ file, catalog: cat }), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.location.file, cat);
    assert.equal(e.location.row, 2);
    return true;
  });
});
