import assert from "node:assert/strict";
import { test } from "node:test";
import { sitesView } from "../../src/report/sites.js";
import { suppressCategories, suppressCount, suppressedValue } from "../../src/report/suppress.js";

test("counts below the threshold (zero included) show as <11", () => {
  assert.equal(suppressCount(10, 11), "<11");
  assert.equal(suppressCount(0, 11), "<11");
  assert.equal(suppressCount(11, 11), "11");
  assert.equal(suppressedValue(3, 11), "<11");
  assert.equal(suppressedValue(240, 11), 240);
});

test("a lone suppressed category takes the next smallest with it (else total - rest recovers it)", () => {
  assert.deepEqual(suppressCategories([522, 8], 11), ["suppressed", "<11"]);
  assert.deepEqual(suppressCategories([500, 40, 8], 11), ["500", "suppressed", "<11"]);
  // Two already hidden: nothing more to do.
  assert.deepEqual(suppressCategories([500, 4, 8], 11), ["500", "<11", "<11"]);
  assert.deepEqual(suppressCategories([500, 40], 11), ["500", "40"]);
});

test("site summary: totals, pool/test and classes all suppressed", () => {
  const v = sitesView(
    [
      { site: "B", poolEncounters: 290, testEncounters: 240, classCounts: { other: 522, influenza: 8 } },
      { site: "C", poolEncounters: 6, testEncounters: 3, vocabularySize: 7 },
    ],
    11,
  );
  assert.deepEqual(v.classes, ["other", "influenza"]);
  assert.deepEqual(v.rows[0], {
    name: "B",
    encounters: "530",
    pool: "290",
    test: "240",
    classCounts: ["suppressed", "<11"],
    vocabularySize: "",
  });
  assert.deepEqual(v.rows[1], {
    name: "C",
    encounters: "<11",
    pool: "<11",
    test: "<11",
    classCounts: ["", ""],
    vocabularySize: "7",
  });
});
