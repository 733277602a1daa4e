import { z } from "zod";

/**
 * Settings of the synthetic multi-site world: the one place their defaults live. The defaults give
 * the world behind `npm start`: two sites of 5,000 encounters each, moderate shift, distinct
 * vocabularies (different codes; 40% of texts reworded at the second site).
 */
export const SyntheticSettings = z
  .object({
    seed: z.number().int().default(20240915),
    /** Number of sites; site 0 is the "reference" site that writes codes and texts the standard way. */
    sites: z.number().int().min(1).max(26).default(2),
    /** Site names (default site-A, site-B, ...). */
    siteNames: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)).optional(),
    /** Encounters per site: one number for all, or one per site. */
    encountersPerSite: z
      .union([z.number().int().positive(), z.array(z.number().int().positive()).min(1)])
      .default(5000),
    /**
     * The amount of distribution shift between sites in [0, 1]: 0 = every site draws from the same
     * latent distribution (only vocabularies differ), 1 = strongly different prevalence, finding
     * rates, age/temperature mix and missingness.
     */
    shift: z.number().min(0).max(1).default(0.3),
    /**
     * Strength of the class signal: 1 = the hand-set class-conditional rates of facts.ts, 0 = findings
     * independent of the class. The default makes influenza-vs-rest about as hard as influenza-dtl
     * (logistic regression AUROC ~0.85 within a site).
     */
    signal: z.number().min(0).max(2).default(0.6),
    /** Share of facts a non-reference site writes with a different surface text (synonym, abbreviation, rewording). */
    textVariation: z.number().min(0).max(1).default(0.4),
    /** Share of facts a non-reference site codes with the reference site's standard code (the rest get local codes). */
    sharedCodeShare: z.number().min(0).max(1).default(0.1),
    /** Findings each site records that no other site has. */
    siteOnlyConcepts: z.number().int().min(0).max(8).default(3),
    /** Baseline probability that a finding is not recorded (missing) for an encounter. */
    missingRate: z.number().min(0).max(0.9).default(0.05),
    /** Probability that an encounter is a repeat visit of an earlier patient of the same site. */
    repeatVisitShare: z.number().min(0).max(0.9).default(0.1),
    /** Periods (seasons) encounters fall in, in time order; used by temporal splits. */
    periods: z.array(z.string().min(1)).min(1).default(["2019-20", "2020-21", "2021-22"]),
  })
  .strict();
export type SyntheticSettings = z.infer<typeof SyntheticSettings>;
export type SyntheticSettingsInput = z.input<typeof SyntheticSettings>;
export const DEFAULT_SYNTHETIC: SyntheticSettings = SyntheticSettings.parse({});
