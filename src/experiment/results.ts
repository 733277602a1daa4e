import { z } from "zod";

/**
 * The results store: one JSON line per finished grid cell. The report, statistics and resume logic
 * read this. Predictions are kept (labels and scores only, in test-set order, no encounter ids) so
 * paired tests and bootstrap CIs can be computed later; they never reach a report.
 */
export const CellKey = z.object({
  /** Stable id: hash of the cell's settings; a rerun skips cells whose id is already stored. */
  id: z.string(),
  scenario: z.string(),
  /** "cnn" (the paper's concept CNN) or "logistic" (the baseline on the mean token embedding). */
  model: z.enum(["cnn", "logistic"]).default("cnn"),
  /** Embedding name as the spec calls it, e.g. "onehot", "bert", "hashing". */
  embedding: z.string(),
  /** Source site (absent for target-only scenarios such as `local`). */
  source: z.string().optional(),
  target: z.string(),
  /** Target training encounters used ("all" = every one). */
  targetSize: z.union([z.number().int().positive(), z.literal("all")]),
  seed: z.number().int(),
  /** Task name, e.g. "influenza-vs-rest" or "4-class". */
  task: z.string(),
  /** Optional recalibration applied after transfer. */
  recalibration: z.enum(["none", "intercept", "logistic"]).default("none"),
});
export type CellKey = z.infer<typeof CellKey>;

export const MetricSummary = z.object({
  auroc: z.number(),
  aurocCI: z.tuple([z.number(), z.number()]).optional(),
  auprc: z.number().optional(),
  brier: z.number().optional(),
  logLoss: z.number().optional(),
  accuracy: z.number().optional(),
  ece: z.number().optional(),
  calibrationIntercept: z.number().optional(),
  calibrationSlope: z.number().optional(),
  /** Per-class one-vs-rest AUROC for multi-class tasks. */
  perClassAuroc: z.record(z.string(), z.number()).optional(),
});
export type MetricSummary = z.infer<typeof MetricSummary>;

export const CellResult = z.object({
  key: CellKey,
  status: z.enum(["ok", "error"]),
  error: z.string().optional(),
  metrics: MetricSummary.optional(),
  /** Metrics before recalibration, when recalibration was applied. */
  metricsBeforeRecalibration: MetricSummary.optional(),
  /** Test-set labels (class index) and probabilities: binary -> P(positive); multi-class -> row-major N x C. */
  predictions: z
    .object({
      classes: z.array(z.string()),
      labels: z.array(z.number().int()),
      scores: z.array(z.number()),
    })
    .optional(),
  /** Number of training/validation/test encounters (aggregate counts only). */
  counts: z.object({ train: z.number(), validation: z.number(), test: z.number() }).optional(),
  trainSeconds: z.number().optional(),
  bestValidationAuroc: z.number().optional(),
  finishedAt: z.string(),
  codeVersion: z.string(),
});
export type CellResult = z.infer<typeof CellResult>;
