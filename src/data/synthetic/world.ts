import { InputError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";
import { SiteDatasetBuilder } from "../builder.js";
import type { Concept, ObservationValue, SiteDataset } from "../types.js";
import { parseSettings } from "../validate.js";
import {
  BASE_PREVALENCE,
  type BinaryFact,
  CLASSES,
  factRate,
  LEVEL_FACTS,
  type LevelFact,
  SHARED_FACTS,
  SITE_ONLY_FACTS,
} from "./facts.js";
import { SyntheticSettings, type SyntheticSettingsInput } from "./settings.js";

/** The true cross-site concept mapping: the answer key for concept alignment. */
export interface ConceptMapping {
  /** Every latent fact, with the sites that record it (shared facts: all sites). */
  facts: { id: string; text: string; kind: "binary" | "level"; sites: string[] }[];
  /** site -> site code -> fact id. */
  codes: Record<string, Record<string, string>>;
  /** site -> level concept code -> site level name -> canonical level. */
  levels: Record<string, Record<string, Record<string, string>>>;
}

/** The parameters a site's encounters were drawn from (aggregate, no rows), for tests and reports. */
export interface SiteTruth {
  prevalence: Record<string, number>;
  /** fact id -> P(present | class) in CLASSES order. */
  rates: Record<string, number[]>;
  /** fact id -> P(not recorded). */
  missing: Record<string, number>;
  /** level fact id -> per class (CLASSES order) distribution over canonical levels. */
  levelDist: Record<string, number[][]>;
}

export interface SyntheticWorld {
  settings: SyntheticSettings;
  classes: string[];
  sites: SiteDataset[];
  mapping: ConceptMapping;
  truth: Record<string, SiteTruth>;
}

const logit = (p: number): number => Math.log(p / (1 - p));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Softmax of log-probabilities plus a shift-scaled normal perturbation. */
function shiftDist(p: readonly number[], rng: Rng, scale: number): number[] {
  const z = p.map((x) => Math.log(x) + scale * rng.normal());
  const m = Math.max(...z);
  const e = z.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

function drawCategorical(p: ArrayLike<number>, u: number): number {
  let acc = 0;
  for (let k = 0; k < p.length; k++) {
    acc += p[k];
    if (u < acc) return k;
  }
  return p.length - 1;
}

interface SiteVocab {
  /** code per binary fact, level-fact code, level names. */
  binaryCode: Map<string, string>;
  binaryText: Map<string, string>;
  levelCode: Map<string, string>;
  levelText: Map<string, string>;
  /** level fact id -> canonical level -> site level name / text. */
  levelNames: Map<string, Record<string, string>>;
  levelTexts: Map<string, Record<string, string>>;
}

/**
 * Site vocabularies. Site 0 (the reference) writes every fact the standard way: its CUI as code,
 * the canonical text, influenza-dtl level codes. Other sites use local codes (`<letter><4 digits>`,
 * unique per site) except for a `sharedCodeShare` of facts, and reword a `textVariation` share of
 * texts with a hand-made variant (synonym, abbreviation, reordering).
 */
function siteVocabulary(
  site: number,
  facts: readonly BinaryFact[],
  settings: SyntheticSettings,
  rng: Rng,
): SiteVocab {
  const letter = String.fromCharCode(65 + site);
  const usedNumbers = new Set<number>();
  const localCode = (): string => {
    let n: number;
    do n = 1000 + rng.int(9000);
    while (usedNumbers.has(n));
    usedNumbers.add(n);
    return `${letter}${n}`;
  };
  const pickText = (canonical: string, variants: readonly string[]): string =>
    site > 0 && variants.length > 0 && rng.next() < settings.textVariation
      ? variants[rng.int(variants.length)]
      : canonical;
  const v: SiteVocab = {
    binaryCode: new Map(),
    binaryText: new Map(),
    levelCode: new Map(),
    levelText: new Map(),
    levelNames: new Map(),
    levelTexts: new Map(),
  };
  for (const fact of facts) {
    const shared = site === 0 || rng.next() < settings.sharedCodeShare;
    v.binaryCode.set(fact.id, shared ? fact.cui : localCode());
    v.binaryText.set(fact.id, pickText(fact.text, fact.variants));
  }
  for (const lf of LEVEL_FACTS) {
    const shared = site === 0 || rng.next() < settings.sharedCodeShare;
    v.levelCode.set(lf.id, shared ? lf.cui : localCode());
    v.levelText.set(lf.id, pickText(lf.text, lf.variants));
    const names: Record<string, string> = {};
    const texts: Record<string, string> = {};
    for (const level of lf.levels) {
      names[level] = site === 0 ? lf.findingsLevels[level] : level;
      const [canonical, ...variants] = lf.levelTexts[level];
      texts[level] = pickText(canonical, variants);
    }
    v.levelNames.set(lf.id, names);
    v.levelTexts.set(lf.id, texts);
  }
  return v;
}

/**
 * Generate the seeded multi-site world. Parameters are drawn before any encounter, from streams that
 * do not depend on the encounter counts, so a larger site has the same distribution as a smaller one.
 */
export function generateWorld(input: SyntheticSettingsInput = {}): SyntheticWorld {
  const settings = parseSettings(SyntheticSettings, input, "synthetic");
  const nSites = settings.sites;
  const names =
    settings.siteNames ?? Array.from({ length: nSites }, (_, s) => `site-${String.fromCharCode(65 + s)}`);
  if (names.length !== nSites) {
    throw new InputError(`siteNames has ${names.length} names for ${nSites} sites`, {
      field: "synthetic.siteNames",
    });
  }
  if (new Set(names).size !== names.length)
    throw new InputError("site names repeat", { field: "synthetic.siteNames" });
  const counts = Array.isArray(settings.encountersPerSite)
    ? settings.encountersPerSite
    : new Array<number>(nSites).fill(settings.encountersPerSite);
  if (counts.length !== nSites) {
    throw new InputError(`encountersPerSite has ${counts.length} entries for ${nSites} sites`, {
      field: "synthetic.encountersPerSite",
    });
  }
  if (settings.siteOnlyConcepts * nSites > SITE_ONLY_FACTS.length) {
    throw new InputError(
      `${settings.siteOnlyConcepts} site-only concepts x ${nSites} sites exceeds the ${SITE_ONLY_FACTS.length} available`,
      { field: "synthetic.siteOnlyConcepts" },
    );
  }
  const root = new Rng(settings.seed);
  const siteOnlyOrder = root.fork("site-only").permutation(SITE_ONLY_FACTS.length);
  const sites: SiteDataset[] = [];
  const truth: Record<string, SiteTruth> = {};
  const mapping: ConceptMapping = { facts: [], codes: {}, levels: {} };
  for (const lf of LEVEL_FACTS)
    mapping.facts.push({ id: lf.id, text: lf.text, kind: "level", sites: [...names] });
  for (const fact of SHARED_FACTS)
    mapping.facts.push({ id: fact.id, text: fact.text, kind: "binary", sites: [...names] });
  for (let s = 0; s < nSites; s++) {
    const own = Array.from(
      siteOnlyOrder.subarray(s * settings.siteOnlyConcepts, (s + 1) * settings.siteOnlyConcepts),
      (k) => SITE_ONLY_FACTS[k],
    );
    for (const fact of own)
      mapping.facts.push({ id: fact.id, text: fact.text, kind: "binary", sites: [names[s]] });
    const facts = [...SHARED_FACTS, ...own];
    const siteRng = root.fork(`site:${s}`);
    const vocab = siteVocabulary(s, facts, settings, siteRng.fork("vocabulary"));
    const t = siteTruth(facts, settings, siteRng.fork("parameters"));
    truth[names[s]] = t;
    const { dataset, codes, levels } = simulateSite(
      names[s],
      s,
      counts[s],
      facts,
      vocab,
      t,
      settings,
      siteRng.fork("encounters"),
    );
    sites.push(dataset);
    mapping.codes[names[s]] = codes;
    mapping.levels[names[s]] = levels;
  }
  return { settings, classes: [...CLASSES], sites, mapping, truth };
}

function siteTruth(facts: readonly BinaryFact[], settings: SyntheticSettings, rng: Rng): SiteTruth {
  const shift = settings.shift;
  const prev = shiftDist(
    CLASSES.map((c) => BASE_PREVALENCE[c]),
    rng,
    shift * 0.8,
  );
  const siteMissing = shift * 0.8 * rng.normal();
  const t: SiteTruth = { prevalence: {}, rates: {}, missing: {}, levelDist: {} };
  CLASSES.forEach((c, k) => {
    t.prevalence[c] = prev[k];
  });
  for (const fact of facts) {
    const common = shift * 0.8 * rng.normal();
    const base = logit(fact.base);
    t.rates[fact.id] = CLASSES.map((c) =>
      sigmoid(
        base + settings.signal * (logit(factRate(fact, c)) - base) + common + shift * 0.4 * rng.normal(),
      ),
    );
    t.missing[fact.id] = sigmoid(logit(settings.missingRate) + siteMissing + shift * 1.2 * rng.normal());
  }
  for (const lf of LEVEL_FACTS) {
    // Class signal in log space around the class-average distribution, then the site's shift.
    const mean = lf.levels.map(
      (_, k) => CLASSES.reduce((a, c) => a + Math.log(lf.dist[c][k]), 0) / CLASSES.length,
    );
    t.levelDist[lf.id] = CLASSES.map((c) => {
      const z = lf.dist[c].map((p, k) => Math.exp(mean[k] + settings.signal * (Math.log(p) - mean[k])));
      const sum = z.reduce((a, b) => a + b, 0);
      return shiftDist(
        z.map((x) => x / sum),
        rng,
        shift * 0.6,
      );
    });
  }
  return t;
}

function simulateSite(
  name: string,
  siteIndex: number,
  n: number,
  facts: readonly BinaryFact[],
  vocab: SiteVocab,
  truth: SiteTruth,
  settings: SyntheticSettings,
  rng: Rng,
): { dataset: SiteDataset; codes: Record<string, string>; levels: Record<string, Record<string, string>> } {
  const C = CLASSES.length;
  const b = new SiteDatasetBuilder(name, {
    expectedEncounters: n,
    expectedObservations: n * (facts.length + LEVEL_FACTS.length),
  });
  const codes: Record<string, string> = {};
  const levels: Record<string, Record<string, string>> = {};
  // Level concepts first (age group, temperature), then findings in a site-specific column order.
  const levelConcepts = LEVEL_FACTS.map((lf: LevelFact) => {
    const code = vocab.levelCode.get(lf.id)!;
    const siteNames = vocab.levelNames.get(lf.id)!;
    const siteTexts = vocab.levelTexts.get(lf.id)!;
    const levelTexts: Record<string, string> = {};
    const metadata: Record<string, string> = { fact: lf.id };
    const back: Record<string, string> = {};
    for (const level of lf.levels) {
      levelTexts[siteNames[level]] = siteTexts[level];
      metadata[`level:${siteNames[level]}`] = level;
      back[siteNames[level]] = level;
    }
    const concept: Concept = {
      code,
      text: vocab.levelText.get(lf.id)!,
      system: `${name}.codes`,
      levelTexts,
      metadata,
    };
    const ci = b.addConcept(concept);
    codes[code] = lf.id;
    levels[code] = back;
    const types = lf.levels.map((level) => b.typeId(ci, { kind: "level", level: siteNames[level] }));
    const dist = new Float64Array(C * lf.levels.length);
    truth.levelDist[lf.id].forEach((row, c) => {
      dist.set(row, c * lf.levels.length);
    });
    return { types, dist, L: lf.levels.length };
  });
  const order = rng.fork("column-order").permutation(facts.length);
  const K = facts.length;
  const rates = new Float64Array(C * K);
  const missing = new Float64Array(K);
  const present = new Int32Array(K).fill(-1);
  const absent = new Int32Array(K).fill(-1);
  const conceptIdx = new Int32Array(K);
  for (let k = 0; k < K; k++) {
    const fact = facts[order[k]];
    const code = vocab.binaryCode.get(fact.id)!;
    conceptIdx[k] = b.addConcept({
      code,
      text: vocab.binaryText.get(fact.id)!,
      system: `${name}.codes`,
      metadata: { fact: fact.id },
    });
    codes[code] = fact.id;
    for (let c = 0; c < C; c++) rates[c * K + k] = truth.rates[fact.id][c];
    missing[k] = truth.missing[fact.id];
  }
  const typeOf = (k: number, value: ObservationValue, cache: Int32Array): number => {
    if (cache[k] < 0) cache[k] = b.typeId(conceptIdx[k], value);
    return cache[k];
  };
  const PRESENT: ObservationValue = { kind: "present" };
  const ABSENT: ObservationValue = { kind: "absent" };
  const prevalence = CLASSES.map((c) => truth.prevalence[c]);
  const periods = settings.periods;
  const letter = String.fromCharCode(65 + siteIndex);
  let patients = 0;
  const width = String(n).length;
  for (let i = 0; i < n; i++) {
    const c = drawCategorical(prevalence, rng.next());
    let patient: number;
    if (patients > 0 && rng.next() < settings.repeatVisitShare) patient = rng.int(patients);
    else patient = patients++;
    b.beginEncounter(`${letter}E${String(i + 1).padStart(width, "0")}`, {
      label: CLASSES[c],
      group: `${letter}P${patient + 1}`,
      period: periods[rng.int(periods.length)],
    });
    for (const lc of levelConcepts) {
      b.addObservation(lc.types[drawCategorical(lc.dist.subarray(c * lc.L, (c + 1) * lc.L), rng.next())]);
    }
    const base = c * K;
    for (let k = 0; k < K; k++) {
      if (rng.next() < missing[k]) continue;
      b.addObservation(
        rng.next() < rates[base + k] ? typeOf(k, PRESENT, present) : typeOf(k, ABSENT, absent),
      );
    }
  }
  const dataset = b.build({
    adapter: "synthetic",
    files: [],
    notes: [`seed ${settings.seed}, site ${siteIndex + 1} of ${settings.sites}, shift ${settings.shift}`],
  });
  return { dataset, codes, levels };
}
