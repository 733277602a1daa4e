import type { SiteSummary } from "./provenance.js";
import { suppressCategories, suppressCount, suppressMasked } from "./suppress.js";

/** Per-site data summary for display and export: every count of people goes through suppression. */
export interface SiteRowView {
  name: string;
  encounters: string;
  pool: string;
  test: string;
  /** Display count per class, in `classes` order ("" when the site has no count for that class). */
  classCounts: string[];
  vocabularySize: string;
}

export interface SitesView {
  classes: string[];
  rows: SiteRowView[];
}

/**
 * `rules` "current": a site without a test split shows "—" there and its pool in full (a structural
 * zero is no count of people, so nothing needs hiding beside it), and a class count is hidden when
 * its training-pool part is small while its test part is published in the tables (total minus
 * test would give the pool part back). "reproduction-v1": the rules the committed reproduction
 * documents were written with.
 */
export function sitesView(
  sites: readonly SiteSummary[],
  threshold: number,
  rules: "current" | "reproduction-v1" = "reproduction-v1",
): SitesView {
  if (rules === "current") return currentSitesView(sites, threshold);
  const classes = [...new Set(sites.flatMap((s) => Object.keys(s.classCounts ?? {})))];
  return {
    classes,
    rows: sites.map((s) => {
      // Pool and test add up to the shown total, as the classes do: both sets get secondary suppression.
      const [pool, test] = suppressCategories([s.poolEncounters, s.testEncounters], threshold);
      const present = classes.filter((c) => s.classCounts?.[c] !== undefined);
      const shown = suppressCategories(
        present.map((c) => s.classCounts![c]),
        threshold,
      );
      return {
        name: s.site,
        encounters: suppressCount(s.poolEncounters + s.testEncounters, threshold),
        pool,
        test,
        classCounts: classes.map((c) => {
          const i = present.indexOf(c);
          return i < 0 ? "" : shown[i];
        }),
        // Vocabulary size counts tokens, not people: no suppression needed.
        vocabularySize: s.vocabularySize === undefined ? "" : String(s.vocabularySize),
      };
    }),
  };
}

function currentSitesView(sites: readonly SiteSummary[], threshold: number): SitesView {
  const classes = [...new Set(sites.flatMap((s) => Object.keys(s.classCounts ?? {})))];
  return {
    classes,
    rows: sites.map((s) => {
      const noTest = s.testEncounters === 0;
      const [pool, test] = noTest
        ? [suppressCount(s.poolEncounters, threshold), "—"]
        : suppressCategories([s.poolEncounters, s.testEncounters], threshold);
      const present = classes.filter((c) => s.classCounts?.[c] !== undefined);
      const counts = present.map((c) => s.classCounts![c]);
      const hidden = present.map((c, i) => {
        const poolPart = s.poolClassCounts?.[c];
        const testPart = s.testClassCounts?.[c];
        const partGivesBack =
          poolPart !== undefined && testPart !== undefined && poolPart < threshold && testPart >= threshold;
        return counts[i] < threshold || partGivesBack;
      });
      const shown = suppressMasked(counts, hidden, threshold);
      return {
        name: s.site,
        encounters: suppressCount(s.poolEncounters + s.testEncounters, threshold),
        pool,
        test,
        classCounts: classes.map((c) => {
          const i = present.indexOf(c);
          return i < 0 ? "" : shown[i];
        }),
        vocabularySize: s.vocabularySize === undefined ? "" : String(s.vocabularySize),
      };
    }),
  };
}
