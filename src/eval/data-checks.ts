import type { EncodedSite } from "../concepts/encoded-site.js";
import type { VocabularyToken } from "../concepts/vocabulary.js";
import type { SiteDataset } from "../data/types.js";

/**
 * Checks on the data of an experiment that decide whether its numbers can carry a claim, computed
 * once per run (experiment/prepare.ts) and stored as aggregates in provenance.json, where the report
 * turns them into warnings:
 * - patients at both sites: group ids (the event table's `group`, e.g. a patient id) present at two
 *   sites make "transfer" partly a lookup of the same people;
 * - vocabulary coverage: the share of a target's token occurrences whose exact token (code and
 *   value) the source also has, i.e. what a one-hot model transferred from the source can read.
 * Only counts and shares leave these functions, never an id.
 */

export interface SharedGroups {
  a: string;
  b: string;
  /** Group ids (patients) that occur at both sites. */
  shared: number;
  /** Distinct explicit group ids at each site. */
  groupsA: number;
  groupsB: number;
}

/**
 * Explicit group ids of a site's datasets: an encounter whose group is its own id (no group column)
 * is not counted, so sites that happen to number encounters alike are not flagged.
 */
export function explicitGroups(datasets: readonly SiteDataset[]): Set<string> {
  const out = new Set<string>();
  for (const ds of datasets) {
    const e = ds.encounters;
    for (let i = 0; i < e.count; i++) {
      const g = e.groupNames[e.groups[i]];
      if (g !== undefined && g !== e.ids[i]) out.add(g);
    }
  }
  return out;
}

export function sharedGroups(sites: ReadonlyMap<string, readonly SiteDataset[]>): SharedGroups[] {
  const names = [...sites.keys()].sort();
  const groups = new Map(names.map((n) => [n, explicitGroups(sites.get(n) ?? [])]));
  const out: SharedGroups[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const ga = groups.get(names[i])!;
      const gb = groups.get(names[j])!;
      const [small, large] = ga.size <= gb.size ? [ga, gb] : [gb, ga];
      let shared = 0;
      for (const g of small) if (large.has(g)) shared++;
      out.push({ a: names[i], b: names[j], shared, groupsA: ga.size, groupsB: gb.size });
    }
  }
  return out;
}

export interface VocabularyCoverage {
  source: string;
  target: string;
  /** Share of the target's distinct tokens the source vocabulary has (same code and value). */
  tokens: number;
  /** Share of the target's token occurrences (pool and test) the source vocabulary has. */
  occurrences: number;
}

export function vocabularyCoverage(
  source: { name: string; vocabulary: readonly VocabularyToken[] },
  target: EncodedSite,
): VocabularyCoverage {
  const keys = new Set(source.vocabulary.map((t) => t.key));
  const known = target.vocabulary.map((t) => keys.has(t.key));
  let hits = 0;
  let total = 0;
  for (const part of [target.pool, target.test]) {
    const tokens = part.seqs.tokens;
    for (let i = 0; i < tokens.length; i++) {
      const id = tokens[i];
      if (id === 0) continue;
      total++;
      if (known[id - 1]) hits++;
    }
  }
  const distinct = known.filter(Boolean).length;
  return {
    source: source.name,
    target: target.name,
    tokens: target.vocabulary.length > 0 ? distinct / target.vocabulary.length : 0,
    occurrences: total > 0 ? hits / total : 0,
  };
}
