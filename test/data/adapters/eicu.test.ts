import assert from "node:assert/strict";
import { test } from "node:test";
import { readEicuSites, splitIcdCodes } from "../../../src/data/adapters/eicu.js";
import type { SiteDataset } from "../../../src/data/types.js";
import { InputError } from "../../../src/util/errors.js";

function stays(ds: SiteDataset): { stays: number; dropped: number; deaths: number } {
  const m = /^(\d+) ICU stays; (\d+) with a blank/.exec(ds.provenance.notes?.[0] ?? "");
  assert.ok(m, "provenance note with stay counts");
  const deaths = ds.encounters.labels.filter((l) => ds.labelClasses[l] === "Expired").length;
  assert.equal(Number(m[1]), ds.encounters.count + Number(m[2]));
  return { stays: Number(m[1]), dropped: Number(m[2]), deaths };
}

// Reference counts from the issue; cross-checked with
// /usr/bin/python3 -c "import csv,gzip,collections; h={r['hospitalid']:r['region'] for r in csv.DictReader(gzip.open(
//   'hospital.csv.gz','rt'))}; print(collections.Counter(h.get(r['hospitalid'],'') for r in csv.DictReader(gzip.open('patient.csv.gz','rt'))))"
test("eICU demo by region: Midwest 807, South 738, West 606, Northeast 159 stays; 58/63/50/19 deaths; 210 without region", async () => {
  const northeastIds = [199, 200, 202, 204, 205, 206, 419, 420, 421, 422, 423, 424, 425];
  const sites = await readEicuSites({
    sites: [
      { region: "Midwest" },
      { region: "South" },
      { region: "West" },
      { region: "Northeast" },
      { region: "unknown" },
      { name: "NE-by-id", hospitalIds: northeastIds },
    ],
  });
  const got = sites.map((s) => ({ name: s.name, ...stays(s) }));
  assert.deepEqual(
    got.map((g) => [g.name, g.stays, g.deaths]),
    [
      ["eicu-Midwest", 807, 58],
      ["eicu-South", 738, 63],
      ["eicu-West", 606, 50],
      ["eicu-Northeast", 159, 19],
      ["eicu-unknown", 210, 22],
      ["NE-by-id", 159, 19],
    ],
  );
  // Blank hospitaldischargestatus rows are dropped (15 in the Midwest), not labeled.
  assert.equal(got[0].dropped, 15);
  const [midwest, south, , northeast] = sites;
  assert.deepEqual(midwest.labelClasses, ["Alive", "Expired"]);
  // Groups are patients: fewer patients than stays.
  assert.ok(midwest.encounters.groupNames.length < midwest.encounters.count);
  assert.deepEqual(midwest.encounters.periodNames, ["2014", "2015"]);
  // Standard codes kept as metadata; texts are readable paths.
  const hyper = midwest.concepts.find(
    (c) => c.code === "dx:cardiovascular|ventricular disorders|hypertension",
  );
  assert.deepEqual(hyper?.metadata, { icd9: "401.9", icd10: "I10" });
  assert.equal(hyper?.text, "cardiovascular > ventricular disorders > hypertension");
  assert.equal(
    midwest.concepts.find((c) => c.code === "med:WARFARIN SODIUM 5 MG PO TABS")?.metadata?.hicl,
    "2812",
  );
  for (const prefix of ["med:", "dx:", "tx:", "ph:", "adx:"]) {
    assert.ok(
      midwest.concepts.some((c) => c.code.startsWith(prefix)),
      prefix,
    );
  }
  // Drug-name vocabularies differ between regions far more than HICL codes do.
  const names = (s: SiteDataset) =>
    new Set(s.concepts.filter((c) => c.code.startsWith("med:")).map((c) => c.code));
  const hicls = (s: SiteDataset) =>
    new Set(s.concepts.filter((c) => c.metadata?.hicl).map((c) => c.metadata?.hicl as string));
  const jac = (a: Set<string>, b: Set<string>) =>
    [...a].filter((x) => b.has(x)).length / new Set([...a, ...b]).size;
  assert.ok(jac(hicls(midwest), hicls(south)) > jac(names(midwest), names(south)));
  assert.ok(northeast.encounters.count === 157);
});

test("configurable sources and leaf texts; unknown region is an InputError", async () => {
  const [ne] = await readEicuSites({
    sites: [{ region: "Northeast" }],
    sources: ["diagnosis"],
    text: "leaf",
  });
  assert.ok(ne.concepts.every((c) => c.code.startsWith("dx:")));
  for (const c of ne.concepts) assert.equal(c.text, c.code.split("|").pop()!.trim(), c.code);
  await assert.rejects(
    readEicuSites({ sites: [{ region: "Atlantis" }], sources: ["diagnosis"] }),
    InputError,
  );
  await assert.rejects(
    readEicuSites({ sites: [{ region: "West" }], dir: "test-output/no-such-dir" }),
    (e: unknown) => e instanceof InputError && /file not found/.test(e.message),
  );
});

test("splitIcdCodes separates ICD-9 (numeric, E800-E999, V) from ICD-10 codes", () => {
  assert.deepEqual(splitIcdCodes("401.9, I10"), { icd9: ["401.9"], icd10: ["I10"] });
  assert.deepEqual(splitIcdCodes("E980.2, 965.00, T40.60"), {
    icd9: ["E980.2", "965.00"],
    icd10: ["T40.60"],
  });
  assert.deepEqual(splitIcdCodes("V45.81, Z95.1"), { icd9: ["V45.81"], icd10: ["Z95.1"] });
  assert.deepEqual(splitIcdCodes("E11.9"), { icd9: [], icd10: ["E11.9"] });
  assert.deepEqual(splitIcdCodes(""), { icd9: [], icd10: [] });
});
