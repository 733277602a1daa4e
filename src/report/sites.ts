import type { SiteSummary } from "./provenance.js";
import { suppressCategories, suppressCount } from "./suppress.js";

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

export function sitesView(sites: readonly SiteSummary[], threshold: number): SitesView {
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
