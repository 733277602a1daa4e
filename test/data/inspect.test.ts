import assert from "node:assert/strict";
import { test } from "node:test";
import { SiteDatasetBuilder } from "../../src/data/builder.js";
import { formatInspect, inspectSites, maskSmallCount } from "../../src/data/inspect.js";

/** Two hand-made sites: A codes {c1,c2,c3} texts {cough,fever,Rash}, B codes {c2,x9} texts {rash,"  Cough "}. */
function sites() {
  const a = new SiteDatasetBuilder("A");
  const c1 = a.addConcept({ code: "c1", text: "cough" });
  const c2 = a.addConcept({ code: "c2", text: "fever" });
  const c3 = a.addConcept({ code: "c3", text: "Rash" });
  // 12 encounters of class "x" and 3 of class "y"; observations: c1 present everywhere, c2 on even
  // encounters (absent or missing), c3 never -> observed cells = 15 (c1) + 8 (c2 non-missing) = 23 of 45.
  for (let i = 0; i < 15; i++) {
    a.beginEncounter(`a${i}`, { label: i < 12 ? "x" : "y" });
    a.addObservation(a.typeId(c1, { kind: "present" }));
    a.addObservation(a.typeId(c1, { kind: "present" })); // a duplicate counts once as a cell
    if (i % 2 === 0) a.addObservation(a.typeId(c2, i % 4 === 0 ? { kind: "absent" } : { kind: "missing" }));
  }
  void c3;
  const b = new SiteDatasetBuilder("B");
  const d1 = b.addConcept({ code: "c2", text: "rash" });
  b.addConcept({ code: "x9", text: "  Cough " });
  b.beginEncounter("b1", { label: null });
  b.addObservation(b.typeId(d1, { kind: "present" }));
  return [a.build({ adapter: "test", files: [] }), b.build({ adapter: "test", files: [] })];
}

test("inspectSites: counts, vocabulary, missingness and overlaps computed by hand", () => {
  const r = inspectSites(sites());
  const [a, b] = r.sites;
  assert.equal(a.encounters, 15);
  assert.deepEqual(a.labelCounts, { x: 12, y: 3 });
  assert.equal(a.vocabularySize, 2); // c1|present, c2|absent (missing is no token)
  assert.equal(a.explicitMissing, 4); // i = 2, 6, 10, 14
  // cells: c1 observed in 15, c2 (non-missing) in i = 0, 4, 8, 12 -> 19 of 45
  assert.equal(a.missingShare, 1 - 19 / 45);
  assert.deepEqual(a.observationsPerEncounter, { mean: (15 * 2 + 8) / 15, min: 2, max: 3 });
  assert.equal(b.labeled, 0);
  assert.equal(r.pairs.length, 1);
  assert.deepEqual(r.pairs[0].codes, { a: 3, b: 2, shared: 1, jaccard: 1 / 4 });
  // texts normalised: {cough, fever, rash} vs {rash, cough} -> shared 2, union 3
  assert.deepEqual(r.pairs[0].texts, { a: 3, b: 2, shared: 2, jaccard: 2 / 3 });
});

test("human output masks label counts 1-10 as <11", () => {
  assert.equal(maskSmallCount(0), "0");
  assert.equal(maskSmallCount(3), "<11");
  assert.equal(maskSmallCount(10), "<11");
  assert.equal(maskSmallCount(11), "11");
  const text = formatInspect(inspectSites(sites()));
  assert.match(text, /labels\s+x 12, y <11/);
  assert.match(text, /A ~ B: codes 1 of 4 \(0\.250\); texts 2 of 3 \(0\.667\)/);
});
