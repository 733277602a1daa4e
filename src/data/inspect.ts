import { countsByName } from "../util/dict.js";
import type { SiteDataset } from "./types.js";

/**
 * Aggregate description of sites and of how their vocabularies overlap. Counts only, never rows:
 * safe to show, but the human formatter still masks small label counts (1-10 as "<11"), the usual
 * small-cell rule for clinical data.
 */
export interface SiteSummary {
  name: string;
  adapter: string;
  encounters: number;
  /** Encounters with a label. */
  labeled: number;
  labelCounts: Record<string, number>;
  groups: number;
  periods?: string[];
  concepts: number;
  /** Distinct (concept, value) tokens, missing values excluded (the default token texts drop them). */
  vocabularySize: number;
  observationsPerEncounter: { mean: number; min: number; max: number };
  /** Share of (encounter, concept) cells with no observation of the concept. */
  missingShare: number;
  /** Observations stored explicitly as "missing". */
  explicitMissing: number;
}

export interface Overlap {
  /** Distinct items at each site, shared between them, and Jaccard = shared / union. */
  a: number;
  b: number;
  shared: number;
  jaccard: number;
}

export interface PairSummary {
  a: string;
  b: string;
  /** Concept codes. */
  codes: Overlap;
  /** Concept texts, compared after lower-casing and collapsing white space. */
  texts: Overlap;
}

export interface InspectReport {
  sites: SiteSummary[];
  pairs: PairSummary[];
}

export function summarizeSite(ds: SiteDataset): SiteSummary {
  const e = ds.encounters;
  // Own keys only: a class named "__proto__" or "constructor" is counted like any other.
  const labelCounts = countsByName(ds.labelClasses, e.labels);
  let labeled = 0;
  for (let i = 0; i < e.count; i++) if (e.labels[i] >= 0) labeled++;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  let observedCells = 0;
  let explicitMissing = 0;
  // Distinct concepts per encounter via a stamp array (no per-encounter Set).
  const stamp = new Int32Array(ds.concepts.length).fill(-1);
  const conceptOf = Int32Array.from(ds.observationTypes, (t) => t.concept);
  const isMissing = Uint8Array.from(ds.observationTypes, (t) => (t.value.kind === "missing" ? 1 : 0));
  for (let i = 0; i < e.count; i++) {
    const n = e.offsets[i + 1] - e.offsets[i];
    if (n < min) min = n;
    if (n > max) max = n;
    for (let j = e.offsets[i]; j < e.offsets[i + 1]; j++) {
      const t = e.observations[j];
      if (isMissing[t]) {
        explicitMissing++;
        continue;
      }
      const c = conceptOf[t];
      if (stamp[c] !== i) {
        stamp[c] = i;
        observedCells++;
      }
    }
  }
  const cells = e.count * ds.concepts.length;
  return {
    name: ds.name,
    adapter: ds.provenance.adapter,
    encounters: e.count,
    labeled,
    labelCounts,
    groups: new Set(e.groups).size,
    ...(e.periodNames ? { periods: [...e.periodNames] } : {}),
    concepts: ds.concepts.length,
    vocabularySize: ds.observationTypes.filter((t) => t.value.kind !== "missing").length,
    observationsPerEncounter: {
      mean: e.count > 0 ? e.observations.length / e.count : 0,
      min: e.count > 0 ? min : 0,
      max,
    },
    missingShare: cells > 0 ? 1 - observedCells / cells : 0,
    explicitMissing,
  };
}

const normText = (t: string): string => t.toLowerCase().replace(/\s+/g, " ").trim();

function overlap(a: Set<string>, b: Set<string>): Overlap {
  let shared = 0;
  for (const x of a) if (b.has(x)) shared++;
  const union = a.size + b.size - shared;
  return { a: a.size, b: b.size, shared, jaccard: union > 0 ? shared / union : 0 };
}

export function inspectSites(sites: SiteDataset[]): InspectReport {
  const codes = sites.map((s) => new Set(s.concepts.map((c) => c.code)));
  const texts = sites.map((s) => new Set(s.concepts.map((c) => normText(c.text))));
  const pairs: PairSummary[] = [];
  for (let i = 0; i < sites.length; i++) {
    for (let j = i + 1; j < sites.length; j++) {
      pairs.push({
        a: sites[i].name,
        b: sites[j].name,
        codes: overlap(codes[i], codes[j]),
        texts: overlap(texts[i], texts[j]),
      });
    }
  }
  return { sites: sites.map(summarizeSite), pairs };
}

/**
 * A count as shown to people: 1 to threshold - 1 become "<threshold" (small-cell suppression; 11 by
 * default, `data inspect --small-cell-threshold 1` shows a site's own counts to its own analyst).
 */
export function maskSmallCount(n: number, threshold = 11): string {
  return n > 0 && n < threshold ? `<${threshold}` : String(n);
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

export function formatInspect(r: InspectReport, threshold = 11): string {
  const lines: string[] = [];
  for (const s of r.sites) {
    lines.push(`site ${s.name} (${s.adapter})`);
    lines.push(
      `  encounters        ${s.encounters}${s.labeled < s.encounters ? ` (${s.encounters - s.labeled} unlabeled)` : ""}`,
    );
    const labels = Object.entries(s.labelCounts)
      .map(([k, v]) => `${k} ${maskSmallCount(v, threshold)}`)
      .join(", ");
    lines.push(`  labels            ${labels}`);
    lines.push(`  patients/groups   ${s.groups}`);
    if (s.periods) lines.push(`  periods           ${s.periods.join(", ")}`);
    lines.push(`  concepts          ${s.concepts}`);
    lines.push(`  vocabulary        ${s.vocabularySize} tokens`);
    const o = s.observationsPerEncounter;
    lines.push(`  observations      ${o.mean.toFixed(1)} per encounter (min ${o.min}, max ${o.max})`);
    lines.push(
      `  missingness       ${pct(s.missingShare)} of encounter x concept cells unobserved` +
        (s.explicitMissing > 0 ? `; ${s.explicitMissing} explicit missing values` : ""),
    );
  }
  if (r.pairs.length > 0) {
    lines.push("");
    lines.push("overlap between sites (shared / union, Jaccard)");
    for (const p of r.pairs) {
      const fmt = (o: Overlap) => `${o.shared} of ${o.a + o.b - o.shared} (${o.jaccard.toFixed(3)})`;
      lines.push(`  ${p.a} ~ ${p.b}: codes ${fmt(p.codes)}; texts ${fmt(p.texts)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
