import type { SiteSummary } from "./provenance.js";
import { suppressCategories, suppressCount } from "./suppress.js";

/** Per-site data summary for display and export: every count of people goes through suppression. */
export interface SiteRowView {
  name: string;
  role: string;
  encounters: string;
  /** Display count per class, in `classes` order ("" when the site has no count for that class). */
  classCounts: string[];
  concepts: string;
  vocabularySize: string;
  meanTokensPerEncounter: string;
}

export interface SitesView {
  classes: string[];
  rows: SiteRowView[];
}

export function sitesView(sites: readonly SiteSummary[], threshold: number): SitesView {
  const classes = [...new Set(sites.flatMap((s) => Object.keys(s.classCounts ?? {})))].sort();
  return {
    classes,
    rows: sites.map((s) => {
      const present = classes.filter((c) => s.classCounts?.[c] !== undefined);
      const shown = suppressCategories(
        present.map((c) => s.classCounts![c]),
        threshold,
      );
      return {
        name: s.name,
        role: s.role ?? "",
        encounters: suppressCount(s.encounters, threshold),
        classCounts: classes.map((c) => {
          const i = present.indexOf(c);
          return i < 0 ? "" : shown[i];
        }),
        // Concept and vocabulary sizes count codes, not people: no suppression needed.
        concepts: s.concepts === undefined ? "" : String(s.concepts),
        vocabularySize: s.vocabularySize === undefined ? "" : String(s.vocabularySize),
        meanTokensPerEncounter: s.meanTokensPerEncounter === undefined ? "" : s.meanTokensPerEncounter.toFixed(1),
      };
    }),
  };
}
