import { z } from "zod";

/**
 * What a site is made of, as data: which adapter reads it, its files or settings, and how it is split
 * into a training pool and a test set. Experiment specs hold one of these per site, and the CLI's
 * source strings (`eicu:South`, a findings CSV, an event-table folder, `synthetic:A`, `omop:<dir>`)
 * are parsed into the same objects (src/data/sites/source-string.ts), so one registry reads both.
 */

/** A list whose entries must be distinct (a repeated period or hospital is a typo, not a weight). */
function distinct<T extends z.ZodType>(item: T) {
  return z.array(item).superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((v, i) => {
      const k = JSON.stringify(v);
      if (seen.has(k)) ctx.addIssue({ code: "custom", message: `${k} is listed twice`, path: [i] });
      seen.add(k);
    });
  });
}

/** How a site without a separate test file is split into a training pool and a test set. */
export const SplitSpec = z
  .object({
    /** "none": the whole site is a training pool (a site used only as a source needs no test set). */
    kind: z
      .enum(["stratified", "grouped", "temporal", "none"])
      .describe(
        "stratified: by class; grouped: by patient/group id (no group in both parts); temporal: by period; none: all training pool (a site used only as a source).",
      )
      .default("stratified"),
    testFraction: z
      .number()
      .gt(0, "a test set needs encounters (use kind: none for a site without one)")
      .lt(1, "the training pool needs encounters too")
      .describe("Share of the site's encounters in the test set.")
      .default(0.3),
    /** temporal: periods that form the test set (like the paper's test season). */
    testPeriods: distinct(z.string()).describe("temporal: the periods that form the test set.").optional(),
    /** Seed of the site split (fixed across experiment seeds so all arms share one test set). */
    seed: z
      .number()
      .int()
      .describe("Seed of the site split, fixed across experiment seeds so every arm shares one test set.")
      .default(20240913),
  })
  .strict();
export type SplitSpec = z.infer<typeof SplitSpec>;

const common = {
  /** Adapter-specific options, validated by the adapter's own schema when the site is loaded. */
  options: z
    .record(z.string(), z.unknown())
    .describe("Adapter-specific options, validated by the adapter when the site is loaded.")
    .optional(),
  split: SplitSpec.describe(
    "How the site is split into training pool and test set (without a separate test file).",
  ).optional(),
};

export const SiteSpec = z.discriminatedUnion("adapter", [
  z
    .object({
      adapter: z.literal("findings").describe("The seed paper's findings table: one CSV row per encounter."),
      /** Training pool (one findings CSV). */
      train: z
        .string()
        .describe("Training pool: one findings CSV (path relative to the spec, or shared:...)."),
      /** Held-out test file; without it the training pool is split by `split`. */
      test: z
        .string()
        .describe("Held-out test CSV; without it the training pool is split by split.")
        .optional(),
      catalog: z.string().describe("Concept catalog: one `code: text` line per concept (and level)."),
      ...common,
    })
    .strict(),
  z
    .object({
      adapter: z
        .literal("event-table")
        .describe(
          "The generic site format: events (encounter_id, code, text[, value, value_text, time]) and labels (encounter_id, label[, group, period, time]). A code must always carry the same text (a row giving a known code another text is refused).",
        ),
      /** events.csv / .csv.gz / .parquet; or give `dir` holding events.* and labels.*. */
      events: z.string().describe("events.csv / .csv.gz / .parquet (or give dir).").optional(),
      labels: z
        .string()
        .describe("labels.csv with encounter_id, label and optional group, period, time (or give dir).")
        .optional(),
      dir: z.string().describe("A folder holding events.* and labels.*.").optional(),
      /** Held-out test set: a folder with its own events.* and labels.*; without it the pool is split by `split`. */
      testDir: z
        .string()
        .describe(
          "Held-out test set: a folder with its own events.* and labels.*; without it the pool is split by split.",
        )
        .optional(),
      ...common,
    })
    .strict()
    .refine(
      (s) => (s.dir !== undefined) !== (s.events !== undefined && s.labels !== undefined),
      "an event-table site needs either `dir` or both `events` and `labels`",
    ),
  z
    .object({
      adapter: z
        .literal("eicu")
        .describe("The eICU Collaborative Research Database demo's gzipped CSVs, read directly."),
      dir: z.string().describe("Folder of the eICU demo CSVs.").default("shared:eicu-demo"),
      region: z
        .string()
        .describe("Hospitals of one region (Midwest, South, West, Northeast) form the site.")
        .optional(),
      hospitals: distinct(z.number().int())
        .describe("Hospital ids that form the site (instead of region).")
        .optional(),
      ...common,
    })
    .strict(),
  z
    .object({
      adapter: z
        .literal("synthetic")
        .describe("A site of the built-in synthetic multi-site world (offline, seeded)."),
      /** Settings of the synthetic world (see data/synthetic); the same world object for every site of a spec. */
      world: z
        .record(z.string(), z.unknown())
        .describe(
          "Settings of the synthetic world (data/synthetic); give every site of a spec the same object.",
        )
        .default({}),
      /** Which site of the world: its name or index. */
      site: z
        .union([z.string(), z.number().int().nonnegative("site indexes start at 0")])
        .describe("Which site of the world: its name or index."),
      ...common,
    })
    .strict(),
  z
    .object({
      adapter: z
        .literal("omop")
        .describe(
          "An OMOP CDM 5.3/5.4 database: a folder of CSV/Parquet tables (DuckDB) or a PostgreSQL schema, set in options.",
        ),
      ...common,
    })
    .strict(),
]);
export type SiteSpec = z.infer<typeof SiteSpec>;
export type AdapterName = SiteSpec["adapter"];
