import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readEventTableDir } from "../../../src/data/adapters/event-table.js";
import { CLASSES, SHARED_FACTS } from "../../../src/data/synthetic/facts.js";
import { generateWorld } from "../../../src/data/synthetic/world.js";
import { writeWorld } from "../../../src/data/synthetic/write.js";
import { encounterObservations, type SiteDataset, tokenKey } from "../../../src/data/types.js";
import { InputError } from "../../../src/util/errors.js";

const OUT = join("test-output", "data", "synthetic");

function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${rel}${name}/`);
      else out.set(`${rel}${name}`, readFileSync(p));
    }
  };
  walk(dir, "");
  return out;
}

test("same seed -> byte-identical files; another seed -> different files", async () => {
  const settings = { seed: 11, encountersPerSite: 400, sites: 3 };
  await writeWorld(generateWorld(settings), join(OUT, "a"));
  await writeWorld(generateWorld(settings), join(OUT, "b"));
  await writeWorld(generateWorld({ ...settings, seed: 12 }), join(OUT, "c"));
  const a = filesOf(join(OUT, "a"));
  const b = filesOf(join(OUT, "b"));
  assert.deepEqual(
    [...a.keys()],
    [
      "mapping.json",
      "site-A/events.csv",
      "site-A/labels.csv",
      "site-B/events.csv",
      "site-B/labels.csv",
      "site-C/events.csv",
      "site-C/labels.csv",
    ],
  );
  for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name)!), `${name} differs between runs`);
  const c = filesOf(join(OUT, "c"));
  assert.ok(!a.get("site-A/events.csv")!.equals(c.get("site-A/events.csv")!));
  // Re-writing over an existing world replaces it whole.
  await writeWorld(generateWorld({ ...settings, seed: 12 }), join(OUT, "a"));
  assert.ok(filesOf(join(OUT, "a")).get("site-B/labels.csv")!.equals(c.get("site-B/labels.csv")!));
});

test("sites' codes barely overlap while the mapping covers every shared fact at every site", () => {
  const w = generateWorld({ seed: 3, encountersPerSite: 300 });
  const [A, B] = w.sites;
  const codesA = new Set(A.concepts.map((c) => c.code));
  const codesB = new Set(B.concepts.map((c) => c.code));
  const shared = [...codesA].filter((c) => codesB.has(c)).length;
  const jaccard = shared / (codesA.size + codesB.size - shared);
  assert.ok(jaccard < 0.2, `code Jaccard ${jaccard}`);
  const sharedFacts = w.mapping.facts.filter((f) => f.sites.length === w.sites.length);
  assert.equal(sharedFacts.length, SHARED_FACTS.length + 2); // + age group and temperature
  for (const site of w.sites) {
    const facts = Object.values(w.mapping.codes[site.name]);
    for (const f of sharedFacts)
      assert.equal(facts.filter((x) => x === f.id).length, 1, `${site.name} ${f.id}`);
    // Concept.metadata.fact agrees with the mapping, and every concept is mapped.
    for (const c of site.concepts) assert.equal(c.metadata?.fact, w.mapping.codes[site.name][c.code]);
  }
  // Site-only facts: exactly siteOnlyConcepts per site, recorded by that site alone.
  const only = w.mapping.facts.filter((f) => f.sites.length === 1);
  assert.equal(only.length, 3 * 2);
  for (const f of only) {
    const holders = w.sites.filter((s) => Object.values(w.mapping.codes[s.name]).includes(f.id));
    assert.deepEqual(
      holders.map((s) => s.name),
      f.sites,
    );
  }
});

test("texts: the reference site writes canonical texts; another site rewords about textVariation of them", () => {
  const w = generateWorld({
    seed: 5,
    encountersPerSite: 50,
    sites: 6,
    siteOnlyConcepts: 0,
    textVariation: 0.4,
  });
  const canonical = new Map(SHARED_FACTS.map((f) => [f.id, f.text]));
  const ref = w.sites[0].concepts.filter((c) => canonical.has(c.metadata!.fact));
  for (const c of ref) assert.equal(c.text, canonical.get(c.metadata!.fact));
  let differ = 0;
  let total = 0;
  for (const site of w.sites.slice(1)) {
    for (const c of site.concepts) {
      if (!canonical.has(c.metadata!.fact)) continue;
      total++;
      if (c.text !== canonical.get(c.metadata!.fact)) differ++;
    }
  }
  // 250 draws with p = 0.4: mean 100, sd 7.7
  assert.equal(total, 250);
  assert.ok(Math.abs(differ - 100) < 30, `reworded ${differ} of ${total}`);
  const none = generateWorld({ seed: 5, encountersPerSite: 50, textVariation: 0 });
  for (const c of none.sites[1].concepts) {
    if (canonical.has(c.metadata!.fact)) assert.equal(c.text, canonical.get(c.metadata!.fact));
  }
});

/** Empirical P(present | class, recorded) per fact id; also the count of recorded observations. */
function empiricalRates(ds: SiteDataset): Map<string, { p: number[]; n: number[] }> {
  const out = new Map<string, { p: number[]; n: number[] }>();
  const classOf = ds.labelClasses.map((name) => CLASSES.indexOf(name as (typeof CLASSES)[number]));
  for (let i = 0; i < ds.encounters.count; i++) {
    const c = classOf[ds.encounters.labels[i]];
    for (const t of encounterObservations(ds.encounters, i)) {
      const type = ds.observationTypes[t];
      if (type.value.kind === "level") continue;
      const fact = ds.concepts[type.concept].metadata!.fact;
      let r = out.get(fact);
      if (!r) {
        r = { p: [0, 0, 0, 0], n: [0, 0, 0, 0] };
        out.set(fact, r);
      }
      r.n[c]++;
      if (type.value.kind === "present") r.p[c]++;
    }
  }
  for (const r of out.values()) r.p = r.p.map((x, c) => x / Math.max(1, r.n[c]));
  return out;
}

test("shift = 0: sites share class-conditional rates (truth equal, empirical rates within sampling error)", () => {
  const w = generateWorld({ seed: 8, encountersPerSite: 8000, shift: 0 });
  const [A, B] = w.sites;
  const tA = w.truth[A.name];
  const tB = w.truth[B.name];
  for (const f of SHARED_FACTS) {
    assert.deepEqual(tA.rates[f.id], tB.rates[f.id]);
    assert.equal(tA.missing[f.id], tB.missing[f.id]);
  }
  assert.deepEqual(tA.prevalence, tB.prevalence);
  const eA = empiricalRates(A);
  const eB = empiricalRates(B);
  let worst = 0;
  for (const f of SHARED_FACTS) {
    for (let c = 0; c < 4; c++) {
      const a = eA.get(f.id)!;
      const b = eB.get(f.id)!;
      const p = tA.rates[f.id][c];
      const se = Math.sqrt(p * (1 - p) * (1 / a.n[c] + 1 / b.n[c]));
      worst = Math.max(worst, Math.abs(a.p[c] - b.p[c]) / se);
    }
  }
  // 200 comparisons of two binomial rates: |z| stays below 4.5 unless the sites really differ.
  assert.ok(worst < 4.5, `largest z ${worst}`);
  const shifted = generateWorld({ seed: 8, encountersPerSite: 10, shift: 1 });
  const diffs = SHARED_FACTS.map((f) =>
    Math.abs(shifted.truth["site-A"].rates[f.id][0] - shifted.truth["site-B"].rates[f.id][0]),
  );
  assert.ok(Math.max(...diffs) > 0.1, "shift = 1 moves finding rates");
});

test("labels are learnable: findings' rates differ by class as configured", () => {
  const w = generateWorld({ seed: 9, encountersPerSite: 6000 });
  const site = w.sites[0];
  const e = empiricalRates(site);
  const t = w.truth[site.name];
  const influenza = CLASSES.indexOf("influenza");
  const para = CLASSES.indexOf("parainfluenza");
  // Myalgia is an influenza finding, barking cough a parainfluenza one (facts.ts).
  assert.ok(t.rates.myalgia[influenza] - t.rates.myalgia[para] > 0.1);
  assert.ok(e.get("myalgia")!.p[influenza] - e.get("myalgia")!.p[para] > 0.1);
  assert.ok(e.get("cough_barking")!.p[para] - e.get("cough_barking")!.p[influenza] > 0.1);
  // Empirical rates track the configured ones (binomial error with n in the hundreds).
  for (const fact of ["myalgia", "cough_barking", "wheezing"]) {
    for (let c = 0; c < 4; c++) {
      const se = Math.sqrt((t.rates[fact][c] * (1 - t.rates[fact][c])) / e.get(fact)!.n[c]);
      assert.ok(Math.abs(e.get(fact)!.p[c] - t.rates[fact][c]) < 5 * se, `${fact} class ${c}`);
    }
  }
  // Class mix follows the site's prevalence.
  const counts = new Array(4).fill(0);
  for (const l of site.encounters.labels)
    counts[CLASSES.indexOf(site.labelClasses[l] as (typeof CLASSES)[number])]++;
  CLASSES.forEach((c, k) => {
    assert.ok(Math.abs(counts[k] / 6000 - t.prevalence[c]) < 0.025, c);
  });
});

test("repeat visits share a patient group; periods cover the configured seasons", () => {
  const w = generateWorld({ seed: 2, encountersPerSite: 2000, repeatVisitShare: 0.2 });
  const e = w.sites[0].encounters;
  const groups = e.groupNames.length;
  assert.ok(groups < 2000 * 0.85 && groups > 2000 * 0.75, `groups ${groups}`);
  assert.deepEqual(e.periodNames, ["2019-20", "2020-21", "2021-22"]);
});

test("invalid settings are InputErrors naming the setting", () => {
  assert.throws(
    () => generateWorld({ shift: 1.5 }),
    (e: unknown) => e instanceof InputError && e.location.field === "synthetic.shift",
  );
  assert.throws(
    () => generateWorld({ sites: 3, encountersPerSite: [10, 20] }),
    /encountersPerSite has 2 entries/,
  );
  assert.throws(() => generateWorld({ sites: 6, siteOnlyConcepts: 3 }), /exceeds/);
});

test("event-table round trip: what writeWorld writes, readEventTableDir reads back identically", async () => {
  const w = generateWorld({ seed: 4, encountersPerSite: 500 });
  await writeWorld(w, join(OUT, "rt"));
  for (const site of w.sites) {
    const back = await readEventTableDir(join(OUT, "rt", site.name));
    assert.equal(back.name, site.name);
    assert.deepEqual(back.labelClasses, site.labelClasses);
    assert.deepEqual(back.encounters.ids, site.encounters.ids);
    assert.deepEqual(back.encounters.labels, site.encounters.labels);
    assert.deepEqual(back.encounters.periodNames, site.encounters.periodNames);
    assert.deepEqual(back.encounters.periods, site.encounters.periods);
    assert.deepEqual(
      Array.from(back.encounters.groups, (g) => back.encounters.groupNames[g]),
      Array.from(site.encounters.groups, (g) => site.encounters.groupNames[g]),
    );
    const keys = (ds: SiteDataset, i: number): string[] =>
      Array.from(encounterObservations(ds.encounters, i), (t) => {
        const ot = ds.observationTypes[t];
        return tokenKey(ds.concepts[ot.concept].code, ot.value);
      });
    for (let i = 0; i < site.encounters.count; i++) assert.deepEqual(keys(back, i), keys(site, i));
    const strip = (c: SiteDataset["concepts"][number]) => ({
      code: c.code,
      text: c.text,
      levelTexts: c.levelTexts,
    });
    assert.deepEqual(
      back.concepts.map(strip).sort((a, b) => a.code.localeCompare(b.code)),
      site.concepts.map(strip).sort((a, b) => a.code.localeCompare(b.code)),
    );
  }
  const mapping = JSON.parse(readFileSync(join(OUT, "rt", "mapping.json"), "utf8"));
  assert.deepEqual(mapping.mapping, w.mapping);
});
